"""The quick suite's time savers change no number: tokenise once, length-grouped training batches,
and the dense rows scored from the dense cache's own test logits."""
import numpy as np

from benchmark.dense import get_dense
from benchmark.models.families import MODEL_FAMILIES
from benchmark.recipes import RECIPES
from benchmark.runner import reusable_test_logits, score_recipe
from conftest import tiny_context


def test_encoding_is_computed_once_per_split_and_processor(one_thread):
    ctx = tiny_context("encoder_mc")
    family = MODEL_FAMILIES.get("encoder_mc")
    first = family.encoded(ctx.dense, ctx.data.test, ctx.inputs, 48)
    assert family.encoded(ctx.dense, ctx.data.test, ctx.inputs, 48) is first
    assert family.encoded(ctx.dense, ctx.data.test, ctx.inputs, 32) is not first
    assert first == family.encode(ctx.dense, ctx.data.test, ctx.inputs, 48)


def test_length_grouped_batches_cover_every_row_once_and_pad_less(one_thread):
    ctx = tiny_context("encoder_mc")
    family = MODEL_FAMILIES.get("encoder_mc")
    split = ctx.data.train

    def widths(buckets):
        batches = list(family.batches(ctx.dense, split, ctx.inputs, 8, max_length=48, shuffle=True, seed=3,
                                      length_buckets=buckets))
        rows = np.concatenate([b["index"].numpy() for b in batches])
        assert sorted(rows) == list(range(len(split)))
        return [b["input_ids"].shape[-1] for b in batches], rows

    plain, plain_rows = widths(0)
    grouped, grouped_rows = widths(50)
    assert sum(grouped) <= sum(plain)
    again, again_rows = widths(50)
    assert again == grouped and (again_rows == grouped_rows).all()          # seeded


def test_images_are_not_regrouped(one_thread):
    ctx = tiny_context("resnet")
    family = MODEL_FAMILIES.get("resnet")
    rows = lambda k: np.concatenate([b["index"].numpy() for b in family.batches(  # noqa: E731
        ctx.dense, ctx.data.train, ctx.inputs, 16, shuffle=True, seed=1, length_buckets=k)])
    assert (rows(0) == rows(50)).all()


def test_dense_row_reuses_cached_logits_and_a_changed_model_never_does(one_thread):
    ctx = tiny_context("encoder_cls")
    dense = get_dense(ctx.data, ctx.data.spec.dense_model, ctx.budget, ctx.seed)
    metrics, efficiency, arrays = score_recipe(RECIPES.get("dense"), ctx.data, dense, ctx.budget, ctx.seed, n_boot=20)
    np.testing.assert_array_equal(arrays["logits"], dense.test_logits)
    assert metrics["overall"]["flip_rate"] == 0.0 and efficiency["examples_per_second"] > 0
    pruned = dense.bundle.clone()                                   # carries the cache entry, not the flag
    settings = {"batch_size": 64, "max_length": 32}
    assert reusable_test_logits(pruned, settings) is None
    pruned.meta["unchanged_dense"] = True
    assert reusable_test_logits(pruned, {"batch_size": 7, "max_length": 32}) is None   # other settings
