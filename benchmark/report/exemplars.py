"""Compression-identified exemplars (Hooker et al., 2019, "What do compressed deep neural networks forget?").

With several seeds of the dense model and of a recipe, an exemplar is a test example whose modal
prediction over the recipe's seeds differs from the modal prediction over the dense seeds: the
compressed population systematically answers it differently, beyond seed-to-seed noise. They are
found only where both have at least MIN_SEEDS seeds; per recipe the leaderboard lists their count
and which groups they come from, and the page shows a few of them per group.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmark.errors import BenchmarkError
from benchmark.records import Record, read_predictions

MIN_SEEDS = 3


def modal_prediction(predictions: np.ndarray) -> np.ndarray:
    """(seeds, N) class ids -> (N,) the most frequent class per example; ties go to the lowest id."""
    predictions = np.asarray(predictions)
    n_classes = int(predictions.max()) + 1 if predictions.size else 1
    counts = np.zeros((predictions.shape[1], n_classes), dtype=np.int64)
    for row in predictions:
        counts[np.arange(len(row)), row] += 1
    return counts.argmax(1)


@dataclass
class ExemplarSet:
    recipe: str
    seeds: int
    index: np.ndarray                     # test positions of the exemplars
    dense_modal: np.ndarray               # modal dense prediction at those positions
    recipe_modal: np.ndarray              # modal prediction of the recipe there
    labels: np.ndarray
    by_group: dict[str, tuple[int, int]] = field(default_factory=dict)   # group -> (exemplars, test n)

    @property
    def count(self) -> int:
        return len(self.index)


def _predictions(runs: list[tuple[Path, Record]]) -> tuple[np.ndarray, dict] | None:
    rows, arrays = [], None
    for path, record in runs:
        try:
            arrays = read_predictions(path, record)
        except BenchmarkError:
            return None
        rows.append(arrays["logits"].argmax(1))
    if arrays is None or len({len(r) for r in rows}) != 1:
        return None
    return np.stack(rows), arrays


def find_exemplars(pairs: list[tuple[Path, Record]]) -> dict[str, list[ExemplarSet]]:
    """task -> one ExemplarSet per recipe with >= MIN_SEEDS seeds (when dense has them too)."""
    runs: dict[tuple[str, str], list] = {}
    for path, record in pairs:
        if record.track == "classification":
            runs.setdefault((record.task["name"], record.recipe["name"]), []).append((Path(path), record))
    out: dict[str, list[ExemplarSet]] = {}
    for task in sorted({t for t, _ in runs}):
        dense_runs = runs.get((task, "dense"), [])
        dense = _predictions(dense_runs) if len(dense_runs) >= MIN_SEEDS else None
        if dense is None:
            continue
        dense_modal = modal_prediction(dense[0])
        labels, groups, names = dense[1]["label"], dense[1]["group"], dense_runs[0][1].group_names
        sets = []
        for (name_task, recipe), recipe_runs in sorted(runs.items()):
            if name_task != task or recipe == "dense" or len(recipe_runs) < MIN_SEEDS:
                continue
            loaded = _predictions(recipe_runs)
            if loaded is None or loaded[0].shape[1] != len(dense_modal):
                continue
            recipe_modal = modal_prediction(loaded[0])
            index = np.flatnonzero(recipe_modal != dense_modal)
            by_group = {names[g]: (int(np.sum(groups[index] == g)), int(np.sum(groups == g)))
                        for g in np.unique(groups)}
            sets.append(ExemplarSet(recipe, len(recipe_runs), index, dense_modal[index], recipe_modal[index],
                                    labels[index], by_group))
        out[task] = sets
    return out


def composition(exemplars: ExemplarSet, top: int = 3) -> str:
    """The groups with the highest exemplar rate, e.g. ``label=6|color=4 9/100``."""
    ranked = sorted(exemplars.by_group.items(), key=lambda kv: (-kv[1][0] / max(kv[1][1], 1), kv[0]))
    return ", ".join(f"{group} {k}/{n}" for group, (k, n) in ranked[:top] if k)


def exemplars_markdown(found: dict[str, list[ExemplarSet]], cell=str) -> str:
    parts = []
    for task, sets in found.items():
        if not sets:
            continue
        parts += [f"### {task}", "", "| recipe | seeds | exemplars | % of test | groups with the highest rate (exemplars/n) |",
                  "|---|---|---|---|---|"]
        for s in sets:
            total = sum(n for _, n in s.by_group.values())
            parts.append(f"| {cell(s.recipe)} | {s.seeds} | {s.count} | {100 * s.count / max(total, 1):.1f} "
                         f"| {cell(composition(s)) or '-'} |")
        parts.append("")
    return "\n".join(parts)


def featured(sets: list[ExemplarSet], groups: np.ndarray, group_names: list[str], per_group: int = 3,
             max_groups: int = 4) -> list[tuple[str, list[int]]]:
    """A few exemplars per group for the page: the groups with the most exemplars over recipes, and in each
    the positions flagged by the most recipes (then the lowest position)."""
    votes: dict[int, int] = {}
    for s in sets:
        for position in s.index.tolist():
            votes[position] = votes.get(position, 0) + 1
    by_group: dict[str, list[int]] = {}
    for position in sorted(votes, key=lambda p: (-votes[p], p)):
        by_group.setdefault(group_names[int(groups[position])], []).append(position)
    ranked = sorted(by_group.items(), key=lambda kv: (-sum(votes[p] for p in kv[1]), kv[0]))
    return [(group, positions[:per_group]) for group, positions in ranked[:max_groups]]


def task_inputs(task: str, profile: str, labels: np.ndarray):
    """The task's test split as the records saw it, or None when it cannot be rebuilt identically here
    (task file missing or changed, other sizes): exemplars are then shown by position only."""
    from benchmark.data.catalog import load_task
    from benchmark.data.dataset import load_task_data
    try:
        spec = load_task(task)
        data = load_task_data(spec, profile)
    except (BenchmarkError, OSError):
        return None
    if len(data.test) != len(labels) or not np.array_equal(data.test.labels, labels):
        return None
    return spec, data.test
