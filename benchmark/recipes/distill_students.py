"""Students: layer-dropped copies of an encoder teacher, narrower ResNets, and pretrained hub models.

The default student of each model family (used by the data-side methods, label revision and core-set
KD) comes from ``DEFAULT_STUDENTS``, a dict keyed by family.
"""
from __future__ import annotations

import copy
import functools
import os
from pathlib import Path
from typing import Callable

import torch
from huggingface_hub import try_to_load_from_cache

from benchmark.errors import BenchmarkError
from benchmark.models.bundle import Bundle
from benchmark.models.zoo import pretrained_bundle

DEFAULT_STUDENT_LAYERS = 3
DEFAULT_STUDENT_WIDTH = 50
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def encoder_layers(model: torch.nn.Module) -> torch.nn.ModuleList:
    """The transformer block list of a BERT-like model (``encoder.layer`` in BERT,
    ``transformer.layer`` in DistilBERT): the ModuleList holding ``num_hidden_layers`` blocks."""
    count = model.config.num_hidden_layers
    for module in model.base_model.modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) == count:
            return module
    raise BenchmarkError(f"{type(model).__name__} has no list of {count} transformer layers to drop from")


def layer_stride(teacher_layers: int, student_layers: int) -> int:
    if not 1 <= student_layers <= teacher_layers:
        raise BenchmarkError(f"a {student_layers}-layer student cannot be cut from a {teacher_layers}-layer teacher")
    return teacher_layers // student_layers


def kept_layers(teacher_layers: int, student_layers: int) -> list[int]:
    """0-based indices of the teacher layers a student keeps: every k-th layer, k = L // M, i.e. layers
    k, 2k, ..., Mk counted from 1 (6 -> 3 gives [1, 3, 5], 6 -> 2 gives [2, 5]). The last kept layer is the
    teacher's last when M divides L, so the copied pooler/classifier see the features they were trained
    on, and it is TinyBERT's uniform layer map, so intermediate losses compare each student layer with
    the teacher layer it was copied from."""
    k = layer_stride(teacher_layers, student_layers)
    return [m * k - 1 for m in range(1, student_layers + 1)]


def layer_dropped(teacher: Bundle, num_layers: int) -> Bundle:
    """DistilBERT-style student: the teacher with only ``kept_layers`` of its blocks (weights copied;
    embeddings, pooler and head kept)."""
    student = teacher.clone()
    blocks = encoder_layers(student.model)
    keep = kept_layers(len(blocks), num_layers)
    kept = [blocks[i] for i in keep]
    for new_index, block in enumerate(kept):
        for module in block.modules():  # cache bookkeeping indexes layers by position
            if hasattr(module, "layer_idx"):
                module.layer_idx = new_index
    for new_index, block in enumerate(kept):  # in place: the parent keeps pointing at this ModuleList
        blocks[new_index] = block
    del blocks[num_layers:]
    student.model.config.num_hidden_layers = num_layers
    student.meta.update(student_of=teacher.meta.get("base_model"), kept_layers=keep, init="teacher-layers")
    return student


def narrow_resnet(teacher: Bundle, width: int) -> Bundle:
    """A ResNet with the teacher's stages and depths but ``width``% of its channels, randomly initialised."""
    config = copy.deepcopy(teacher.model.config)
    config.hidden_sizes = [max(1, round(h * width / 100)) for h in config.hidden_sizes]
    config.embedding_size = max(1, round(config.embedding_size * width / 100))
    model = type(teacher.model)(config)
    return Bundle(model, teacher.processor, teacher.family,
                  {**teacher.meta, "student_of": teacher.meta.get("base_model"), "width": width, "init": "random"})


DEFAULT_STUDENTS: dict[str, Callable[[Bundle], Bundle]] = {
    "encoder_cls": lambda teacher: layer_dropped(teacher, DEFAULT_STUDENT_LAYERS),
    "encoder_mc": lambda teacher: layer_dropped(teacher, DEFAULT_STUDENT_LAYERS),
    "resnet": lambda teacher: narrow_resnet(teacher, DEFAULT_STUDENT_WIDTH),
}


def default_student(teacher: Bundle) -> Bundle:
    if teacher.family not in DEFAULT_STUDENTS:
        raise BenchmarkError(f"no default student for model family {teacher.family!r}")
    return DEFAULT_STUDENTS[teacher.family](teacher)


FULL_BUDGET_INITS = ("random", "pretrained")


def student_epochs(ctx, student: Bundle) -> float:
    """A student with a new head or random weights trains for the dense budget (as Gee et al. fine-tune
    their hub students like the base model); one copied from the teacher for the recipe budget."""
    key = "epochs" if student.meta.get("init") in FULL_BUDGET_INITS else "recipe_epochs"
    return ctx.budget.get(key, ctx.budget.get("epochs", 1))


# Gee et al.'s seven distilled students (papers.md 2.1), fine-tuned on the task with ERM.
HUB_STUDENTS = {
    "bert-medium": "prajjwal1/bert-medium",
    "bert-small": "prajjwal1/bert-small",
    "bert-mini": "prajjwal1/bert-mini",
    "bert-tiny": "prajjwal1/bert-tiny",
    "distilbert": "distilbert-base-uncased",
    "tinybert6": "huawei-noah/TinyBERT_General_6L_768D",
    "tinybert4": "huawei-noah/TinyBERT_General_4L_312D",
}


# Their sizes as published (model cards; Gee et al., Table 1), to decide applicability before any download.
HUB_STUDENT_PARAMETERS = {
    "prajjwal1/bert-medium": 41.4e6, "prajjwal1/bert-small": 28.8e6, "prajjwal1/bert-mini": 11.2e6,
    "prajjwal1/bert-tiny": 4.4e6, "distilbert-base-uncased": 66.4e6,
    "huawei-noah/TinyBERT_General_6L_768D": 67.0e6, "huawei-noah/TinyBERT_General_4L_312D": 14.5e6,
}


@functools.lru_cache(maxsize=None)
def dense_parameters(model_name: str, family: str, num_labels: int) -> int:
    from benchmark.models.zoo import build_dense
    return sum(p.numel() for p in build_dense(model_name, family, num_labels).model.parameters())


def larger_than_dense_reason(model_id: str, spec) -> str | None:
    """A student at least as large as the task's dense model compresses nothing: not applicable there."""
    student = HUB_STUDENT_PARAMETERS.get(model_id)
    if student is None:
        return None
    try:
        dense = dense_parameters(spec.dense_model, spec.family, spec.num_labels)
    except BenchmarkError:
        return None   # the dense model cannot be built here; the run reports that itself
    if student >= dense:
        return (f"{model_id} ({student / 1e6:.1f}M parameters) is not smaller than the task's dense model "
                f"{spec.dense_model} ({dense / 1e6:.1f}M): no compression")
    return None


def _hub_offline() -> bool:
    return any(os.environ.get(v, "").upper() in {"1", "ON", "YES", "TRUE"}
               for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def hub_unavailable_reason(model_id: str) -> str | None:
    """Why ``model_id`` cannot be loaded here, or None. A local folder or a cached snapshot
    (config and weights) always loads; anything else needs the hub, which HF_HUB_OFFLINE forbids.
    Only the local cache is consulted, so this is instant and never retries the network."""
    if Path(model_id).is_dir():
        return None
    cached = [try_to_load_from_cache(model_id, f) for f in ("config.json",) + WEIGHT_FILES]
    if isinstance(cached[0], str) and any(isinstance(c, str) for c in cached[1:]):
        return None
    if _hub_offline():
        return (f"{model_id} is not in the local Hugging Face cache and HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) "
                "forbids downloading it")
    return None


def hub_student(model_id: str, family: str, num_labels: int) -> Bundle:
    """A pretrained student with its own tokenizer and a fresh task head (hub id or local folder)."""
    reason = hub_unavailable_reason(model_id)
    if reason:
        raise BenchmarkError(reason)
    bundle = pretrained_bundle(model_id, family, num_labels, model_id)
    bundle.meta["init"] = "pretrained"
    return bundle
