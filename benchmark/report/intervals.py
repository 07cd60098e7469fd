"""Paired intervals over seeds for the leaderboard, read from the records' predictions.

For one (task, recipe) the per-seed paired statistics are computed on the same within-group test
resamples (seeded by BOOTSTRAP_SEED, so resample b picks the same items for every seed), then
combined by a hierarchical bootstrap over seeds (benchmark.metrics.paired.combine_seeds). A record
without a readable predictions file contributes its own stored interval when it is the only seed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from benchmark.errors import BenchmarkError
from benchmark.metrics.paired import (BOOTSTRAP_SEED, combine_seeds, headline_groups, percentile_interval,
                                      resampled_statistics, within_group_resamples)
from benchmark.records import Record, read_predictions

# leaderboard column -> (paired statistic, record metric holding its stored interval, scale to points)
CHANGE_COLUMNS = {
    "acc_change": ("accuracy_change", "accuracy_change", 100),
    "wga_change": ("worst_group_accuracy_change", "worst_group_accuracy_change", 100),
    "max_psi": ("max_psi", "max_psi", 100),
    "flip_rate": ("flip_rate", "flip_rate", 100),
    "worst_group_acc": ("worst_group_accuracy", "worst_group_accuracy", 100),
}
UNSIGNED = {"flip_rate", "worst_group_acc"}   # levels, not changes: shown without a sign


def correctness(path: Path, record: Record) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(groups, dense correct, compressed correct) from a record's predictions; None if unreadable."""
    try:
        arrays = read_predictions(path, record)
    except BenchmarkError:
        return None
    if not {"label", "group", "logits", "dense_logits"} <= set(arrays):
        return None
    labels = arrays["label"]
    return arrays["group"], arrays["dense_logits"].argmax(1) == labels, arrays["logits"].argmax(1) == labels


def seed_intervals(runs: list[tuple[Path, Record]], n_boot: int = 1000) -> dict[str, tuple[float, float]]:
    """column -> (low, high) in points, for the records of one (task, recipe) over seeds."""
    loaded = [correctness(path, record) for path, record in runs]
    if all(item is not None for item in loaded) and loaded:
        per_seed: dict[str, list[np.ndarray]] = {}
        for (path, record), (groups, dense_ok, comp_ok) in zip(runs, loaded):
            headline = headline_groups(groups, record.task.get("group_min_size"))
            resamples = within_group_resamples(groups, n_boot, BOOTSTRAP_SEED)
            stats = resampled_statistics(dense_ok, comp_ok, groups, resamples, headline)
            for statistic, values in stats.items():
                per_seed.setdefault(statistic, []).append(values)
        out = {}
        for column, (statistic, _, scale) in CHANGE_COLUMNS.items():
            low, high = percentile_interval(combine_seeds(per_seed[statistic]))
            out[column] = (scale * low, scale * high)
        return out
    if len(runs) == 1:   # no predictions to resample: the record's own interval
        overall = runs[0][1].metrics["overall"]
        return {column: (scale * overall.get(f"{metric}_ci_low", np.nan), scale * overall.get(f"{metric}_ci_high", np.nan))
                for column, (_, metric, scale) in CHANGE_COLUMNS.items()}
    return {column: (np.nan, np.nan) for column in CHANGE_COLUMNS}


def intervals_frame(pairs: Iterable[tuple[Path, Record]], n_boot: int = 1000) -> pd.DataFrame:
    """One row per classification (task, recipe): ``{column}_ci_low/high`` for every change column,
    and the McNemar p-values of its seeds."""
    by_key: dict[tuple[str, str], list[tuple[Path, Record]]] = {}
    for path, record in pairs:
        if record.track == "classification":
            by_key.setdefault((record.task["name"], record.recipe["name"]), []).append((Path(path), record))
    rows = []
    for (task, recipe), runs in by_key.items():
        runs.sort(key=lambda pair: pair[1].seed)
        row = {"task": task, "recipe": recipe,
               "mcnemar_p": [float(r.metrics["overall"].get("mcnemar_p", np.nan)) for _, r in runs]}
        for column, (low, high) in seed_intervals(runs, n_boot).items():
            row[f"{column}_ci_low"], row[f"{column}_ci_high"] = low, high
        rows.append(row)
    return pd.DataFrame(rows)


def verdict(low: float, high: float) -> str:
    """How a change compares with the dense model, read from its interval."""
    if pd.isna(low) or pd.isna(high):
        return "no interval"
    if low > 0:
        return "better"
    if high < 0:
        return "worse"
    return "≈ dense"


def signed_interval(mean: float, low: float, high: float, digits: int = 1, sign: bool = True) -> str:
    """``+1.2 [-0.5, +2.9]`` (``1.2 [0.5, 2.9]`` without sign); '-' when there is no estimate."""
    if pd.isna(mean):
        return "-"

    def signed(value: float) -> str:
        text = f"{value:+.{digits}f}"
        return text[1:] if float(text) == 0 or not sign else text    # "0.0", not "+0.0" or "-0.0"
    if pd.isna(low) or pd.isna(high):
        return signed(mean)
    return f"{signed(mean)} [{signed(low)}, {signed(high)}]"
