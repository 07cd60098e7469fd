"""The quantization recipes on the tiny contexts, and the plain quantize steps on small modules."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn
from torchao.utils import TorchAOBaseTensor

from benchmark.errors import BenchmarkError, RecipeUnavailable
from benchmark.metrics.efficiency import saved_bytes
from benchmark.models.inference import predict_logits
from benchmark.recipes import RECIPES
from benchmark.recipes.base import CLASSIFIERS
from benchmark.recipes.quantize import (ExportedClassifier, LogitsOutput, convert_qat, linear_filter, prepare_qat,
                                        quantize_int4_weight_only, quantize_int8_dynamic,
                                        quantize_int8_static, quantize_int8_weight_only)
from conftest import tiny_context

QUANT = RECIPES.names("quant-*")
CASES = [(family, name) for name in QUANT for family in CLASSIFIERS   # decoder_lm: tested by its own track
         if family in RECIPES.get(name).applies_to and not RECIPES.get(name).unavailable_reason()]

_BUILT: dict = {}


def quantized(family: str, name: str, **budget):
    """(context, bundle) for one setting, built once per session (several tests read the same one)."""
    key = (family, name, tuple(sorted(budget.items())))
    if key not in _BUILT:
        ctx = tiny_context(family)
        ctx.budget.update(budget)
        _BUILT[key] = (ctx, RECIPES.get(name).apply(ctx))
    return _BUILT[key]


def logits(ctx, bundle) -> np.ndarray:
    return predict_logits(bundle, ctx.data.test, ctx.inputs, batch_size=64,
                          max_length=int(ctx.budget.get("max_length", 128)))


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    return float((a.argmax(1) == b.argmax(1)).mean())


@pytest.mark.parametrize("family,name", CASES, ids=[f"{f}-{n}" for f, n in CASES])
def test_every_setting_gives_finite_logits_and_saves(family, name):
    ctx, bundle = quantized(family, name, recipe_epochs=0.25)
    out = logits(ctx, bundle)
    assert out.shape == (len(ctx.data.test), ctx.data.spec.num_labels)
    assert np.isfinite(out).all()
    assert saved_bytes(bundle.model) > 0          # torch.save(state_dict) works for every setting
    assert bundle.meta["dtype"] and bundle.meta["notes"]


def test_every_setting_says_where_it_applies():
    # Linear-only schemes would touch only a ResNet's head, so they leave conv nets out.
    for name in QUANT:
        recipe = RECIPES.get(name)
        assert recipe.family == "quantization" and recipe.description
        if "resnet" not in recipe.applies_to and set(recipe.applies_to) & set(CLASSIFIERS):
            assert "conv" in recipe.description.lower()
    assert "resnet" in RECIPES.get("quant-int8-static").applies_to


def test_int8_dynamic_agrees_with_dense_and_shrinks_tiny_bert():
    ctx, bundle = quantized("encoder_cls", "quant-int8-dynamic", recipe_epochs=0.25)
    assert agreement(logits(ctx, bundle), logits(ctx, ctx.dense)) >= 0.9
    assert saved_bytes(bundle.model) < saved_bytes(ctx.dense.model)
    layers = bundle.meta["quantization"]["quantized"]
    assert "classifier" in layers and len(layers) == sum(isinstance(m, nn.Linear) for m in ctx.dense.model.modules())


def _linear_stack() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 32))


@pytest.mark.parametrize("quantize", [quantize_int8_dynamic, quantize_int8_weight_only])
def test_int8_quarters_a_linear_heavy_model(quantize):
    dense = _linear_stack()
    x = torch.randn(8, 256)
    expected = dense(x)
    model = quantize(_linear_stack())
    assert saved_bytes(model) < 0.35 * saved_bytes(dense)
    assert torch.allclose(model(x), expected, atol=0.05, rtol=0.05)


def test_int4_packs_and_leaves_the_rest_of_the_model_in_its_dtype():
    torch.manual_seed(0)
    dense = nn.Sequential(nn.Linear(256, 256), nn.Linear(256, 3))
    x = torch.randn(4, 256)
    expected = dense(x)
    model = quantize_int4_weight_only(copy.deepcopy(dense))
    assert isinstance(model[0].weight, TorchAOBaseTensor)
    assert type(model[1].weight) is nn.Parameter and model[1].weight.dtype == torch.float32   # N=3 stays fp32
    out = model(x)                                   # fp32 in, fp32 out: the int4 layer casts around its kernel
    assert out.dtype == torch.float32 and torch.allclose(out, expected, atol=0.05, rtol=0.05)
    int4_layer_bytes = saved_bytes(model[0])
    assert int4_layer_bytes < 0.5 * saved_bytes(nn.Linear(256, 256).to(torch.bfloat16))


def test_int4_keeps_the_bert_head_dense():
    ctx, bundle = quantized("encoder_cls", "quant-int4-weight-only", recipe_epochs=0.25)
    assert not isinstance(bundle.model.classifier.weight, TorchAOBaseTensor)
    assert isinstance(bundle.model.bert.encoder.layer[0].intermediate.dense.weight, TorchAOBaseTensor)
    assert agreement(logits(ctx, bundle), logits(ctx, ctx.dense)) >= 0.9


def test_a_model_without_fitting_layers_is_refused():
    with pytest.raises(BenchmarkError, match="shape limits"):
        quantize_int4_weight_only(nn.Sequential(nn.Linear(256, 3)))


def test_tied_weights_are_left_alone():
    embedding, head = nn.Embedding(64, 32), nn.Linear(32, 64, bias=False)
    head.weight = embedding.weight
    model = nn.ModuleDict({"embedding": embedding, "head": head, "other": nn.Linear(32, 32)})
    accept = linear_filter(model)
    assert not accept(head, "head") and accept(model["other"], "other")


@pytest.mark.parametrize("name,dtype", [("quant-bf16", torch.bfloat16), ("quant-fp16", torch.float16)])
def test_half_precision_halves_bytes(name, dtype):
    ctx, bundle = quantized("encoder_cls", name, recipe_epochs=0.25)
    assert {p.dtype for p in bundle.model.parameters()} == {dtype}
    assert 0.45 < saved_bytes(bundle.model) / saved_bytes(ctx.dense.model) < 0.55
    assert agreement(logits(ctx, bundle), logits(ctx, ctx.dense)) >= 0.9


def test_qat_trains_then_converts():
    ctx, bundle = quantized("encoder_cls", "quant-int8-qat", recipe_epochs=0.25)
    untrained = convert_qat(prepare_qat(ctx.dense.clone().model))   # same quantizer, no fine-tuning
    linear_names = [n for n, m in ctx.dense.model.named_modules() if isinstance(m, nn.Linear)]
    assert bundle.meta["quantization"]["quantized"] == linear_names    # every Linear converted
    assert "FakeQuantized" not in " ".join(type(m).__name__ for m in bundle.model.modules())
    trained_w = bundle.model.get_submodule(linear_names[0]).weight.dequantize()
    untrained_w = untrained.get_submodule(linear_names[0]).weight.dequantize()
    assert not torch.equal(trained_w, untrained_w)


def test_static_int8_calibrates_and_drops_fp32_copies():
    ctx, bundle = quantized("encoder_cls", "quant-int8-static", recipe_epochs=0.25)
    assert isinstance(bundle.model, ExportedClassifier)
    state = bundle.model.state_dict()
    int8 = [k for k, v in state.items() if v.dtype == torch.int8]
    assert len(int8) == sum(isinstance(m, nn.Linear) for m in ctx.dense.model.modules())
    # The fp32 originals of the int8 weights are gone: every Linear weight is stored once, in int8.
    assert not any(k.endswith("intermediate.dense.weight") for k in state)
    assert saved_bytes(bundle.model) < saved_bytes(ctx.dense.model)
    assert agreement(logits(ctx, bundle), logits(ctx, ctx.dense)) >= 0.9
    single = predict_logits(bundle, ctx.data.test.subset([0]), ctx.inputs)   # the batch dim is dynamic
    assert single.shape == (1, ctx.data.spec.num_labels) and np.isfinite(single).all()


def test_static_int8_on_a_small_convnet():
    torch.manual_seed(0)
    convnet = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                            nn.Flatten(), nn.Linear(8, 4)).eval()

    class Classifier(nn.Module):       # the HF interface the families call: model(**inputs).logits
        def __init__(self):
            super().__init__()
            self.net = convnet

        def forward(self, pixel_values):
            return LogitsOutput(logits=self.net(pixel_values))

    batches = [{"pixel_values": torch.randn(4, 3, 8, 8)} for _ in range(3)]
    model = quantize_int8_static(Classifier(), batches)
    x = torch.randn(5, 3, 8, 8)
    assert model(pixel_values=x).logits.shape == (5, 4)
    assert sum(v.dtype == torch.int8 for v in model.state_dict().values()) == 2   # conv + linear


def test_cuda_int4_reports_its_reason_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    recipe = RECIPES.get("quant-int4-weight-only-cuda")
    assert "CUDA" in recipe.unavailable_reason()
    assert recipe.describe()["unavailable"]
    with pytest.raises(RecipeUnavailable, match="CUDA"):
        recipe.apply(tiny_context("encoder_cls"))


def test_gee_preset_maps_to_gees_three_int8_settings():
    from benchmark.reproduce.gee2023 import SETTINGS
    recipes = {s.label: s.recipe for s in SETTINGS}
    assert recipes["BERT_DQ"] == "quant-int8-dynamic-fbgemm"
    assert recipes["BERT_SQ"] == "quant-int8-static-trainset"
    assert recipes["BERT_QAT"] == "quant-int8-qat-pretrained"


def test_static_trainset_calibrates_on_every_training_row_and_says_it_is_simulated(monkeypatch):
    from benchmark.recipes import quantize_gee
    seen = []
    real = quantize_gee.quantize_int8_static
    monkeypatch.setattr(quantize_gee, "quantize_int8_static",
                        lambda model, batches: seen.extend(batches) or real(model, batches))
    ctx, bundle = quantized("resnet", "quant-int8-static-trainset")
    assert sum(len(b["pixel_values"]) for b in seen) == len(ctx.train_split)
    assert any(v.dtype == torch.int8 for v in bundle.model.state_dict().values())
    assert "simulated int8" in bundle.meta["notes"] and "no int8 latency" in bundle.meta["notes"]


def test_qat_from_pretrained_trains_with_fake_quant_active_for_the_dense_budget(monkeypatch):
    from benchmark.recipes.base import RecipeContext
    seen = {}
    real = RecipeContext.fine_tune

    def spy(self, bundle, **kwargs):
        quantizers = [m for m in bundle.model.modules() if hasattr(m, "fake_quant_enabled")]
        seen.update(quantizers=len(quantizers), enabled=all(int(m.fake_quant_enabled[0]) == 1 for m in quantizers),
                    epochs=kwargs.get("epochs"), scales=[m.scale.clone() for m in quantizers])
        out = real(self, bundle, **kwargs)
        seen["moved"] = any(not torch.equal(a, m.scale) for a, m in zip(
            seen["scales"], [m for m in bundle.model.modules() if hasattr(m, "fake_quant_enabled")]))
        return out

    monkeypatch.setattr(RecipeContext, "fine_tune", spy)
    ctx = tiny_context("encoder_cls")
    bundle = RECIPES.get("quant-int8-qat-pretrained").apply(ctx)
    assert seen["quantizers"] > 0 and seen["enabled"] and seen["moved"]   # fake-quant on, observers learned ranges
    assert seen["epochs"] == ctx.budget["epochs"] != ctx.budget["recipe_epochs"]   # the dense budget
    n_linear = sum(isinstance(m, nn.Linear) for m in ctx.dense.model.modules())
    assert sum(v.dtype == torch.int8 for v in bundle.model.state_dict().values()) == n_linear
    assert np.isfinite(logits(ctx, bundle)).all()


def test_compiled_int8_runs_on_inductor_kernels_and_matches_the_graph():
    from benchmark.recipes.quantize_gee import compile_int8
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3)).eval()

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, pixel_values):
            return LogitsOutput(logits=self.net(pixel_values))

    model = quantize_int8_static(Classifier(), [{"pixel_values": torch.randn(4, 3, 8, 8)} for _ in range(2)])
    x = {"pixel_values": torch.randn(5, 3, 8, 8)}
    eager = model(**x).logits
    ok, detail = compile_int8(model, [x])
    assert ok, detail
    assert torch.allclose(model(**x).logits, eager, atol=1e-3)


def test_torchao_qat_trains_with_fake_quant_active(monkeypatch):
    from benchmark.recipes.base import RecipeContext
    seen = {}
    real = RecipeContext.fine_tune

    def spy(self, bundle, **kwargs):
        fake = [m for m in bundle.model.modules() if "FakeQuantized" in type(m).__name__]
        seen.update(fake=len(fake), enabled=all(getattr(m.weight_fake_quantizer, "enabled", True) for m in fake))
        return real(self, bundle, **kwargs)

    monkeypatch.setattr(RecipeContext, "fine_tune", spy)
    ctx = tiny_context("encoder_cls")
    ctx.budget.update(recipe_epochs=0.25)
    RECIPES.get("quant-int8-qat").apply(ctx)
    assert seen["fake"] == sum(isinstance(m, nn.Linear) for m in ctx.dense.model.modules()) and seen["enabled"]
