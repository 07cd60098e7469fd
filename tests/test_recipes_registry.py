"""timm-style: every registered recipe, on the tiny model of each family it declares, produces a
model that the evaluator scores. A new recipe is tested the moment it is registered."""
import numpy as np
import pytest

from benchmark.errors import RecipeUnavailable
from benchmark.evaluator import evaluate
from benchmark.metrics.catalog import METRICS
from benchmark.metrics.efficiency import parameter_counts, saved_bytes
from benchmark.models.inference import predict_logits
from benchmark.recipes import RECIPES
from conftest import TINY_TASKS, tiny_context

CASES = [(name, family) for name in RECIPES.names() for family in RECIPES.get(name).applies_to
         if family in TINY_TASKS and family != "decoder_lm"]


def test_registry_has_enough_settings():
    assert len(RECIPES) >= 18
    families = {RECIPES.get(n).family for n in RECIPES.names()}
    assert {"distillation", "pruning", "quantization", "fairness", "vocabulary", "reference"} <= families


def test_config_hashes_are_unique_and_stable():
    hashes = {RECIPES.get(n).config_hash() for n in RECIPES.names()}
    assert len(hashes) == len(RECIPES)
    assert all(RECIPES.get(n).config_hash() == RECIPES.get(n).config_hash() for n in RECIPES.names())


@pytest.mark.parametrize("name,family", CASES, ids=[f"{n}[{f}]" for n, f in CASES])
def test_recipe_produces_a_scorable_model(name, family):
    recipe = RECIPES.get(name)
    ctx = tiny_context(family)
    dense_params = [p.detach().clone() for p in ctx.dense.model.parameters()]
    reason = recipe.unavailable_reason()
    if reason:
        with pytest.raises(RecipeUnavailable):
            recipe.apply(ctx)
        pytest.skip(f"unavailable here: {reason}")
    try:
        compressed = recipe.apply(ctx)
    except RecipeUnavailable as exc:   # a reason found in the data (e.g. a vocabulary the corpus cannot reach)
        pytest.skip(f"unavailable on this data: {exc}")
    test = ctx.data.test
    logits = predict_logits(compressed, test, ctx.inputs, batch_size=64, max_length=int(ctx.budget.get("max_length", 128)))
    assert logits.shape == (len(test), ctx.data.spec.num_labels) and np.isfinite(logits).all()
    dense_logits = ctx.teacher_logits("test")
    result = evaluate(labels=test.labels, groups=test.groups, group_names=ctx.data.group_names, logits=logits,
                      dense_logits=dense_logits, n_boot=20)
    assert set(result.overall) <= set(METRICS.names())
    assert 0.0 <= result.overall["worst_group_accuracy"] <= result.overall["accuracy"] <= 1.0
    counts = parameter_counts(compressed.model)
    assert counts["parameters"] > 0 and saved_bytes(compressed.model) > 0
    if name != "dense":  # recipes must not modify the shared dense weights
        assert all(torch_equal(a, b) for a, b in zip(dense_params, ctx.dense.model.parameters()))
    CLAIMS[recipe.family](ctx, compressed)   # and each changes what its family claims to change


# What each method family claims to change, checked on every registered setting: a recipe that returns
# the dense model untouched (or compresses nothing) fails here, whatever its name says.
def _same_weights(ctx, bundle) -> bool:
    ours, dense = list(bundle.model.parameters()), list(ctx.dense.model.parameters())
    return len(ours) == len(dense) and all(torch_equal(a, b) for a, b in zip(ours, dense))


def _claims_reference(ctx, bundle):
    assert _same_weights(ctx, bundle)


def _claims_control(ctx, bundle):        # noise-floor controls compress nothing
    assert saved_bytes(bundle.model) >= 0.99 * saved_bytes(ctx.dense.model)


def _claims_fewer_nonzero_weights(ctx, bundle):   # pruning and the pruned fairness recoveries
    assert parameter_counts(bundle.model)["nonzero_parameters"] < parameter_counts(ctx.dense.model)["nonzero_parameters"]


def _claims_smaller_dtype(ctx, bundle):   # int8 / int4 / half precision: the stored model shrinks
    # (by little on tiny-bert, whose fp32 word embeddings dominate and no scheme quantizes)
    assert saved_bytes(bundle.model) < saved_bytes(ctx.dense.model)
    assert bundle.meta.get("dtype") not in (None, "float32")


def _claims_smaller_student(ctx, bundle):
    assert parameter_counts(bundle.model)["parameters"] < parameter_counts(ctx.dense.model)["parameters"]
    assert not _same_weights(ctx, bundle)


def _claims_new_vocabulary(ctx, bundle):
    assert bundle.processor.get_vocab() != ctx.dense.processor.get_vocab()
    assert bundle.model.get_input_embeddings().weight.shape[0] == len(bundle.processor)


def _claims_synthetic_training_set(ctx, bundle):
    report = bundle.meta["report"]
    assert report["fresh_model"]["train_examples"] == report["synthetic_size"] < len(ctx.train_split)
    assert report["synthesis"]["mean_abs_pixel_change"] > 0 and not _same_weights(ctx, bundle)


CLAIMS = {"reference": _claims_reference, "control": _claims_control, "pruning": _claims_fewer_nonzero_weights,
          "fairness": _claims_fewer_nonzero_weights, "quantization": _claims_smaller_dtype,
          "distillation": _claims_smaller_student, "vocabulary": _claims_new_vocabulary,
          "data-distillation": _claims_synthetic_training_set}


def test_every_method_family_has_a_claim_check():
    from benchmark.recipes.base import METHOD_FAMILIES
    assert set(CLAIMS) == set(METHOD_FAMILIES)


def torch_equal(a, b):
    import torch
    return a.shape == b.shape and torch.equal(a, b.detach())
