"""A task's data in memory: splits with labels and group ids, ready for a model family."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from benchmark.data.checks import check_group_values, check_not_empty, label_ids
from benchmark.data.fingerprint import combine, split_fingerprint
from benchmark.data.grouping import assign_groups
from benchmark.data.sources import SOURCES
from benchmark.data.spec import TaskSpec
from benchmark.errors import BenchmarkError


@dataclass
class Split:
    frame: pd.DataFrame          # input columns (and attributes), row i <-> labels[i]
    labels: np.ndarray           # int64 class ids
    groups: np.ndarray           # int64 group ids into TaskData.group_names
    # model inputs already encoded from this split, per (family, processor, inputs, max_length): tokenise once
    encodings: dict = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index) -> "Split":
        index = np.asarray(index)
        return Split(self.frame.iloc[index].reset_index(drop=True), self.labels[index], self.groups[index])


@dataclass
class TaskData:
    spec: TaskSpec
    splits: dict[str, Split]
    group_names: list[str]
    split_fingerprints: dict[str, str] = field(default_factory=dict)   # role -> hash of what it holds

    @property
    def fingerprint(self) -> str:
        """One hash of every split's inputs, labels, groups and order ('' for data built in code)."""
        return combine(self.split_fingerprints) if self.split_fingerprints else ""

    @property
    def groups_absent_from_test(self) -> list[str]:
        """Groups some other split has but the test split lacks: no figure can be measured for them."""
        present = set(np.unique(self.test.groups).tolist())
        seen = set().union(*(np.unique(s.groups).tolist() for s in self.splits.values()))
        return [self.group_names[g] for g in sorted(seen - present)]

    @property
    def train(self) -> Split:
        return self.splits["train"]

    @property
    def test(self) -> Split:
        return self.splits["test"]


def stratified_subsample(groups: np.ndarray, size: int | None, seed: int) -> np.ndarray:
    """Indices of a group-stratified sample (proportional, at least one per group where possible).

    Deterministic for a given seed; returns all indices, sorted, when size is None or too large.
    """
    n = len(groups)
    if size is None or size >= n:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    chosen = []
    ids, counts = np.unique(groups, return_counts=True)
    quotas = np.maximum(1, np.floor(counts / n * size).astype(int))
    for gid, quota in zip(ids, quotas):
        members = np.flatnonzero(groups == gid)
        chosen.append(rng.choice(members, size=min(quota, len(members)), replace=False))
    picked = np.concatenate(chosen)
    if len(picked) < size:  # top up from the rest to hit the size exactly
        rest = np.setdiff1d(np.arange(n), picked)
        picked = np.concatenate([picked, rng.choice(rest, size=size - len(picked), replace=False)])
    return np.sort(picked[:size])


def per_group_subsample(groups: np.ndarray, per_group: int, seed: int) -> np.ndarray:
    """Indices of up to ``per_group`` rows of every group (all rows of a smaller group), sorted.

    Not proportional: small groups get as many examples as large ones, so every group's accuracy
    is measured to the same precision."""
    rng = np.random.default_rng(seed)
    chosen = [rng.choice(members, size=min(per_group, len(members)), replace=False)
              for members in (np.flatnonzero(groups == g) for g in np.unique(groups))]
    return np.sort(np.concatenate(chosen)) if chosen else np.arange(0)


def subsample_split(groups: np.ndarray, budget: dict, role: str) -> np.ndarray:
    """``{role}_per_group`` (equal numbers per group) wins over ``{role}_size`` (proportional)."""
    per_group = budget.get(f"{role}_per_group")
    if per_group is not None:
        if not isinstance(per_group, int) or isinstance(per_group, bool) or per_group < 1:
            raise BenchmarkError(f"budget: {role}_per_group must be a positive integer, got {per_group!r}")
        return per_group_subsample(groups, per_group, seed=0)
    return stratified_subsample(groups, budget.get(f"{role}_size"), seed=0)


def check_columns(spec: TaskSpec, role: str, frame: pd.DataFrame) -> None:
    needed = list(spec.inputs) + [spec.label] + list(spec.groups.by)
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise BenchmarkError(
            f"{spec.path}: split {role!r} of source {spec.source!r} has no column(s) {', '.join(missing)} "
            f"(it has: {', '.join(map(str, frame.columns))})")


def load_task_data(spec: TaskSpec, profile: str = "quick", seed: int = 0,
                   overrides: dict | None = None) -> TaskData:
    """Load, validate, group and subsample a task's splits, and fingerprint what was loaded.
    Fails (one line) before any training."""
    budget = {**spec.profile(profile), **(overrides or {})}
    loader = SOURCES.get(spec.source)
    raw = loader(spec.source_params_resolved(), seed=0)  # data construction is fixed; seeds vary models
    frames, labels = {}, {}
    for role, source_split in spec.splits.items():
        if source_split not in raw:
            raise BenchmarkError(f"{spec.path}: splits: source {spec.source!r} has no split {source_split!r} "
                                 f"(has: {', '.join(raw)})")
        frame = raw[source_split]
        check_columns(spec, role, frame)
        check_not_empty(spec, role, frame)
        check_group_values(spec, role, frame)
        labels[role] = label_ids(spec, role, frame)
        # the label column as ids, or as class names where the task names them (groups read "label=<name>")
        shown = [spec.classes[i] for i in labels[role]] if spec.classes else labels[role]
        frames[role] = frame.reset_index(drop=True).assign(**{spec.label: shown})
    groups, names = assign_groups(frames, spec.label, spec.groups.by, spec.groups.include_label)
    splits = {}
    for role, frame in frames.items():
        split = Split(frame, labels[role], groups[role])
        # The subsample is part of the task definition, so it does not vary with the model seed.
        keep = subsample_split(split.groups, budget, role)
        splits[role] = split.subset(keep)
    fingerprints = {role: split_fingerprint(split.frame, spec.inputs, split.labels, split.groups, names)
                    for role, split in splits.items()}
    return TaskData(spec=spec, splits=splits, group_names=names, split_fingerprints=fingerprints)
