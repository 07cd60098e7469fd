"""A task definition: the YAML files under tasks/ parsed into a typed, validated spec.

A malformed file raises BenchmarkError naming the file and the field, never a traceback.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from benchmark.errors import BenchmarkError

PROFILES = ("quick", "full")


@dataclass(frozen=True)
class GroupSpec:
    by: tuple[str, ...]            # attribute columns whose combination defines the groups
    include_label: bool = True     # group = label x attributes (Gee et al.) or attributes only (BBQ)
    min_size: int = 30             # headline worst-group figures only over test groups this large


@dataclass(frozen=True)
class TaskSpec:
    name: str
    version: int
    description: str
    source: str                    # a registered data source (benchmark.data.sources)
    source_params: dict[str, Any]
    family: str                    # a registered model family (benchmark.models.families)
    dense_model: str               # a registered model name or a hub id
    inputs: tuple[str, ...]        # input columns, in the order the model family expects them
    label: str
    num_labels: int
    groups: GroupSpec
    splits: dict[str, str]         # role (train/test/...) -> source split name
    profiles: dict[str, dict[str, Any]]  # quick/full -> sizes and training budgets
    training: dict[str, Any] = field(default_factory=dict)
    path: str = ""                 # the file it came from (for error messages)

    def profile(self, name: str) -> dict[str, Any]:
        if name not in self.profiles:
            raise BenchmarkError(f"{self.path}: profiles: no profile {name!r} (has {', '.join(self.profiles)})")
        return {**self.training, **self.profiles[name]}

    def content_hash(self) -> str:
        """Hash of everything that defines the task (not where the file lives)."""
        payload = {k: v for k, v in asdict(self).items() if k != "path"}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


_REQUIRED = {"name": str, "version": int, "source": dict, "family": str, "dense_model": str,
             "columns": dict, "groups": dict, "splits": dict, "profiles": dict}


def _need(where: str, mapping: dict, key: str, kind: type | tuple[type, ...]):
    if key not in mapping:
        raise BenchmarkError(f"{where}: missing field {key!r}")
    value = mapping[key]
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise BenchmarkError(f"{where}: field {key!r} must be {names}, got {type(value).__name__}")
    return value


def parse_task(raw: Any, path: str) -> TaskSpec:
    if not isinstance(raw, dict):
        raise BenchmarkError(f"{path}: a task file must be a mapping, got {type(raw).__name__}")
    for key, kind in _REQUIRED.items():
        _need(path, raw, key, kind)
    source = raw["source"]
    columns = raw["columns"]
    groups = raw["groups"]
    inputs = _need(f"{path}: columns", columns, "inputs", list)
    label = _need(f"{path}: columns", columns, "label", str)
    num_labels = _need(f"{path}: columns", columns, "num_labels", int)
    by = _need(f"{path}: groups", groups, "by", list)
    if not by:
        raise BenchmarkError(f"{path}: groups: field 'by' must name at least one attribute column")
    include_label = groups.get("include_label", True)
    if not isinstance(include_label, bool):
        raise BenchmarkError(f"{path}: groups: field 'include_label' must be true or false")
    min_size = groups.get("min_size", 30)
    if not isinstance(min_size, int) or isinstance(min_size, bool) or min_size < 1:
        raise BenchmarkError(f"{path}: groups: field 'min_size' must be a positive integer, got {min_size!r}")
    splits = raw["splits"]
    for role in ("train", "test"):
        _need(f"{path}: splits", splits, role, str)
    profiles = raw["profiles"]
    for profile in PROFILES:
        _need(f"{path}: profiles", profiles, profile, dict)
    training = raw.get("training", {})
    if not isinstance(training, dict):
        raise BenchmarkError(f"{path}: field 'training' must be a mapping")
    return TaskSpec(
        name=raw["name"], version=raw["version"], description=str(raw.get("description", "")),
        source=_need(f"{path}: source", source, "loader", str),
        source_params=dict(source.get("params") or {}),
        family=raw["family"], dense_model=raw["dense_model"],
        inputs=tuple(str(c) for c in inputs), label=label, num_labels=num_labels,
        groups=GroupSpec(by=tuple(str(c) for c in by), include_label=include_label, min_size=min_size),
        splits=dict(splits), profiles={k: dict(v) for k, v in profiles.items()},
        training=dict(training), path=path,
    )


def read_task_yaml(path: Path):
    """The parsed YAML of a task file; a missing file or bad YAML is a one-line BenchmarkError."""
    try:
        return yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise BenchmarkError(f"{path}: no such task file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise BenchmarkError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None


def read_task_file(path: str | Path) -> TaskSpec:
    return parse_task(read_task_yaml(Path(path)), str(path))
