"""A unit of work: what any scheduler runs in one process, one call at a time.

A run plan expands into units of two kinds. A ``dense`` unit builds one dense model into the
shared cache (its key is the dense cache key); a ``recipe`` unit applies one recipe to one
(task, seed) and writes one record (its key is the record's run id) and depends on the dense unit
whose key it names. A unit is a frozen value that round-trips through one JSON line, so
`csbench plan` can print it and `csbench run-one` (on any machine sharing the cache and results
folder) can run it.
"""
from __future__ import annotations

import json
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from benchmark.errors import BenchmarkError

KINDS = ("dense", "recipe")


@dataclass(frozen=True)
class Unit:
    kind: str                     # dense | recipe
    track: str                    # classification | generative
    task: str
    task_file: str                # the task YAML the spec was read from
    spec_hash: str                # content hash of the spec as planned (checked when re-read from task_file)
    recipe: str                   # "" for a dense unit
    seed: int
    profile: str
    overrides: dict               # budget overrides (--set), part of the run id
    run_id: str                   # recipe unit: the record's run id; dense unit: ""
    dense_key: str                # dense unit: its cache key; recipe unit: the key of the dense unit it needs
    results_dir: str = "results"
    force: bool = False
    n_boot: int = 1000
    threads: int = 0              # torch threads the unit runs with; 0 leaves the process's setting
    recipe_files: tuple[str, ...] = ()   # --recipe-file modules a fresh process must load first
    data_fingerprint: str = ""    # of the task's data as planned (checked when the unit loads it)
    # The spec object itself, for units run in this process or pickled to a worker (a preset may have
    # changed it from its file); never part of the JSON line.
    spec: Any = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> str:
        """What identifies the unit: the run id of its record, or the dense cache key."""
        return self.run_id if self.kind == "recipe" else self.dense_key

    @property
    def depends_on(self) -> str | None:
        return self.dense_key if self.kind == "recipe" else None

    def to_json(self) -> str:
        payload = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "spec"}
        payload["recipe_files"] = list(self.recipe_files)
        return json.dumps({**payload, "key": self.key, "depends_on": self.depends_on}, sort_keys=True)


_REQUIRED = {f.name for f in fields(Unit) if f.default is MISSING and f.default_factory is MISSING}


def unit_from_dict(raw: Any, where: str) -> Unit:
    if not isinstance(raw, dict):
        raise BenchmarkError(f"{where}: a unit must be a JSON object")
    missing = sorted(_REQUIRED - set(raw))
    if missing:
        raise BenchmarkError(f"{where}: missing field(s) {', '.join(missing)}")
    if raw["kind"] not in KINDS:
        raise BenchmarkError(f"{where}: field 'kind' must be one of {', '.join(KINDS)}, got {raw['kind']!r}")
    names = {f.name for f in fields(Unit)} - {"spec"}
    values = {k: v for k, v in raw.items() if k in names}
    values["recipe_files"] = tuple(values.get("recipe_files", ()))
    try:
        unit = Unit(**values)
    except TypeError as exc:
        raise BenchmarkError(f"{where}: {exc}") from None
    if not isinstance(unit.overrides, dict) or not isinstance(unit.seed, int):
        raise BenchmarkError(f"{where}: field 'overrides' must be an object and 'seed' an integer")
    return unit


def unit_from_json(line: str, where: str = "unit") -> Unit:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BenchmarkError(f"{where}: not a JSON line: {exc.msg} (column {exc.colno})") from None
    return unit_from_dict(raw, where)
