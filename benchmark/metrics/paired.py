"""Paired uncertainty of a change against the dense model.

Dense and compressed predictions are scored on the *same* test items, so their difference is
measured far more precisely than either number alone. A paired bootstrap resamples test items
within each group (group sizes fixed) and applies every resample to both models at once; the
exact McNemar test asks whether the two models' error rates differ at all.

A resample is a row of indices in which position j always holds a member of position j's group,
so per-group statistics of a resample read the group of a position from the original ``groups``.
"""
from __future__ import annotations

import numpy as np
from scipy.stats import binom

# The test resamples do not depend on the model seed: resample b picks the same items for every
# seed and recipe, so per-seed differences can be averaged resample by resample.
BOOTSTRAP_SEED = 0
QUANTILES = (0.025, 0.975)


def within_group_resamples(groups, n_boot: int, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """(n_boot, N) indices; row b resamples every group with replacement, keeping its size."""
    groups = np.asarray(groups)
    rng = np.random.default_rng(seed)
    out = np.empty((n_boot, len(groups)), dtype=np.int64)
    for g in np.unique(groups):
        members = np.flatnonzero(groups == g)
        out[:, members] = members[rng.integers(0, len(members), size=(n_boot, len(members)))]
    return out


def headline_groups(groups, min_size: int | None) -> np.ndarray:
    """Boolean mask over group ids 0..max: present in ``groups`` and at or above the floor.
    When no group reaches the floor, every present group counts (the table marks them all)."""
    counts = np.bincount(np.asarray(groups))
    present = counts > 0
    at_floor = present & (counts >= (min_size or 0))
    return at_floor if at_floor.any() else present


def _group_accuracy(correct: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """correct: (..., N) 0/1 -> (..., n_groups) accuracy per group (nan for absent groups)."""
    onehot = np.zeros((len(groups), n_groups))
    onehot[np.arange(len(groups)), groups] = 1.0
    counts = onehot.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (correct @ onehot) / counts


def paired_statistics(dense_correct, comp_correct, groups, headline: np.ndarray) -> dict[str, np.ndarray]:
    """The statistics of a change, for one sample (1-D inputs) or many (rows of 2-D inputs):
    accuracy and worst-group accuracy changes (comp - dense), max psi_g over headline groups,
    flip rate, and the compressed model's worst-group accuracy."""
    dense_correct = np.asarray(dense_correct, dtype=np.float64)
    comp_correct = np.asarray(comp_correct, dtype=np.float64)
    groups = np.asarray(groups)
    n_groups = len(headline)
    acc_d, acc_c = dense_correct.mean(-1), comp_correct.mean(-1)
    group_d = _group_accuracy(dense_correct, groups, n_groups)[..., headline]
    group_c = _group_accuracy(comp_correct, groups, n_groups)[..., headline]
    psi = (group_d - group_c) - (acc_d - acc_c)[..., None]
    return {"accuracy_change": acc_c - acc_d,
            "worst_group_accuracy_change": group_c.min(-1) - group_d.min(-1),
            "max_psi": psi.max(-1),
            "flip_rate": (dense_correct != comp_correct).mean(-1),
            "worst_group_accuracy": group_c.min(-1)}


def resampled_statistics(dense_correct, comp_correct, groups, resamples: np.ndarray,
                         headline: np.ndarray) -> dict[str, np.ndarray]:
    """paired_statistics on every resample (rows of ``resamples``), the same rows for both models."""
    dense_correct, comp_correct = np.asarray(dense_correct), np.asarray(comp_correct)
    return paired_statistics(dense_correct[resamples], comp_correct[resamples], np.asarray(groups), headline)


def percentile_interval(values: np.ndarray, quantiles=QUANTILES) -> tuple[float, float]:
    low, high = np.quantile(np.asarray(values, dtype=np.float64), quantiles)
    return float(low), float(high)


def mcnemar_exact(dense_correct, comp_correct) -> float:
    """Two-sided exact McNemar p-value: under H0 the discordant pairs split 50/50, so
    p = min(1, 2 * P[Binomial(b + c, 1/2) <= min(b, c)])."""
    dense_correct, comp_correct = np.asarray(dense_correct, bool), np.asarray(comp_correct, bool)
    b = int(np.sum(dense_correct & ~comp_correct))
    c = int(np.sum(~dense_correct & comp_correct))
    if b + c == 0:
        return 1.0
    return float(min(1.0, 2.0 * binom.cdf(min(b, c), b + c, 0.5)))


def combine_seeds(per_seed: list[np.ndarray], n_boot: int | None = None, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """Hierarchical bootstrap over seeds and test items. ``per_seed[s][b]`` is seed s's statistic on
    test resample b (the same items for every seed). Replicate b draws seeds with replacement and
    averages their values on resample b, so the interval covers seed-to-seed variation as well as
    the test sample. With one seed it is that seed's own bootstrap distribution."""
    values = np.stack([np.asarray(v, dtype=np.float64) for v in per_seed])   # (S, B)
    n_seeds, n_resamples = values.shape
    if n_seeds == 1:
        return values[0]
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n_seeds, size=(n_resamples, n_seeds))            # seeds drawn per replicate
    return values[picks, np.arange(n_resamples)[:, None]].mean(1)
