"""Checkpoints compressed elsewhere, as the field's compressors save them: detect the format from
config.json's ``quantization_config.quant_method``, load it locally with transformers (never the
checkpoint's own code), and measure what it really stores.

Formats (CHECKPOINT_FORMATS): a plain save_pretrained folder; torchao (transformers' TorchAoConfig);
compressed-tensors (llm-compressor); bitsandbytes 8/4-bit; GPTQ and AWQ (through gptqmodel). GGUF
files hold decoder LMs; the generative track reads them (benchmark.generative.models).

A checkpoint that cannot be read is one line naming the file: no config.json, a corrupt or
truncated safetensors file, weights that need unpickling arbitrary objects, a text model without
tokenizer files, a config that asks for remote code.
"""
from __future__ import annotations

import importlib.util
import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from benchmark.errors import BenchmarkError
from benchmark.registry import Registry

TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "tokenizer.model", "spiece.model", "vocab.json",
                   "sentencepiece.bpe.model")
_DTYPE_BITS = {"F64": 64, "F32": 32, "F16": 16, "BF16": 16, "I64": 64, "I32": 32, "I16": 16, "I8": 8, "U8": 8,
               "BOOL": 8, "F8_E4M3": 8, "F8_E5M2": 8, "U16": 16, "U32": 32, "U64": 64, "I4": 4, "U4": 4}


@dataclass(frozen=True)
class CheckpointFormat:
    name: str                              # quantization_config.quant_method ("none": a plain checkpoint)
    description: str
    module: str | None = None              # the library it needs, imported by transformers
    install: str = ""
    blocked: str = ""                      # why it cannot run here even when asked for
    load_options: Callable[[dict], dict] | None = None   # from_pretrained keyword arguments

    def unavailable_reason(self) -> str | None:
        if self.blocked:
            return self.blocked
        if self.module and importlib.util.find_spec(self.module) is None:
            return f"needs the {self.module} package ({self.install})"
        return None


CHECKPOINT_FORMATS: Registry[CheckpointFormat] = Registry("checkpoint format", base=CheckpointFormat)


def _compressed_tensors_options(config: dict) -> dict:
    # Decompress at load: dense dequantised weights give the same outputs on any CPU, and let the
    # non-zeros be counted; the stored bits are read from the files.
    from transformers import CompressedTensorsConfig
    return {"quantization_config": CompressedTensorsConfig(run_compressed=False)}


for _format in (
    CheckpointFormat("none", "a plain save_pretrained folder (safetensors)"),
    CheckpointFormat("torchao", "torchao tensor subclasses (transformers TorchAoConfig)", "torchao",
                     "pip install torchao==0.18.0"),
    CheckpointFormat("compressed-tensors", "llm-compressor's compressed-tensors (packed ints, sparsity)",
                     "compressed_tensors", "pip install compressed-tensors==0.19.0",
                     load_options=_compressed_tensors_options),
    CheckpointFormat("bitsandbytes", "bitsandbytes LLM.int8() or 4-bit (nf4/fp4)", "bitsandbytes",
                     "pip install bitsandbytes==0.50.2", load_options=lambda config: {"device_map": "cpu"}),
    CheckpointFormat("gptq", "GPTQ (gptqmodel)", "gptqmodel", "pip install gptqmodel",
                     blocked="GPTQ checkpoints load through gptqmodel, whose install pulls torch 2.14.1 and CUDA "
                             "13 packages (pip install --dry-run gptqmodel==7.7.0); this project pins torch 2.13.0 CPU"),
    CheckpointFormat("awq", "AWQ (gptqmodel)", "gptqmodel", "pip install gptqmodel",
                     blocked="AWQ checkpoints load through gptqmodel, whose install pulls torch 2.14.1 and CUDA "
                             "13 packages (pip install --dry-run gptqmodel==7.7.0); this project pins torch 2.13.0 CPU"),
):
    CHECKPOINT_FORMATS.register(_format.name, _format)


def read_config(folder: Path) -> dict:
    path = folder / "config.json"
    if not path.is_file():
        raise BenchmarkError(f"{path}: missing: a checkpoint folder holds config.json beside its weights "
                             f"(save with save_pretrained)")
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BenchmarkError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(config, dict):
        raise BenchmarkError(f"{path}: must be a JSON object")
    return config


def detect_format(folder: Path, config: dict) -> CheckpointFormat:
    quantization = config.get("quantization_config") or {}
    method = quantization.get("quant_method", "none") if isinstance(quantization, dict) else "?"
    if method not in CHECKPOINT_FORMATS:
        raise BenchmarkError(f"{folder / 'config.json'}: quantization_config.quant_method {method!r} is not a "
                             f"format csbench reads ({', '.join(CHECKPOINT_FORMATS.names())})")
    return CHECKPOINT_FORMATS.get(method)


def safetensors_header(path: Path) -> dict:
    """The header of a safetensors file, after checking the file holds every byte it promises."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        raw = handle.read(8)
        if len(raw) < 8:
            raise BenchmarkError(f"{path}: truncated safetensors file ({size} bytes)")
        (length,) = struct.unpack("<Q", raw)
        if length > size - 8:
            raise BenchmarkError(f"{path}: corrupt or truncated safetensors file (header of {length} bytes "
                                 f"in a {size}-byte file)")
        try:
            header = json.loads(handle.read(length))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise BenchmarkError(f"{path}: corrupt safetensors file (unreadable header)") from None
    end = max((t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"), default=0)
    if 8 + length + end != size:
        raise BenchmarkError(f"{path}: corrupt or truncated safetensors file (tensors need {8 + length + end} "
                             f"bytes, the file has {size})")
    return header


def weight_stats(folder: Path) -> dict[str, Any]:
    """What the checkpoint stores: tensor bytes and bits per dtype, read from the safetensors headers."""
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        pickled = sorted(p.name for p in folder.glob("*.bin")) + sorted(p.name for p in folder.glob("*.pt"))
        where = folder / (pickled[0] if pickled else "model.safetensors")
        raise BenchmarkError(f"{where}: " + ("pickled weights: loading them can run arbitrary code; save the "
                                             "checkpoint with safetensors (save_pretrained's default)" if pickled
                                             else "no weights (no *.safetensors file)"))
    by_dtype: dict[str, int] = {}
    bits = 0
    for path in files:
        for name, tensor in safetensors_header(path).items():
            if name == "__metadata__":
                continue
            count = 1
            for dim in tensor["shape"]:
                count *= dim
            by_dtype[tensor["dtype"]] = by_dtype.get(tensor["dtype"], 0) + count
            bits += count * _DTYPE_BITS.get(tensor["dtype"], 32)
    return {"weight_bytes": bits // 8, "stored_values_by_dtype": by_dtype,
            "files": [p.name for p in files]}


def check_tokenizer(folder: Path, family: str) -> None:
    if family == "resnet":
        return
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise BenchmarkError(f"{folder}: no tokenizer files ({', '.join(TOKENIZER_FILES)}); a text model needs "
                             f"the tokenizer it was trained with: tokenizer.save_pretrained into the same folder")


def load_checkpoint_folder(folder: Path, family: str, num_labels: int):
    """A Bundle of the checkpoint in ``folder`` (its own tokenizer), with ``meta["checkpoint"]``: the
    format and what the files store."""
    import transformers

    from benchmark.models.bundle import Bundle
    from benchmark.models.remote_code import refuse_custom_code
    from benchmark.models.zoo import _auto, _quiet_from_pretrained
    refuse_custom_code(folder)   # auto_map in any of its JSON files (tokenizer_config.json too), before any read
    config = read_config(folder)
    fmt = detect_format(folder, config)
    reason = fmt.unavailable_reason()
    if reason:
        raise BenchmarkError(f"{folder}: a {fmt.name} checkpoint, which cannot be loaded here: {reason}")
    stats = weight_stats(folder)
    check_tokenizer(folder, family)
    labels = config.get("num_labels") or len(config.get("id2label") or {}) or None
    if labels is not None and labels != num_labels:
        raise BenchmarkError(f"{folder / 'config.json'}: the checkpoint has {labels} output labels, the task "
                             f"{num_labels}")
    options = fmt.load_options(config) if fmt.load_options else {}
    try:
        model = _quiet_from_pretrained(_auto(family), str(folder), trust_remote_code=False, **options)
        processor = None if family == "resnet" else transformers.AutoTokenizer.from_pretrained(
            str(folder), trust_remote_code=False)
    except BenchmarkError:
        raise
    except Exception as exc:   # transformers raises many kinds; each is one line naming the folder
        first = (str(exc).splitlines() or [""])[0]
        raise BenchmarkError(f"{folder}: cannot load the {fmt.name} checkpoint: {type(exc).__name__}: {first}") \
            from None
    meta = {"base_model": str(folder), "checkpoint": {"format": fmt.name, **stats},
            "notes": f"{fmt.name} checkpoint" + (" (dequantised at load)" if fmt.load_options and
                                                 fmt.name == "compressed-tensors" else "")}
    return Bundle(model.eval(), processor, family, meta)
