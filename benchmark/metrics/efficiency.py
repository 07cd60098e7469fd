"""What a compressed model costs: parameters, non-zeros, bytes on disk, throughput."""
from __future__ import annotations

import io

import torch


def _dense_view(tensor: torch.Tensor) -> torch.Tensor:
    # bitsandbytes 4-bit weights are packed two to a byte: dequantise them to count parameters and zeros.
    if getattr(tensor, "quant_state", None) is not None:
        import bitsandbytes.functional as bnb_functional
        return bnb_functional.dequantize_4bit(tensor.data, tensor.quant_state)   # (detach() would drop quant_state)
    tensor = tensor.detach()
    # torchao's quantized tensor subclasses dequantize to count zeros honestly.
    if type(tensor) is not torch.Tensor and hasattr(tensor, "dequantize"):
        try:
            return tensor.dequantize()
        except Exception:
            pass
    return tensor


def _count_nonzero(value: torch.Tensor) -> int:
    try:
        return int(torch.count_nonzero(value).item())
    except (NotImplementedError, RuntimeError):   # packed int4 (torchao Int4OpaqueTensor) has no dense view
        return value.numel()


def _packed_weights(module: torch.nn.Module) -> list[torch.Tensor]:
    """Weights that torch.ao's quantized modules keep packed, outside ``parameters()``."""
    weight = getattr(module, "weight", None)
    if callable(weight) and hasattr(module, "_packed_params"):
        packed = weight()
        bias = module.bias() if callable(getattr(module, "bias", None)) else None
        return [packed.int_repr() if packed.is_quantized else packed] + ([bias] if bias is not None else [])
    return []


def parameter_counts(model: torch.nn.Module) -> dict[str, int]:
    """Total and non-zero parameter counts; pruning masks (weight_orig * weight_mask) are honoured,
    and packed quantized weights are counted."""
    total = nonzero = 0
    for module in model.modules():
        for packed in _packed_weights(module):
            total += packed.numel()
            nonzero += _count_nonzero(packed)
        for name, param in module.named_parameters(recurse=False):
            base = name[:-5] if name.endswith("_orig") else name
            value = getattr(module, base) if name.endswith("_orig") else param
            value = _dense_view(value)
            total += value.numel()
            nonzero += _count_nonzero(value)
    return {"parameters": total, "nonzero_parameters": nonzero,
            "sparsity": 1.0 - nonzero / total if total else 0.0}


def saved_bytes(model: torch.nn.Module) -> int:
    """Bytes of ``torch.save(state_dict)``: the artifact a user would ship (safetensors cannot
    hold torchao tensors, so torch.save is the common denominator)."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes
