"""Where task definitions live and how a name becomes a spec.

Tasks are the YAML files in tasks/ (beside the package in a clone, or $CSBENCH_TASKS), or any
YAML path given directly. A file with ``track: generative`` is parsed by the generative track's
parser, registered in TASK_PARSERS, so this module never needs to know its fields.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable


from benchmark.data.spec import parse_task
from benchmark.errors import BenchmarkError, UnknownNameError
from benchmark.names import check_name
from benchmark.registry import Registry, lazy

TASK_PARSERS: Registry[Callable[[Any, str], Any]] = Registry("task track")
TASK_PARSERS.register("classification", parse_task)
TASK_PARSERS.register("generative", lazy("benchmark.generative.spec:parse_generative_task"))


def task_dirs() -> list[Path]:
    dirs = [Path(p) for p in os.environ.get("CSBENCH_TASKS", "").split(os.pathsep) if p]
    dirs += [Path(__file__).resolve().parents[2] / "tasks", Path.cwd() / "tasks"]
    seen, out = set(), []
    for d in dirs:
        if d.is_dir() and d.resolve() not in seen:
            seen.add(d.resolve())
            out.append(d)
    return out


def task_files() -> dict[str, Path]:
    """Task name (file stem) -> file, first directory wins."""
    files: dict[str, Path] = {}
    for folder in task_dirs():
        for path in sorted(folder.glob("*.yaml")):
            files.setdefault(path.stem, path)
    return files


def read_any_task(path: Path):
    from benchmark.data.spec import read_task_yaml
    raw = read_task_yaml(Path(path))
    track = raw.get("track", "classification") if isinstance(raw, dict) else "classification"
    if not isinstance(track, str) or track not in TASK_PARSERS:
        raise BenchmarkError(f"{path}: field 'track' must be one of {', '.join(TASK_PARSERS.names())}, got {track!r}")
    spec = TASK_PARSERS.get(track)(raw, str(path))
    check_name(spec.name, f"{path}: field 'name': task name")   # it becomes a folder under results/
    return spec


def load_task(name_or_path: str):
    """A task by name (tasks/NAME.yaml) or by path to a YAML file."""
    if name_or_path.endswith((".yaml", ".yml")) or os.sep in name_or_path:
        return read_any_task(Path(name_or_path))
    files = task_files()
    if name_or_path not in files:
        import difflib
        close = difflib.get_close_matches(name_or_path, list(files), n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise UnknownNameError(f"Unknown task {name_or_path!r}.{hint} Known: {', '.join(sorted(files))}")
    return read_any_task(files[name_or_path])


def track_of(spec) -> str:
    return getattr(spec, "track", "classification")
