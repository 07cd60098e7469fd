"""Dense vs compressed predictions -> every classification metric of one record."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmark.metrics.agreement import decisive_flips, flip_counts, kl_divergence
from benchmark.metrics.groups import GroupMetrics, excess_accuracy_gaps
from benchmark.metrics.paired import (BOOTSTRAP_SEED, headline_groups, mcnemar_exact, percentile_interval,
                                      resampled_statistics, within_group_resamples)

# paired-bootstrap statistic -> the metric names of its interval
INTERVALS = {"worst_group_accuracy": "worst_group_accuracy", "accuracy_change": "accuracy_change",
             "worst_group_accuracy_change": "worst_group_accuracy_change", "max_psi": "max_psi",
             "flip_rate": "flip_rate"}


@dataclass
class Evaluation:
    overall: dict[str, float]
    by_group: dict[str, dict[str, float]]

    def as_metrics(self) -> dict:
        return {"overall": self.overall, "by_group": self.by_group}


def evaluate(*, labels, groups, group_names: list[str], logits, dense_logits,
             n_boot: int = 1000, seed: int = BOOTSTRAP_SEED, min_group_size: int | None = None) -> Evaluation:
    """All metrics for one compressed model against its dense reference on one split.

    Worst-group figures (worst-group accuracy, its change, the accuracy difference, psi extremes) are
    taken over the groups with at least ``min_group_size`` test examples; smaller groups are still
    scored in ``by_group`` and marked ``below_floor``. Intervals come from one paired bootstrap:
    the same within-group resamples (seeded by ``seed``) for the dense and the compressed model.
    """
    labels, groups = np.asarray(labels), np.asarray(groups)
    logits, dense_logits = np.asarray(logits), np.asarray(dense_logits)
    pred, dense_pred = logits.argmax(1), dense_logits.argmax(1)
    headline = headline_groups(groups, min_group_size)
    headline_names = [group_names[g] for g in np.flatnonzero(headline)]
    comp = GroupMetrics(y_true=labels, y_pred=pred, groups=groups, group_names=group_names)
    dense = GroupMetrics(y_true=labels, y_pred=dense_pred, groups=groups, group_names=group_names)
    comp_head, dense_head = comp.by_group[headline_names], dense.by_group[headline_names]
    psi = excess_accuracy_gaps(dense, comp)
    psi_head = psi[headline_names]
    kl = kl_divergence(dense_logits, logits)
    overall = {
        "accuracy": comp.overall,
        "worst_group_accuracy": comp_head.min(),
        "group_accuracy_difference": comp_head.max() - comp_head.min(),
        "accuracy_drop": dense.overall - comp.overall,
        "worst_group_accuracy_drop": dense_head.min() - comp_head.min(),
        "max_psi": float(psi_head.max()),
        "min_psi": float(psi_head.min()),
        "psi_disparity": float(psi_head.max() - psi_head.min()),
        **flip_counts(labels, dense_pred, pred),
        **decisive_flips(labels, dense_logits, pred),
        "kl_mean": float(kl.mean()),
        "mcnemar_p": mcnemar_exact(dense_pred == labels, pred == labels),
        "groups_at_floor": float(len(headline_names)),
        "groups_below_floor": float(len(comp.by_group) - len(headline_names)),
    }
    resampled = (resampled_statistics(dense_pred == labels, pred == labels, groups,
                                      within_group_resamples(groups, n_boot, seed), headline) if n_boot else {})
    for statistic, name in INTERVALS.items():
        low, high = percentile_interval(resampled[statistic]) if n_boot else (np.nan, np.nan)
        overall[f"{name}_ci_low"], overall[f"{name}_ci_high"] = low, high
    by_group = {}
    for g, name in enumerate(group_names):
        members = groups == g
        if not members.any():
            continue
        by_group[name] = {
            "n": int(members.sum()),
            "below_floor": float(not headline[g]),
            "accuracy": float(comp.by_group[name]),
            "dense_accuracy": float(dense.by_group[name]),
            "psi": float(psi[name]),
            **flip_counts(labels[members], dense_pred[members], pred[members]),
            "kl_mean": float(kl[members].mean()),
        }
    return Evaluation({k: float(v) for k, v in overall.items()}, by_group)
