"""Decoder recipes from llm-compressor (vLLM's compression library): the methods LLMs are compressed
with in practice, run one-shot on the decoder corpus (benchmark.generative.corpus).

- ``quant-gptq-w4a16``: GPTQ (Frantar et al., 2023), int4 symmetric weights per group of 128 input
  channels (the W4A16 preset), or the largest power of two below 128 that divides every quantised
  layer's input width (SmolLM2: 576 -> 64; the preset's 128 does not divide it); activations fp.
- ``quant-w8a8-smoothquant-gptq``: SmoothQuant (Xiao et al., 2023; strength 0.8) then GPTQ W8A8 (int8
  per-channel weights, int8 dynamic per-token activations), llm-compressor's W8A8 recipe.
- ``prune-sparsegpt-{50,2of4}``: SparseGPT (Frantar & Alistarh, 2023), 50% unstructured or 2:4.
- ``prune-wanda-{50,2of4}``: Wanda (Sun et al., 2024), |W| x ||X|| per output row, 50% or 2:4.

Every Linear of the decoder blocks is compressed; the LM head (tied to the embeddings) is not.
Calibration: ``calibration_samples`` texts of the corpus's training topics drawn with
``calibration_seed``. On CPU, compressed-tensors runs quantised layers as fake quantisation
(weights held in fp32 on the int grid, activations quantised and dequantised on the fly): the numbers
are those of the quantised model, the speed is not that of an int kernel. ``bundle.meta`` records
what each model really stores: bits, the packed size compressed-tensors would save, non-zeros.

llm-compressor 0.14.0.1 pins transformers<=5.17 and compressed-tensors 0.19.0; it runs with this
project's transformers 5.23 when installed with ``--no-deps`` (scripts/install.sh lists the set).
Without it the recipes report themselves unavailable, with that command.
"""
from __future__ import annotations

import importlib.util
import tempfile

import numpy as np
import torch

from benchmark.errors import RecipeUnavailable
from benchmark.generative.family import NAME as FAMILY
from benchmark.models.bundle import Bundle
from benchmark.recipes.base import RecipeContext, register_recipe

INSTALL = ("pip install --no-deps llmcompressor==0.14.0.1 compressed-tensors==0.19.0 loguru==0.7.3 "
           "auto-round==0.15.1 nvidia-ml-py==13.615.71 py-cpuinfo==9.0.0")
CALIBRATION = {"calibration_samples": 128, "calibration_seed": 0}
HEAD = "re:.*lm_head"


def llmc_unavailable_reason() -> str | None:
    missing = [m for m in ("llmcompressor", "compressed_tensors") if importlib.util.find_spec(m) is None]
    return f"needs {', '.join(missing)} ({INSTALL})" if missing else None


def calibration_texts(ctx: RecipeContext, samples: int, seed: int) -> list[str]:
    texts = ctx.train_split.frame["full_text"].astype(str).tolist()
    if not texts:
        raise RecipeUnavailable("the decoder corpus has no training texts to calibrate on")
    picked = np.random.default_rng(seed).permutation(len(texts))[:samples]
    return [texts[i] for i in sorted(picked)]


def target_linears(model: torch.nn.Module) -> list[torch.nn.Linear]:
    return [m for n, m in model.named_modules() if isinstance(m, torch.nn.Linear) and not n.endswith("lm_head")]


def one_shot(ctx: RecipeContext, modifiers: list, calibration_samples: int, calibration_seed: int) -> Bundle:
    """``modifiers`` applied by llm-compressor's ``oneshot`` to a clone of the dense decoder."""
    import datasets
    from llmcompressor import oneshot
    bundle = ctx.dense.clone()
    texts = calibration_texts(ctx, calibration_samples, calibration_seed)
    encoded = bundle.processor(texts, add_special_tokens=False)
    dataset = datasets.Dataset.from_dict({"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]})
    config = bundle.model.config
    previous = config._name_or_path
    with tempfile.TemporaryDirectory() as folder:
        # oneshot re-reads the model's config from name_or_path to refuse pre-quantised checkpoints
        config.save_pretrained(folder)
        config._name_or_path = folder
        torch.manual_seed(calibration_seed)
        try:
            oneshot(model=bundle.model, processor=bundle.processor, dataset=dataset, recipe=modifiers,
                    num_calibration_samples=len(texts), max_seq_length=int(ctx.budget["max_length"]))
        finally:
            config._name_or_path = previous
    bundle.meta["calibration"] = {"texts": len(texts), "seed": calibration_seed,
                                  "tokens": int(sum(len(ids) for ids in encoded["input_ids"]))}
    return bundle


def packed_bytes(bundle: Bundle) -> int:
    """Bytes of the state dict compressed-tensors would save (int weights packed), from a copy; a
    tensor shared by several names (the tied LM head and embeddings) counts once."""
    from compressed_tensors.compressors import ModelCompressor
    copy = bundle.clone()
    ModelCompressor.from_pretrained_model(copy.model).compress_model(copy.model)
    unique = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in copy.model.state_dict().values()}
    return int(sum(unique.values()))


def group_size_for(model: torch.nn.Module, preferred: int = 128) -> int:
    widths = {m.in_features for m in target_linears(model)}
    size = preferred
    while size > 1 and any(w % size for w in widths):
        size //= 2
    return size


@register_recipe("quant-gptq-w4a16", family="quantization", applies_to=(FAMILY,),
                 params={**CALIBRATION, "group_size": 128, "dampening_frac": 0.01}, check=llmc_unavailable_reason)
def gptq_w4a16(ctx: RecipeContext, calibration_samples: int, calibration_seed: int, group_size: int,
               dampening_frac: float) -> Bundle:
    """GPTQ int4 weights per group (W4A16) with llm-compressor, calibrated on the decoder corpus."""
    from compressed_tensors.quantization import QuantizationArgs, QuantizationScheme
    from llmcompressor.modifiers.quantization import GPTQModifier
    size = group_size_for(ctx.dense.model, group_size)
    scheme = QuantizationScheme(targets=["Linear"], weights=QuantizationArgs(
        num_bits=4, type="int", symmetric=True, strategy="group", group_size=size))
    bundle = one_shot(ctx, [GPTQModifier(config_groups={"w4a16": scheme}, ignore=[HEAD], dampening_frac=dampening_frac)],
                      calibration_samples, calibration_seed)
    packed = packed_bytes(bundle)
    bundle.meta.update(weight_bits=4, group_size=size, packed_bytes=packed, notes=(
        f"GPTQ W4A16 (llm-compressor): int4 symmetric weights, group {size}; fake-quantised on CPU (fp32 weights on "
        f"the int4 grid); packed checkpoint {packed / 1e6:.1f} MB"))
    return bundle


@register_recipe("quant-w8a8-smoothquant-gptq", family="quantization", applies_to=(FAMILY,),
                 params={**CALIBRATION, "smoothing_strength": 0.8, "dampening_frac": 0.01}, check=llmc_unavailable_reason)
def smoothquant_gptq_w8a8(ctx: RecipeContext, calibration_samples: int, calibration_seed: int,
                          smoothing_strength: float, dampening_frac: float) -> Bundle:
    """SmoothQuant then GPTQ W8A8 (int8 per-channel weights, int8 dynamic per-token activations), llm-compressor."""
    from llmcompressor.modifiers.quantization import GPTQModifier
    from llmcompressor.modifiers.transform.smoothquant import SmoothQuantModifier
    bundle = one_shot(ctx, [SmoothQuantModifier(smoothing_strength=smoothing_strength),
                            GPTQModifier(targets="Linear", scheme="W8A8", ignore=[HEAD], dampening_frac=dampening_frac)],
                      calibration_samples, calibration_seed)
    packed = packed_bytes(bundle)
    bundle.meta.update(weight_bits=8, activation_bits=8, packed_bytes=packed, notes=(
        f"SmoothQuant (alpha {smoothing_strength}) + GPTQ W8A8 (llm-compressor): int8 per-channel weights, int8 "
        f"dynamic per-token activations; fake-quantised on CPU; packed checkpoint {packed / 1e6:.1f} MB"))
    return bundle


MASKS = {"50": (0.5, "0:0"), "2of4": (0.5, "2:4")}


def _prune(ctx: RecipeContext, modifier_cls, label: str, mask: str, calibration_samples: int,
           calibration_seed: int, **extra) -> Bundle:
    sparsity, structure = MASKS[mask]
    bundle = one_shot(ctx, [modifier_cls(sparsity=sparsity, mask_structure=structure, targets=["Linear"],
                                         ignore=[HEAD], **extra)], calibration_samples, calibration_seed)
    weights = [m.weight for m in target_linears(bundle.model)]
    zero = sum(int((w == 0).sum()) for w in weights) / sum(w.numel() for w in weights)
    bundle.meta.update(mask_structure=structure, notes=(
        f"{label} (llm-compressor) {'2:4' if structure == '2:4' else '50% unstructured'}: {zero:.1%} of decoder-block "
        f"Linear weights zero, stored dense (no sparse kernel on CPU)"))
    return bundle


@register_recipe("prune-sparsegpt-{mask}", family="pruning", applies_to=(FAMILY,),
                 params={**CALIBRATION, "dampening_frac": 0.01}, sweep={"mask": list(MASKS)},
                 check=llmc_unavailable_reason)
def sparsegpt(ctx: RecipeContext, mask: str, calibration_samples: int, calibration_seed: int,
              dampening_frac: float) -> Bundle:
    """SparseGPT one-shot pruning of every decoder-block Linear (mask {mask}: 50 = 50% unstructured, 2of4 = 2:4), llm-compressor."""
    from llmcompressor.modifiers.pruning.sparsegpt import SparseGPTModifier
    return _prune(ctx, SparseGPTModifier, "SparseGPT", mask, calibration_samples, calibration_seed,
                  dampening_frac=dampening_frac)


@register_recipe("prune-wanda-{mask}", family="pruning", applies_to=(FAMILY,), params=dict(CALIBRATION),
                 sweep={"mask": list(MASKS)}, check=llmc_unavailable_reason)
def wanda(ctx: RecipeContext, mask: str, calibration_samples: int, calibration_seed: int) -> Bundle:
    """Wanda one-shot pruning (|W| x input norm per output row) of every decoder-block Linear (mask {mask}: 50 = 50%, 2of4 = 2:4), llm-compressor."""
    from llmcompressor.modifiers.pruning import WandaPruningModifier
    return _prune(ctx, WandaPruningModifier, "Wanda", mask, calibration_samples, calibration_seed)
