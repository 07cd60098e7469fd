"""Gee et al.'s three int8 settings as the paper runs them (the reproduce preset maps to these):

* BERT_DQ = ``quant-int8-dynamic-fbgemm`` (``quantize.py``): torch's per-tensor ``quantize_dynamic``.
* BERT_SQ = ``quant-int8-static-trainset``: static post-training int8 (PT2E, x86 inductor quantizer),
  calibrated on the whole training split of the profile, not a sample.
* BERT_QAT = ``quant-int8-qat-pretrained``: fake-quant (x86 inductor quantizer, QAT mode) inserted into
  the *pretrained* model with a fresh task head (for a task trained from scratch: the randomly
  initialised architecture), trained on the task for the dense model's budget (``epochs``, not
  ``recipe_epochs``), then converted to static int8. It replaces fine-tuning, so it is compared with a
  dense model trained for the same budget.

Kernels: the converted graph is a q/dq graph; run eagerly it computes in fp32 (simulated int8). With
``int8_compile`` (budget key, default on) an image model is compiled by inductor with freezing, which
lowers the q/dq patterns to oneDNN int8 convolutions and matmuls (real int8 kernels on x86 CPUs), for
the evaluation's batch shapes, and the record's throughput is that of the compiled model (compiled and
warmed up before timing). Text models are not compiled (each batch has its own padded length, so each
would compile anew), and when compilation is off or fails the notes say the model was simulated and
that its throughput is no int8 latency; ``meta["int8_kernels"]`` is "real" or "simulated".

The torchao rows (``quant-int8-dynamic``: per-token/per-row; ``quant-int8-static``: 256 calibration rows;
``quant-int8-qat``: dynamic fake-quant on the fine-tuned model) remain as their own settings.
"""
from __future__ import annotations

import time

import torch
from accelerate.utils import set_seed

from benchmark.models.bundle import Bundle
from benchmark.models.training import TrainConfig
from benchmark.models.zoo import build_dense
from benchmark.recipes.base import CLASSIFIERS, RecipeContext, register_recipe
from benchmark.recipes.quantize import (ExportedClassifier, _dynamic_shapes, _InputsToLogits, _record,
                                        _tidy_converted_graph, calibration_batches, quantize_int8_static)

SIMULATED = ("simulated int8: the q/dq graph runs eagerly with fp32 kernels, so examples_per_second is "
             "no int8 latency")


def compile_int8(model: ExportedClassifier, examples: list[dict[str, torch.Tensor]]) -> tuple[bool, str]:
    """Compile the converted graph with inductor freezing (oneDNN int8 kernels) for the input shapes of
    ``examples`` (static shapes: the prepacked int8 convolutions do not lower with symbolic ones) and
    run each once, so timing excludes compilation; (True, how long) or (False, why not)."""
    import torch._inductor.config as inductor_config
    start = time.perf_counter()
    compiled = torch.compile(model.graph, dynamic=False)
    try:
        # freezing through the config (compile's options= does not reach the int8 prepack folding);
        # patched only while the shapes compile, so no global setting leaks into later recipes
        with inductor_config.patch(freezing=True), torch.inference_mode():
            for example in examples:
                compiled(example)
    except Exception as exc:   # no x86 int8 lowering here: keep the eager graph, say so
        return False, f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
    model.graph = compiled
    return True, f"{time.perf_counter() - start:.0f} s to compile {len(examples)} shape(s)"


def evaluation_shapes(ctx: RecipeContext, example: dict[str, torch.Tensor]) -> list[dict[str, torch.Tensor]] | str:
    """``example`` resized to every batch size the evaluation will feed (full batches and the last
    one), or why that cannot be known in advance (token inputs: each batch has its own length)."""
    if any(not v.is_floating_point() for v in example.values()):
        return "text batches are padded to their own length, so every batch would compile anew"
    size, n = int(ctx.budget.get("eval_batch_size", 64)), len(ctx.data.test)
    sizes = sorted({min(size, n)} | ({n % size} if n % size else set()))
    return [{k: v[torch.arange(b) % len(v)] for k, v in example.items()} for b in sizes]


def _kernels(ctx: RecipeContext, bundle: Bundle, example: dict[str, torch.Tensor]) -> str:
    bundle.meta["int8_kernels"] = "simulated"
    if not ctx.budget.get("int8_compile", True):
        return SIMULATED + " (int8_compile off)"
    shapes = evaluation_shapes(ctx, example)
    if isinstance(shapes, str):
        return f"{SIMULATED} (not compiled: {shapes})"
    ok, detail = compile_int8(bundle.model, shapes)
    if ok:
        bundle.meta["int8_kernels"] = "real"
        return f"real int8 kernels: inductor-compiled with freezing (oneDNN), {detail}; throughput measured compiled"
    return f"{SIMULATED} (torch.compile failed: {detail})"


def _int8_weights(bundle: Bundle) -> list[str]:
    return [name for name, t in bundle.model.state_dict().items() if t.dtype == torch.int8]


@register_recipe("quant-int8-static-trainset", family="quantization", applies_to=CLASSIFIERS,
                 params={"calibration_batch_size": 64},
                 description="Gee et al.'s SQ: static int8 (PT2E, x86 inductor quantizer) on Conv2d and Linear, "
                             "calibrated on the whole training split; inductor int8 kernels where they compile.")
def int8_static_trainset(ctx: RecipeContext, calibration_batch_size: int) -> Bundle:
    bundle = ctx.dense.clone()
    batches = calibration_batches(ctx, len(ctx.train_split), calibration_batch_size)
    bundle.model = quantize_int8_static(bundle.model, batches)
    kernels = _kernels(ctx, bundle, batches[0])
    int8 = _int8_weights(bundle)
    return _record(bundle, dtype="int8", method="int8-static-trainset", quantized=int8,
                   notes=f"static int8, {len(int8)} int8 Conv/Linear weights, calibrated on all "
                         f"{len(ctx.train_split)} training rows; {kernels}")


@register_recipe("quant-int8-qat-pretrained", family="quantization", applies_to=CLASSIFIERS,
                 description="Gee et al.'s QAT: x86 static fake-quant inserted into the pretrained model, trained on "
                             "the task for the dense budget, converted to static int8.")
def int8_qat_pretrained(ctx: RecipeContext) -> Bundle:
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_qat_pt2e
    import torchao.quantization.pt2e.quantizer.x86_inductor_quantizer as xiq

    spec = ctx.data.spec
    set_seed(ctx.seed)   # the fresh head as the dense model's own (benchmark.dense.get_dense)
    start = build_dense(spec.dense_model, spec.family, spec.num_labels)
    example = calibration_batches(ctx, 8, 4)[0]
    start.model.train()
    exported = torch.export.export(_InputsToLogits(start.model), (example,),
                                   dynamic_shapes=(_dynamic_shapes(start.model, example),))
    quantizer = xiq.X86InductorQuantizer().set_global(xiq.get_default_x86_inductor_quantization_config(is_qat=True))
    prepared = prepare_qat_pt2e(exported.module(), quantizer)
    bundle = Bundle(ExportedClassifier(prepared, example.keys()), start.processor, start.family,
                    {**start.meta, "init": "pretrained"})
    fake_quant = sum("FakeQuant" in type(m).__name__ for m in prepared.modules())
    dense_budget = TrainConfig.from_budget(ctx.budget)   # the dense fine-tune's epochs, lr, batch size
    ctx.fine_tune(bundle, desc="qat", epochs=dense_budget.epochs)
    bundle.model.eval()
    graph = convert_pt2e(bundle.model.graph)
    _tidy_converted_graph(graph)
    bundle.model = ExportedClassifier(graph, example.keys())
    kernels = _kernels(ctx, bundle, example)
    int8 = _int8_weights(bundle)
    bundle.meta["fake_quantizers"] = fake_quant
    return _record(bundle, dtype="int8", method="int8-qat-pretrained", quantized=int8,
                   notes=f"QAT from the pretrained model: {fake_quant} fake-quantizers trained "
                         f"{dense_budget.epochs:g} epoch(s) (the dense budget), converted to static int8 "
                         f"({len(int8)} int8 weights); {kernels}")
