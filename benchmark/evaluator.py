"""Dense vs compressed predictions -> every classification metric of one record."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmark.metrics.agreement import decisive_flips, flip_counts, kl_divergence
from benchmark.metrics.groups import GroupMetrics, excess_accuracy_gaps


@dataclass
class Evaluation:
    overall: dict[str, float]
    by_group: dict[str, dict[str, float]]

    def as_metrics(self) -> dict:
        return {"overall": self.overall, "by_group": self.by_group}


def evaluate(*, labels, groups, group_names: list[str], logits, dense_logits,
             n_boot: int = 1000, seed: int = 0) -> Evaluation:
    """All metrics for one compressed model against its dense reference on one split."""
    labels, groups = np.asarray(labels), np.asarray(groups)
    logits, dense_logits = np.asarray(logits), np.asarray(dense_logits)
    pred, dense_pred = logits.argmax(1), dense_logits.argmax(1)
    comp = GroupMetrics(y_true=labels, y_pred=pred, groups=groups, group_names=group_names)
    dense = GroupMetrics(y_true=labels, y_pred=dense_pred, groups=groups, group_names=group_names)
    psi = excess_accuracy_gaps(dense, comp)
    kl = kl_divergence(dense_logits, logits)
    ci_low, ci_high = comp.bootstrap("group_min", n_boot=n_boot, seed=seed) if n_boot else (np.nan, np.nan)
    overall = {
        "accuracy": comp.overall,
        "worst_group_accuracy": comp.group_min(),
        "worst_group_accuracy_ci_low": ci_low,
        "worst_group_accuracy_ci_high": ci_high,
        "group_accuracy_difference": comp.difference(),
        "accuracy_drop": dense.overall - comp.overall,
        "worst_group_accuracy_drop": dense.group_min() - comp.group_min(),
        "max_psi": float(psi.max()),
        "min_psi": float(psi.min()),
        "psi_disparity": float(psi.max() - psi.min()),
        **flip_counts(labels, dense_pred, pred),
        **decisive_flips(labels, dense_logits, pred),
        "kl_mean": float(kl.mean()),
    }
    by_group = {}
    for g, name in enumerate(group_names):
        members = groups == g
        if not members.any():
            continue
        by_group[name] = {
            "n": int(members.sum()),
            "accuracy": float(comp.by_group[name]),
            "dense_accuracy": float(dense.by_group[name]),
            "psi": float(psi[name]),
            **flip_counts(labels[members], dense_pred[members], pred[members]),
            "kl_mean": float(kl[members].mean()),
        }
    return Evaluation({k: float(v) for k, v in overall.items()}, by_group)
