"""What `csbench validate` says about a task's data: per-split group counts with warnings, and
whether a record's data fingerprint still matches the data on disk."""
from __future__ import annotations

import numpy as np

from benchmark.data.dataset import TaskData, load_task_data
from benchmark.errors import BenchmarkError


def group_counts(data: TaskData) -> dict[str, dict[str, int]]:
    """group name -> {split role: items}."""
    counts = {name: {role: 0 for role in data.splits} for name in data.group_names}
    for role, split in data.splits.items():
        ids, n = np.unique(split.groups, return_counts=True)
        for gid, count in zip(ids, n):
            counts[data.group_names[gid]][role] = int(count)
    return counts


def count_table(data: TaskData) -> tuple[list[str], list[str]]:
    """(table lines, warnings): groups under groups.min_size in test, or missing from a split."""
    counts = group_counts(data)
    roles = list(data.splits)
    floor = data.spec.groups.min_size
    width = max([len(n) for n in counts] + [6])
    lines = [f"{'group':<{width}}  " + "  ".join(f"{r:>10}" for r in roles)]
    warnings = []
    for name, by_role in counts.items():
        lines.append(f"{name:<{width}}  " + "  ".join(f"{by_role[r]:>10}" for r in roles))
        for role in roles:
            if by_role[role] == 0:
                warnings.append(f"group {name!r} has no items in split {role!r}")
        if 0 < by_role.get("test", 0) < floor:
            warnings.append(f"group {name!r} has {by_role['test']} test items, under groups.min_size {floor}: "
                            f"it is kept out of headline worst-group figures")
    lines.append(f"{'total':<{width}}  " + "  ".join(f"{len(data.splits[r]):>10}" for r in roles))
    return lines, warnings


class FingerprintCheck:
    """Compares records' data fingerprints with the data as it loads now (each task, profile and
    budget loaded once per check)."""

    def __init__(self):
        self._loaded: dict[tuple, TaskData | str] = {}

    def _data(self, spec, profile: str, budget: dict) -> TaskData | str:
        import json
        key = (spec.content_hash(), spec.path, profile, json.dumps(budget, sort_keys=True, default=str))
        if key not in self._loaded:
            try:
                self._loaded[key] = load_task_data(spec, profile, overrides=budget)
            except BenchmarkError as exc:
                self._loaded[key] = str(exc)
        return self._loaded[key]

    def __call__(self, record, spec) -> tuple[list[str], list[str]]:
        """(problems, notes) for one record against ``spec`` (None: the task is not available here)."""
        claimed = record.task.get("data_fingerprint")
        if not claimed:
            return [], ["data fingerprint not checked: the record carries none (written before data "
                        "fingerprints, or a track without them)"]
        if spec is None:
            return [], ["data fingerprint not checked: the task file is not available here (pass --task FILE)"]
        data = self._data(spec, record.profile, dict(record.provenance.get("budget") or {}))
        if isinstance(data, str):
            return [], [f"data fingerprint not checked: the data does not load here: {data}"]
        if data.fingerprint == claimed:
            return [], []
        were = record.task.get("split_fingerprints") or {}
        changed = [role for role, now in data.split_fingerprints.items() if were.get(role) != now]
        return [f"task.data_fingerprint is {claimed} but the data now gives {data.fingerprint} "
                f"(changed: {', '.join(changed) or 'unknown split'}); the record describes other data: rerun it"], []
