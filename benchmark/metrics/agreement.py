"""Agreement between a compressed model and its dense reference: flips and KL divergence."""
from __future__ import annotations

import numpy as np
from scipy.special import log_softmax


def flip_counts(labels, dense_pred, comp_pred) -> dict[str, float]:
    """Dutta et al.'s flips: correct->incorrect plus incorrect->correct, as shares of N.
    ``disagreement`` also counts wrong->different-wrong changes."""
    labels, dense_pred, comp_pred = map(np.asarray, (labels, dense_pred, comp_pred))
    n = max(len(labels), 1)
    dense_ok, comp_ok = dense_pred == labels, comp_pred == labels
    c2i = int(np.sum(dense_ok & ~comp_ok))
    i2c = int(np.sum(~dense_ok & comp_ok))
    return {"flip_rate": (c2i + i2c) / n, "correct_to_incorrect": c2i / n, "incorrect_to_correct": i2c / n,
            "disagreement": float(np.mean(dense_pred != comp_pred)) if len(labels) else 0.0}


# A dense prediction whose two most likely classes are this close in probability is a coin toss:
# any perturbation may flip it, so flips there say little about what compression did.
NEAR_TIE_GAP = 0.01


def top2_probability_gap(logits) -> np.ndarray:
    """Per example: p(first choice) - p(second choice) under softmax (1 for a single class)."""
    probs = np.exp(log_softmax(np.asarray(logits, dtype=np.float64), axis=1))
    if probs.shape[1] < 2:
        return np.ones(len(probs))
    top2 = np.sort(probs, axis=1)[:, -2:]
    return top2[:, 1] - top2[:, 0]


def decisive_flips(labels, dense_logits, comp_pred, gap: float = NEAR_TIE_GAP) -> dict[str, float]:
    """``dense_near_tie_rate``: share of examples the dense model nearly ties (top-2 probability gap
    < ``gap``); ``flip_rate_decisive``: the flip rate over the other examples."""
    labels, comp_pred = np.asarray(labels), np.asarray(comp_pred)
    dense_logits = np.asarray(dense_logits)
    tied = top2_probability_gap(dense_logits) < gap
    flipped = (dense_logits.argmax(1) == labels) != (comp_pred == labels)
    decisive = ~tied
    return {"dense_near_tie_rate": float(tied.mean()) if len(tied) else 0.0,
            "flip_rate_decisive": float(flipped[decisive].mean()) if decisive.any() else float("nan")}


def kl_divergence(dense_logits, comp_logits) -> np.ndarray:
    """Per-example KL(p_dense || p_comp) of the softmax output distributions, in nats."""
    log_p = log_softmax(np.asarray(dense_logits, dtype=np.float64), axis=1)
    log_q = log_softmax(np.asarray(comp_logits, dtype=np.float64), axis=1)
    return np.sum(np.exp(log_p) * (log_p - log_q), axis=1)
