"""bitsandbytes 8-bit and 4-bit decoders, on its CPU backend.

- ``quant-bnb-int8``: LLM.int8() (Dettmers et al., 2022): int8 row-wise weights, int8 per-token
  activations, and the input columns whose magnitude exceeds ``threshold`` (6.0, the paper's and
  transformers' default) multiplied in floating point. On CPU the int8 product is ``torch._int_mm``
  (a real int8 kernel; AVX-512 VNNI where the CPU has it, a scalar fallback otherwise).
- ``quant-bnb-nf4``: 4-bit NormalFloat weights in blocks of 64 (QLoRA's storage, Dettmers et al.,
  2023), packed two per byte; on CPU the layer dequantises to fp32 for the matrix product.

Every Linear of the decoder blocks is replaced; the LM head (tied to the embeddings) is not.
bitsandbytes 0.50.2 installs with ``--no-deps`` (its wheel carries the CPU library).
"""
from __future__ import annotations

import importlib.util

import torch

from benchmark.generative.family import NAME as FAMILY
from benchmark.models.bundle import Bundle
from benchmark.recipes.base import RecipeContext, register_recipe

INSTALL = "pip install --no-deps bitsandbytes==0.50.2"


def bnb_unavailable_reason() -> str | None:
    return None if importlib.util.find_spec("bitsandbytes") else f"needs bitsandbytes ({INSTALL})"


def replace_block_linears(model: torch.nn.Module, convert) -> int:
    """Swap every Linear except the LM head for ``convert(linear)``; returns how many were swapped."""
    swapped = 0
    for parent_name, parent in list(model.named_modules()):
        for name, child in list(parent.named_children()):
            full = f"{parent_name}.{name}" if parent_name else name
            if isinstance(child, torch.nn.Linear) and not full.endswith("lm_head"):
                setattr(parent, name, convert(child))
                swapped += 1
    return swapped


def _int8(linear: torch.nn.Linear, threshold: float) -> torch.nn.Module:
    import bitsandbytes as bnb
    layer = bnb.nn.Linear8bitLt(linear.in_features, linear.out_features, bias=linear.bias is not None,
                                has_fp16_weights=False, threshold=threshold)
    layer.weight = bnb.nn.Int8Params(linear.weight.data.clone(), requires_grad=False, has_fp16_weights=False)
    if linear.bias is not None:
        layer.bias = torch.nn.Parameter(linear.bias.data.clone(), requires_grad=False)
    return layer.to("cpu")                 # moving the parameters quantises them


def _nf4(linear: torch.nn.Linear, blocksize: int) -> torch.nn.Module:
    import bitsandbytes as bnb
    layer = bnb.nn.Linear4bit(linear.in_features, linear.out_features, bias=linear.bias is not None,
                              compute_dtype=torch.float32, quant_type="nf4")
    layer.weight = bnb.nn.Params4bit(linear.weight.data.clone(), requires_grad=False, quant_type="nf4",
                                     blocksize=blocksize)
    if linear.bias is not None:
        layer.bias = torch.nn.Parameter(linear.bias.data.clone(), requires_grad=False)
    return layer.to("cpu")


@register_recipe("quant-bnb-int8", family="quantization", applies_to=(FAMILY,), params={"threshold": 6.0},
                 check=bnb_unavailable_reason)
def bnb_int8(ctx: RecipeContext, threshold: float) -> Bundle:
    """LLM.int8() (bitsandbytes): int8 weights and activations, outlier columns above the threshold in fp."""
    bundle = ctx.dense.clone()
    swapped = replace_block_linears(bundle.model, lambda linear: _int8(linear, threshold))
    bundle.meta.update(weight_bits=8, notes=f"bitsandbytes LLM.int8() on {swapped} decoder-block Linears, "
                                            f"outlier threshold {threshold}; CPU int8 product via torch._int_mm")
    return bundle


@register_recipe("quant-bnb-nf4", family="quantization", applies_to=(FAMILY,), params={"blocksize": 64},
                 check=bnb_unavailable_reason)
def bnb_nf4(ctx: RecipeContext, blocksize: int) -> Bundle:
    """bitsandbytes NF4: 4-bit NormalFloat weights in blocks, packed two per byte, fp32 compute."""
    bundle = ctx.dense.clone()
    swapped = replace_block_linears(bundle.model, lambda linear: _nf4(linear, blocksize))
    bundle.meta.update(weight_bits=4, notes=f"bitsandbytes NF4 (blocks of {blocksize}) on {swapped} decoder-block "
                                            f"Linears; packed 4-bit storage, dequantised to fp32 for the product on CPU")
    return bundle
