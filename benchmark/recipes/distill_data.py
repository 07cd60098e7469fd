"""Which training rows a student distils from: the loss-value core-set (Moser et al.'s criterion) and a
TracIn-style selection proxy (used by ``distill-lr-tracin*``; not Lan et al.'s influence estimate)."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from benchmark.data.dataset import Split
from benchmark.models.bundle import Bundle
from benchmark.models.families import MODEL_FAMILIES

ORDERS = {"asc": 1.0, "desc": -1.0}   # asc keeps the easiest (the method), desc the hardest (ablation)


def cross_entropy_per_row(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return F.cross_entropy(torch.as_tensor(logits, dtype=torch.float32), torch.as_tensor(labels),
                           reduction="none").numpy()


def keep_by_loss(losses: np.ndarray, labels: np.ndarray, percent: float, order: str = "asc") -> np.ndarray:
    """Moser et al.'s core-set: per class c, the first floor(P * n_c / 100) rows by loss (ascending for
    "asc", descending for "desc"; ties keep split order). Returns sorted row indices."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {sorted(ORDERS)}, got {order!r}")
    kept = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        ranked = members[np.argsort(ORDERS[order] * losses[members], kind="stable")]
        kept.append(ranked[:int(np.floor(percent * len(members) / 100))])
    return np.sort(np.concatenate(kept)) if kept else np.zeros(0, dtype=np.int64)


def composition(groups: np.ndarray, group_names: list[str]) -> dict[str, int]:
    """Count of rows per group name (groups absent from the set are left out)."""
    ids, counts = np.unique(groups, return_counts=True)
    return {group_names[i]: int(n) for i, n in zip(ids, counts)}


def heldout_slice(n: int, percent: float, seed: int) -> np.ndarray:
    size = max(1, int(round(n * percent / 100)))
    return np.sort(np.random.default_rng(seed).permutation(n)[:size])


def _head(model: torch.nn.Module) -> torch.nn.Linear:
    """The output layer: the last Linear registered (classifier in BERT and ResNet heads)."""
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    return linears[-1]


def _head_passes(bundle: Bundle, split: Split, inputs, targets: np.ndarray, *, batch_size: int, max_length: int):
    """Per batch: row ids, the head's input x (R x H), and dL/d(head output) (R x O) for the soft-label
    cross-entropy against ``targets`` (one R-row block per example: R = rows per example)."""
    family = MODEL_FAMILIES.get(bundle.family)
    model = bundle.model.eval()
    head = _head(model)
    seen = {}
    hook = head.register_forward_hook(lambda mod, args, out: seen.update(x=args[0].detach(), out=out))
    table = torch.as_tensor(targets, dtype=torch.float32)
    try:
        for batch in family.batches(bundle, split, inputs, batch_size, max_length=max_length):
            index = batch["index"]
            logits = family.logits(model, batch)
            loss = -(table[index] * F.log_softmax(logits, dim=-1)).sum()
            (delta,) = torch.autograd.grad(loss, seen["out"])
            yield index.numpy(), seen["x"].flatten(1), delta.flatten(1)
    finally:
        hook.remove()


def gradient_alignment_scores(student: Bundle, split: Split, inputs, teacher_targets: np.ndarray,
                              heldout: np.ndarray, *, heldout_split: Split | None = None, batch_size: int = 64,
                              max_length: int = 128) -> np.ndarray:
    """Data-selection proxy (papers.md 4.2 leaves the paper's influence details unverified).

    First-order, identity-Hessian influence (TracIn with one checkpoint) restricted to the student's
    output layer: score_i = <grad_W L_teacher(z_i), grad_W L_heldout>, with W the head weight at the
    student's initial state, L_teacher the cross-entropy to the teacher's target for z_i, and
    L_heldout the mean ground-truth cross-entropy on the ``heldout`` rows of ``heldout_split`` (default
    ``split``; the recipe passes rows it then keeps out of the student's training). A positive score
    means a gradient step on z_i's teacher target also lowers the held-out loss. For a linear head
    grad_W is delta (x) x per output row, so score_i = sum over z_i's rows of delta_r^T G x_r.
    """
    n_classes = teacher_targets.shape[1]
    source = heldout_split if heldout_split is not None else split
    sub = source.subset(heldout)
    onehot = np.eye(n_classes, dtype=np.float32)[sub.labels]
    g_val = None
    for _, x, delta in _head_passes(student, sub, inputs, onehot, batch_size=batch_size,
                                    max_length=max_length):
        g = delta.T @ x
        g_val = g if g_val is None else g_val + g
    g_val = g_val / len(heldout)
    scores = np.zeros(len(split), dtype=np.float64)
    for index, x, delta in _head_passes(student, split, inputs, teacher_targets, batch_size=batch_size,
                                        max_length=max_length):
        per_row = ((delta @ g_val) * x).sum(dim=1)
        scores[index] = per_row.view(len(index), -1).sum(dim=1).double().numpy()
    return scores


def top_fraction(scores: np.ndarray, percent: float) -> np.ndarray:
    """Boolean mask of the ceil(percent% of n) highest scores (ties keep split order)."""
    count = int(np.ceil(len(scores) * percent / 100))
    mask = np.zeros(len(scores), dtype=bool)
    mask[np.argsort(-scores, kind="stable")[:count]] = True
    return mask
