"""Quantization recipes (torchao and torch.ao): int8 dynamic/static/QAT, weight-only int8/int4, and
half-precision casts.

Gee et al. (EMNLP 2023) quantize BERT three ways: dynamic int8 (BERT_DQ), static post-training int8
calibrated on the training set (BERT_SQ) and quantization-aware training (BERT_QAT). Their exact
settings are ``quant-int8-dynamic-fbgemm`` (here) and ``quantize_gee.py``'s ``quant-int8-static-trainset``
and ``quant-int8-qat-pretrained``. The torchao variants below are their own settings:

* ``quant-int8-dynamic``: ``Int8DynamicActivationInt8WeightConfig`` on every ``nn.Linear``.
* ``quant-int8-static``: the PT2E flow (``torch.export`` -> ``prepare_pt2e`` with the x86 inductor
  quantizer -> calibration on a group-stratified sample of the training split -> ``convert_pt2e``).
  It quantizes convolutions as well as Linears, so it is the int8 setting that applies to ResNets.
* ``quant-int8-qat``: ``QATConfig`` fake-quantizes the Linears while the model is fine-tuned for the
  task's ``recipe_epochs``, then converts them to int8 weights with dynamic int8 activations.

Beside them: ``quant-int8-weight-only``, ``quant-int4-weight-only`` (torchao's CPU int4 kernel,
bf16 activations), ``quant-int4-weight-only-cuda`` (the stock CUDA int4 kernel; unavailable
without CUDA) and the casts ``quant-bf16`` / ``quant-fp16``.

Speed: the quantized models run in eager mode, where torchao's int8 kernels are slower than fp32
on the CPUs measured (a speedup needs ``torch.compile`` with inductor freezing), and bf16 is fast
only where the CPU has AMX/AVX512-BF16; ``benchmarks/quantization_speed.py`` measures all of it.
The recipes measure what quantization does to accuracy per group; ``Bundle.meta["notes"]`` says
how each model was run. Sizes are ``torch.save(state_dict)``
bytes: safetensors cannot store torchao tensor subclasses.

The quantize steps are plain functions (``quantize_int8_dynamic(model)`` ...) so other tracks
(decoders) reuse them without a RecipeContext.
"""
from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import warnings

import torch
from torch import nn
from torch.ao.nn.quantized.dynamic import Linear as DynamicQuantizedLinear
from torch.export import Dim
from torchao.quantization import (Int4WeightOnlyConfig, Int8DynamicActivationInt8WeightConfig,
                                  Int8DynamicActivationIntxWeightConfig, Int8WeightOnlyConfig, quantize_)
from torchao.quantization.granularity import PerAxis
from torchao.quantization.qat import QATConfig
from torchao.utils import TorchAOBaseTensor
from transformers.utils import ModelOutput

from benchmark.data.dataset import stratified_subsample
from benchmark.errors import BenchmarkError
from benchmark.models.bundle import Bundle
from benchmark.recipes.base import CLASSIFIERS, ENCODERS, RecipeContext, register_recipe

LINEAR_MODELS = ENCODERS + ("decoder_lm",)     # families whose compute sits in nn.Linear layers
INT4_TILE = 16                                 # int4 kernels pack the output dim in tiles of 16

FilterFn = Callable[[nn.Module, str], bool]


# ---------------------------------------------------------------------------------------------
# Which layers a scheme touches
# ---------------------------------------------------------------------------------------------

def _tied_parameter_ids(model: nn.Module) -> set[int]:
    """Parameters owned by more than one module (e.g. a decoder's lm_head tied to its embedding):
    quantizing the Linear's copy would untie them and store the matrix twice."""
    owners = Counter(id(p) for m in model.modules() for p in m.parameters(recurse=False))
    return {pid for pid, n in owners.items() if n > 1}


def linear_filter(model: nn.Module, *, out_multiple: int = 1, in_multiple: int = 1) -> FilterFn:
    """A ``quantize_`` filter for the model's ``nn.Linear`` layers whose shapes a kernel accepts
    (``out_features % out_multiple == 0``, ``in_features % in_multiple == 0``), tied weights excluded.

    Shape limits matter for int4: BERT's 2-3 way classifier head (N=2..3) must stay dense.
    """
    tied = _tied_parameter_ids(model)

    def accept(module: nn.Module, fqn: str) -> bool:
        return (isinstance(module, nn.Linear) and id(module.weight) not in tied
                and module.out_features % out_multiple == 0 and module.in_features % in_multiple == 0)
    return accept


def quantized_layer_names(model: nn.Module) -> list[str]:
    """Modules whose weight is a torchao quantized tensor, or torch.ao's packed dynamic Linears."""
    return [name for name, m in model.named_modules()
            if isinstance(getattr(m, "weight", None), TorchAOBaseTensor) or isinstance(m, DynamicQuantizedLinear)]


def _linear_names(model: nn.Module) -> list[str]:
    return [name for name, m in model.named_modules() if isinstance(m, nn.Linear)]


def _apply(model: nn.Module, config, filter_fn: FilterFn, what: str) -> nn.Module:
    quantize_(model, config, filter_fn=filter_fn)
    if not quantized_layer_names(model):
        raise BenchmarkError(f"{what}: no nn.Linear layer of {type(model).__name__} fits the kernel's shape limits")
    return model


# ---------------------------------------------------------------------------------------------
# Plain quantize steps (model in, the same model quantized in place out)
# ---------------------------------------------------------------------------------------------
# set_inductor_config=False: torchao would otherwise change global inductor settings on every call,
# which leaks into every later recipe of the same process.

def quantize_int8_dynamic(model: nn.Module) -> nn.Module:
    """int8 per-row weights, int8 per-token activations quantized on the fly (Gee et al.'s DQ)."""
    return _apply(model, Int8DynamicActivationInt8WeightConfig(set_inductor_config=False),
                  linear_filter(model), "int8 dynamic")


def quantize_int8_dynamic_fbgemm(model: nn.Module) -> nn.Module:
    """Dynamic int8 through torch.ao's fbgemm kernels (deprecated API, still shipped in torch 2.13).

    Why it exists beside torchao's: on CPUs without AVX-512/AMX (e.g. AVX2-only EPYC), torchao's eager
    int8 kernels run about 16x slower than fp32 (benchmarks/quantization_speed.py), while fbgemm's
    are faster than fp32. This is the int8 path that is practical on such machines.
    """
    tied = _tied_parameter_ids(model)
    targets = {name for name, m in model.named_modules() if isinstance(m, nn.Linear) and id(m.weight) not in tied}
    if not targets:
        raise BenchmarkError("int8 dynamic (fbgemm): the model has no nn.Linear to quantize")
    with warnings.catch_warnings():  # the deprecation notices name torchao, which is the other recipe
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, targets, dtype=torch.qint8, inplace=True)


def quantize_int8_weight_only(model: nn.Module) -> nn.Module:
    """int8 per-row weights, activations stay in floating point."""
    return _apply(model, Int8WeightOnlyConfig(set_inductor_config=False), linear_filter(model), "int8 weight-only")


def _to_bf16(module: nn.Module, args: tuple) -> tuple:
    return (args[0].to(torch.bfloat16),) + tuple(args[1:])


def _cast_output(module: nn.Module, args: tuple, output: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return output.to(dtype)


def quantize_int4_weight_only(model: nn.Module, group_size: int = 32) -> nn.Module:
    """int4 group-wise weights through torchao's CPU kernel (Int4OpaqueTensor); the rest of the model
    keeps its dtype, as in every weight-only scheme.

    The kernel needs bf16 inputs (fed fp32 it runs ~90x slower), N divisible by 16 and K by the group
    size. So only the quantized Linears see bf16: a hook casts their input to bf16 and their output
    back. Casting the whole model to bf16 instead is 27% slower on CPUs without native bf16 (SmolLM2,
    AVX2) and adds bf16 error everywhere (KL to dense 0.0032 vs 0.0021 on the decoder corpus).
    """
    from torchao.prototype.quantization.int4.inference_workflow import PrototypeInt4WeightOnlyConfig
    accept = linear_filter(model, out_multiple=INT4_TILE, in_multiple=group_size)
    targets = [module for name, module in model.named_modules() if accept(module, name)]
    chosen = {id(module) for module in targets}
    for module in targets:
        dtype = module.weight.dtype
        module.to(torch.bfloat16)
        module.register_forward_pre_hook(_to_bf16)
        module.register_forward_hook(functools.partial(_cast_output, dtype=dtype))
    return _apply(model, PrototypeInt4WeightOnlyConfig(group_size=group_size, set_inductor_config=False),
                  lambda module, fqn: id(module) in chosen, "int4 weight-only")


def quantize_int4_weight_only_cuda(model: nn.Module, group_size: int = 128) -> nn.Module:
    """torchao's stock int4 weight-only path (tinygemm tile-packed kernel): needs CUDA and bf16."""
    reason = cuda_int4_unavailable()
    if reason:
        raise BenchmarkError(reason)
    model.to("cuda", torch.bfloat16)
    config = Int4WeightOnlyConfig(group_size=group_size, int4_packing_format="tile_packed_to_4d",
                                  set_inductor_config=False)
    return _apply(model, config, linear_filter(model, out_multiple=INT4_TILE, in_multiple=group_size),
                  "int4 weight-only (CUDA)")


def cast(model: nn.Module, dtype: torch.dtype) -> nn.Module:
    """Every floating-point parameter and buffer in ``dtype`` (inputs follow: see predict_logits)."""
    return model.to(dtype)


def cuda_int4_unavailable() -> str | None:
    if not torch.cuda.is_available():
        return ("torchao's Int4WeightOnlyConfig kernels are CUDA-only in torchao 0.18 and CUDA is not available; "
                "quant-int4-weight-only runs int4 on the CPU")
    return None


# QAT: Int8DynamicActivationInt8WeightConfig is not a QATConfig base; this config is its QAT-capable
# counterpart (int8 per-channel weights, int8 per-token dynamic activations).
QAT_BASE = Int8DynamicActivationIntxWeightConfig(weight_dtype=torch.int8, weight_granularity=PerAxis(0))


def prepare_qat(model: nn.Module) -> nn.Module:
    """Swap every Linear for a FakeQuantizedLinear (int8 weights and activations simulated in training)."""
    quantize_(model, QATConfig(QAT_BASE, step="prepare"), filter_fn=linear_filter(model))
    return model


def convert_qat(model: nn.Module) -> nn.Module:
    """Turn the fake-quantized Linears back into Linears with real int8 weights."""
    model.eval()
    return _apply(model, QATConfig(QAT_BASE, step="convert"), linear_filter(model), "QAT convert")


# ---------------------------------------------------------------------------------------------
# Static int8 through PT2E: the exported graph, wrapped to answer like a Hugging Face model
# ---------------------------------------------------------------------------------------------

@dataclass
class LogitsOutput(ModelOutput):
    logits: torch.Tensor | None = None


class _InputsToLogits(nn.Module):
    """Export target: one dict of model inputs in, logits out."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.model(**inputs).logits


class ExportedClassifier(nn.Module):
    """A quantized ``torch.export`` graph behind the ``model(**inputs).logits`` interface the
    model families call, so the trainer-free evaluation path needs no special case."""

    def __init__(self, graph: torch.fx.GraphModule, input_names: Iterable[str]):
        super().__init__()
        from torchao.quantization.pt2e import allow_exported_model_train_eval
        self.graph = allow_exported_model_train_eval(graph)   # predict_logits calls .eval()
        self.input_names = tuple(input_names)

    def forward(self, **inputs: torch.Tensor) -> LogitsOutput:
        return LogitsOutput(logits=self.graph({k: inputs[k] for k in self.input_names}))


def _dynamic_shapes(model: nn.Module, example: dict[str, torch.Tensor]) -> dict[str, dict[int, Any]]:
    """Batch is dynamic for every input; token inputs also get a dynamic length, up to the model's
    position limit (multiple-choice inputs keep their fixed number of choices)."""
    batch = Dim("batch", min=1, max=1 << 16)
    max_positions = getattr(getattr(model, "config", None), "max_position_embeddings", 512)
    length = Dim("length", min=2, max=max_positions)   # HF BERT guards length >= 2 ([CLS] ... [SEP])
    return {k: ({0: batch, v.ndim - 1: length} if not v.is_floating_point() else {0: batch})
            for k, v in example.items()}


def _tidy_converted_graph(graph: torch.fx.GraphModule) -> None:
    """convert_pt2e folds int8 copies of the weights into the graph as buffers but leaves the fp32
    originals attached. Drop every tensor no node reads, so saved bytes reflect the int8 model, and
    hold the int8 weights as (frozen) parameters, so parameter counts still see them."""
    used = {node.target for node in graph.graph.nodes if node.op == "get_attr"}
    for name in list(graph.state_dict()):
        owner_name, _, attr = name.rpartition(".")
        owner = graph.get_submodule(owner_name)
        if name not in used:
            owner._parameters.pop(attr, None)
            owner._buffers.pop(attr, None)
        elif owner._buffers.get(attr) is not None and owner._buffers[attr].dtype == torch.int8:
            owner._parameters[attr] = nn.Parameter(owner._buffers.pop(attr), requires_grad=False)
    graph.delete_all_unused_submodules()


def quantize_int8_static(model: nn.Module, calibration: Iterable[dict[str, torch.Tensor]]) -> ExportedClassifier:
    """Static int8 (PT2E): export, insert observers, run ``calibration`` batches, convert.

    ``calibration`` yields dicts of model inputs (the first also serves as the export example, so
    it needs at least 2 rows). Conv and Linear weights become int8 per-channel, activations int8
    per-tensor with calibrated ranges; embeddings and normalisation stay fp32.
    """
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
    import torchao.quantization.pt2e.quantizer.x86_inductor_quantizer as xiq

    batches = iter(calibration)
    example = next(batches)
    model.eval()
    try:
        exported = torch.export.export(_InputsToLogits(model), (example,),
                                       dynamic_shapes=(_dynamic_shapes(model, example),))
    except Exception as exc:  # an architecture torch.export cannot trace: say which and why
        raise BenchmarkError(f"torch.export failed for {type(model).__name__}: {str(exc).splitlines()[0]}") from exc
    quantizer = xiq.X86InductorQuantizer().set_global(xiq.get_default_x86_inductor_quantization_config())
    prepared = prepare_pt2e(exported.module(), quantizer)
    with torch.no_grad():
        prepared(example)
        for batch in batches:
            prepared(batch)
    graph = convert_pt2e(prepared)
    _tidy_converted_graph(graph)
    return ExportedClassifier(graph, example.keys())


def calibration_batches(ctx: RecipeContext, examples: int, batch_size: int) -> list[dict[str, torch.Tensor]]:
    """Model inputs for a group-stratified sample of the training split (every group is seen)."""
    split = ctx.train_split.subset(stratified_subsample(ctx.train_split.groups, examples, ctx.seed))
    max_length = int(ctx.budget.get("max_length", 128))
    non_inputs = ("labels", "groups", "index")
    return [{k: v for k, v in batch.items() if k not in non_inputs}
            for batch in ctx.family.batches(ctx.dense, split, ctx.inputs, batch_size, max_length=max_length,
                                            shuffle=True, seed=ctx.seed)]


# ---------------------------------------------------------------------------------------------
# Recipes
# ---------------------------------------------------------------------------------------------

EAGER_NOTE = "eager torchao kernels, slower than fp32 on the CPUs measured (int8 speed needs torch.compile(freezing))"


def _record(bundle: Bundle, *, dtype: str, method: str, quantized: list[str] | str, notes: str) -> Bundle:
    """Say in the bundle what was quantized: ``quantized`` names the layers/weights, or "all"."""
    bundle.meta.update(dtype=dtype, quantization={"method": method, "quantized": quantized}, notes=notes)
    return bundle


@dataclass(frozen=True)
class PostTrainingScheme:
    """One data-free post-training setting: a quantize step plus what the record should say."""
    quantize: Callable[[nn.Module], nn.Module]
    dtype: str
    applies_to: tuple[str, ...]
    description: str
    notes: str
    check: Callable[[], str | None] | None = None
    version: int = 1          # the recipe's version: bump when the quantize step's behaviour changes


POST_TRAINING: dict[str, PostTrainingScheme] = {
    "int8-dynamic": PostTrainingScheme(
        quantize_int8_dynamic, "int8", LINEAR_MODELS,
        "int8 per-row weights and dynamic per-token int8 activations on every nn.Linear (torchao; Gee et al.'s "
        "per-tensor DQ is quant-int8-dynamic-fbgemm). "
        "Linear-only, so not offered for conv nets.",
        f"int8 Linear weights + dynamic int8 activations; embeddings/norms fp32; {EAGER_NOTE}"),
    "int8-dynamic-fbgemm": PostTrainingScheme(
        quantize_int8_dynamic_fbgemm, "int8", LINEAR_MODELS,
        "int8 weights and dynamic int8 activations on every nn.Linear through torch.ao's fbgemm kernels: the "
        "fast int8 path on CPUs without AVX-512/AMX, where torchao's eager int8 is ~16x slower than fp32. "
        "Linear-only: not for conv nets.",
        "int8 Linear weights (packed, fbgemm) + dynamic int8 activations; embeddings/norms fp32; "
        "torch.ao.quantization.quantize_dynamic (deprecated in favour of torchao, still in torch 2.13)"),
    "int8-weight-only": PostTrainingScheme(
        quantize_int8_weight_only, "int8", LINEAR_MODELS,
        "int8 per-row weights on every nn.Linear, fp32 activations (torchao). Linear-only: not for conv nets.",
        f"int8 Linear weights, fp32 activations; embeddings/norms fp32; {EAGER_NOTE}"),
    "int4-weight-only": PostTrainingScheme(
        quantize_int4_weight_only, "int4", LINEAR_MODELS,
        "int4 group-32 weights on the Linears whose N%16==0 (torchao's CPU kernel, fed bf16 inputs); "
        "everything else keeps its dtype. Linear-only: not for conv nets.",
        "int4 (group 32) Linear weights via Int4OpaqueTensor, their inputs cast to bf16 and outputs back; "
        "Linears with N%16!=0 (heads) or tied to an embedding, embeddings and norms unchanged (fp32)",
        version=2),   # 1 cast the whole model to bf16
    "int4-weight-only-cuda": PostTrainingScheme(
        quantize_int4_weight_only_cuda, "int4", LINEAR_MODELS,
        "torchao's stock Int4WeightOnlyConfig (group 128, tinygemm tile packing) in bf16 on CUDA; "
        "heads with N%16!=0 stay bf16. Linear-only: not for conv nets.",
        "int4 (group 128) Linear weights via Int4TilePackedTo4dTensor on CUDA; model bf16",
        check=cuda_int4_unavailable),
    "bf16": PostTrainingScheme(
        lambda model: cast(model, torch.bfloat16), "bfloat16", CLASSIFIERS + ("decoder_lm",),
        "Cast every weight and activation to bfloat16 (fast on CPUs with AMX/AVX512-BF16, emulated and "
        "slower than fp32 elsewhere).",
        "all weights and activations bfloat16"),
    "fp16": PostTrainingScheme(
        lambda model: cast(model, torch.float16), "float16", CLASSIFIERS + ("decoder_lm",),
        "Cast every weight and activation to float16.",
        "all weights and activations float16"),
}


def post_training(ctx: RecipeContext, scheme: str) -> Bundle:
    """Data-free post-training quantization of a copy of the dense model."""
    setting = POST_TRAINING[scheme]
    bundle = ctx.dense.clone()
    total = len(_linear_names(bundle.model))
    bundle.model = setting.quantize(bundle.model).eval()
    layers = quantized_layer_names(bundle.model)
    if not layers:   # a cast: every floating-point tensor changed
        return _record(bundle, dtype=setting.dtype, method=scheme, quantized="all", notes=setting.notes)
    return _record(bundle, dtype=setting.dtype, method=scheme, quantized=layers,
                   notes=f"{setting.notes} ({len(layers)}/{total} Linear layers)")


for _scheme, _setting in POST_TRAINING.items():
    register_recipe(f"quant-{_scheme}", family="quantization", applies_to=_setting.applies_to,
                    params={"scheme": _scheme}, description=_setting.description,
                    check=_setting.check, version=_setting.version)(post_training)


@register_recipe("quant-int8-static", family="quantization", applies_to=CLASSIFIERS,
                 params={"calibration_examples": 256, "calibration_batch_size": 32},
                 description="Static int8 (PT2E, x86 inductor quantizer) on Conv2d and Linear, calibrated on 256 "
                             "group-stratified training examples; run as a simulated (eager q/dq) graph.")
def int8_static(ctx: RecipeContext, calibration_examples: int, calibration_batch_size: int) -> Bundle:
    """Static post-training int8 (PT2E, x86 inductor quantizer) calibrated on a group-stratified sample
    of the training split; quantizes Conv2d and Linear (Gee et al.'s SQ calibrates on the whole training
    set: ``quant-int8-static-trainset``)."""
    bundle = ctx.dense.clone()
    batches = calibration_batches(ctx, calibration_examples, calibration_batch_size)
    bundle.model = quantize_int8_static(bundle.model, batches)
    int8_weights = [name for name, t in bundle.model.state_dict().items() if t.dtype == torch.int8]
    seen = sum(len(next(iter(b.values()))) for b in batches)
    return _record(bundle, dtype="int8", method="int8-static", quantized=int8_weights,
                   notes=(f"static int8 (PT2E q/dq graph, {len(int8_weights)} int8 Conv/Linear weights, "
                          f"calibrated on {seen} training examples); other ops fp32 (embeddings, norms); "
                          "simulated int8: the q/dq graph runs eagerly with fp32 kernels, so examples_per_second "
                          "is no int8 latency"))


@register_recipe("quant-int8-qat", family="quantization", applies_to=ENCODERS,
                 description="Quantization-aware training of the fine-tuned model's Linears (torchao QATConfig, dynamic "
                             "per-token fake-quant) for recipe_epochs, then conversion; Gee et al.'s QAT is "
                             "quant-int8-qat-pretrained. Linear-only.")
def int8_qat(ctx: RecipeContext) -> Bundle:
    """Quantization-aware training: fake-quantized int8 Linears fine-tuned for recipe_epochs, then
    converted to int8 weights with dynamic int8 activations (torchao QATConfig). Linear-only, so not
    offered for conv nets."""
    bundle = ctx.dense.clone()
    total = len(_linear_names(bundle.model))
    prepare_qat(bundle.model)
    ctx.fine_tune(bundle, desc="qat")
    convert_qat(bundle.model)
    layers = quantized_layer_names(bundle.model)
    return _record(bundle, dtype="int8", method="int8-qat", quantized=layers,
                   notes=(f"QAT: int8 Linear weights + dynamic int8 activations after "
                          f"{ctx.train_config().epochs:g} fine-tuning epoch(s) ({len(layers)}/{total} Linear layers); "
                          f"{EAGER_NOTE}"))
