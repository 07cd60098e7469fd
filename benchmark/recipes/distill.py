"""Distillation: students trained from the dense teacher, and pretrained hub students (Gee et al.).

- ``distill-kd-l{3,2}``: DistilBERT-style layer-dropped encoders, vanilla KD on the teacher's logits.
- ``distill-kd-resnet-w{50,25}``: narrower ResNets from scratch, vanilla KD.
- ``distill-tinybert-l{3,2}``: TinyBERT-style hidden-state + attention MSE plus prediction-layer KD.
- ``distill-lr``: label revision (Lan et al.'s LR). ``distill-lr-tracin{80,50}``: LR-revised KD on the s% of
  rows a first-order, last-layer, initial-state influence proxy (TracIn-style) ranks best against a held-out
  slice the student then never trains on; the rest get CE. Lan et al.'s DS uses an influence estimate on the
  student; this proxy is named for what it is.
- ``distill-coreset-kd-keep{20,50,80}-asc`` / ``-keep50-desc``: core-set KD: a student distilled (KD) on the
  lowest- (highest-) loss P% of each class. Only the selection criterion is Moser et al.'s; their method
  synthesises a new training set from that core-set, which is ``data_distill`` (``dd-*``).
- ``distill-hub-*``: Gee et al.'s seven hub students fine-tuned with ERM (need the hub or a local cache).

Students live in ``distill_students``, losses in ``distill_losses``, data choices in ``distill_data``.
"""
from __future__ import annotations

import functools

import numpy as np
import torch

from benchmark.models.bundle import Bundle
from benchmark.recipes.base import CLASSIFIERS, ENCODERS, RecipeContext, register_recipe
from benchmark.recipes.distill_data import (composition, cross_entropy_per_row, gradient_alignment_scores,
                                            heldout_slice, keep_by_loss, top_fraction)
from benchmark.recipes.distill_losses import (kd_objective, revised_labels, revision_objective,
                                              tinybert_objective)
from benchmark.recipes.distill_students import (HUB_STUDENTS, default_student, encoder_layers, hub_student,
                                                hub_unavailable_reason, larger_than_dense_reason, layer_dropped,
                                                layer_stride, narrow_resnet, student_epochs)

KD_DEFAULTS = {"temperature": 2.0, "alpha": 0.5}
LR_DEFAULTS = {"lambda1": 4.0, "lambda2": 1.0, "eta": 0.8, "heldout": 10}


def train_with_kd(ctx: RecipeContext, student: Bundle, *, temperature: float, alpha: float,
                  rows: np.ndarray | None = None, desc: str = "distill") -> Bundle:
    """Vanilla KD on the train split (or on its ``rows``), teacher logits from the context's cache."""
    teacher = ctx.teacher_logits("train")
    split = ctx.train_split
    if rows is not None:
        teacher, split = teacher[rows], split.subset(rows)
    loss = kd_objective(ctx.family, teacher, temperature=temperature, alpha=alpha)
    return ctx.fine_tune(student, loss_fn=loss, split=split, desc=desc, epochs=student_epochs(ctx, student))


@register_recipe("distill-kd-l{layers}", family="distillation", applies_to=ENCODERS, params=KD_DEFAULTS,
                 sweep={"layers": [3, 2]})
def layer_dropped_kd(ctx: RecipeContext, layers: int, temperature: float, alpha: float) -> Bundle:
    """{layers}-layer student from every k-th teacher layer (DistilBERT-style), vanilla KD (T={temperature}, alpha={alpha})."""
    return train_with_kd(ctx, layer_dropped(ctx.dense, layers), temperature=temperature, alpha=alpha)


@register_recipe("distill-kd-resnet-w{width}", family="distillation", applies_to=("resnet",), params=KD_DEFAULTS,
                 sweep={"width": [50, 25]})
def narrow_resnet_kd(ctx: RecipeContext, width: int, temperature: float, alpha: float) -> Bundle:
    """ResNet student with {width}% of the teacher's channels, random init, vanilla KD (T={temperature}, alpha={alpha})."""
    return train_with_kd(ctx, narrow_resnet(ctx.dense, width), temperature=temperature, alpha=alpha)


@register_recipe("distill-tinybert-l{layers}", family="distillation", applies_to=ENCODERS,
                 params={"hidden_weight": 1.0, "attention_weight": 1.0, "temperature": 1.0, "alpha": 1.0},
                 sweep={"layers": [3, 2]})
def tinybert(ctx: RecipeContext, layers: int, hidden_weight: float, attention_weight: float,
             temperature: float, alpha: float) -> Bundle:
    """{layers}-layer student, TinyBERT-style hidden-state + attention MSE (layer m <-> m*k) plus logit KD."""
    teacher = ctx.dense.clone().model
    stride = layer_stride(len(encoder_layers(teacher)), layers)
    student = layer_dropped(ctx.dense, layers)
    # sdpa returns no attention maps; eager does (transformers v5).
    teacher.set_attn_implementation("eager")
    student.model.set_attn_implementation("eager")
    loss = tinybert_objective(teacher, stride, hidden_weight=hidden_weight, attention_weight=attention_weight,
                              temperature=temperature, alpha=alpha)
    ctx.fine_tune(student, loss_fn=loss, desc="tinybert", epochs=student_epochs(ctx, student))
    student.model.set_attn_implementation(ctx.dense.model.config._attn_implementation)
    return student


def teacher_targets(teacher_logits: np.ndarray, labels: np.ndarray, eta: float) -> np.ndarray:
    """What LR distils towards: the teacher's probabilities, revised where the teacher is wrong."""
    logits, y = torch.as_tensor(teacher_logits, dtype=torch.float32), torch.as_tensor(labels)
    probs = torch.softmax(logits, dim=-1)
    wrong = logits.argmax(dim=-1) != y
    probs[wrong] = revised_labels(probs[wrong], y[wrong], eta)
    return probs.numpy()


def label_revision_data_selection(ctx: RecipeContext, select: int, lambda1: float, lambda2: float, eta: float,
                                  heldout: int) -> Bundle:
    """L3 / half-width student; LR-revised KD on the {select}% of train ranked best by the selection proxy, CE on the rest."""
    student = default_student(ctx.dense)
    logits, split = ctx.teacher_logits("train"), ctx.train_split
    rows = np.arange(len(split))
    distilled = np.ones(len(split), dtype=bool)
    report = {"select_percent": select}
    if select < 100:
        # The held-out slice scores the selection and is then left out of the student's training.
        held = heldout_slice(len(split), heldout, ctx.seed)
        rows = np.setdiff1d(rows, held)
        scores = gradient_alignment_scores(
            student, split.subset(rows), ctx.inputs, teacher_targets(logits[rows], split.labels[rows], eta), held,
            heldout_split=split, batch_size=int(ctx.budget.get("eval_batch_size", 64)),
            max_length=int(ctx.budget.get("max_length", 128)))
        distilled = top_fraction(scores, select)
        wrong = logits[rows].argmax(1) != split.labels[rows]
        report.update(heldout_rows=int(len(held)), teacher_wrong_rows=int(wrong.sum()),
                      teacher_wrong_selected=int((wrong & distilled).sum()))
    loss = revision_objective(ctx.family, logits[rows], distilled, lambda1=lambda1, lambda2=lambda2, eta=eta)
    student.meta["distilled_rows"] = int(distilled.sum())
    student.meta["report"] = {**report, "train_rows": int(len(rows)), "distilled_rows": int(distilled.sum())}
    return ctx.fine_tune(student, loss_fn=loss, split=split.subset(rows), desc="lr+sel",
                         epochs=student_epochs(ctx, student))


# s100 is label revision alone (Lan et al.'s LR). The selection is a TracIn-style proxy, not Lan et al.'s
# influence estimate, so those rows are named after what they do.
for _name, _select in (("distill-lr", [100]), ("distill-lr-tracin{select}", [80, 50])):
    register_recipe(_name, family="distillation", applies_to=CLASSIFIERS, params=LR_DEFAULTS,
                    sweep={"select": _select})(label_revision_data_selection)


def loss_pruned_kd(ctx: RecipeContext, keep: int, order: str, temperature: float, alpha: float) -> Bundle:
    """Core-set KD: L3 / half-width student, vanilla KD on the {keep}% of each class ranked by dense CE loss
    (order={order}; Moser et al.'s selection criterion, no dataset distillation)."""
    logits, split = ctx.teacher_logits("train"), ctx.train_split
    rows = keep_by_loss(cross_entropy_per_row(logits, split.labels), split.labels, keep, order)
    if len(rows) == 0:
        raise ValueError(f"keeping {keep}% per class leaves no training rows")
    student = default_student(ctx.dense)
    student.meta["kept_rows"] = int(len(rows))
    student.meta["report"] = {"scorer": "dense model (the teacher)", "keep_percent": keep, "order": order,
                              "coreset_size": int(len(rows)),
                              "coreset_composition": composition(split.groups[rows], ctx.data.group_names)}
    return train_with_kd(ctx, student, temperature=temperature, alpha=alpha, rows=rows, desc="pruned-kd")


for _sweep in ({"keep": [20, 50, 80], "order": ["asc"]}, {"keep": [50], "order": ["desc"]}):
    register_recipe("distill-coreset-kd-keep{keep}-{order}", family="distillation", applies_to=CLASSIFIERS,
                    params=KD_DEFAULTS, sweep=_sweep)(loss_pruned_kd)


def hub_student_erm(ctx: RecipeContext, model_id: str) -> Bundle:
    """A pretrained student with its own tokenizer, fine-tuned on the task with ERM (no task distillation)."""
    spec = ctx.data.spec
    student = hub_student(model_id, ctx.dense.family, spec.num_labels)
    return ctx.fine_tune(student, desc="hub-student", epochs=student_epochs(ctx, student))


for _slug, _hub_id in HUB_STUDENTS.items():
    register_recipe(f"distill-hub-{_slug}", family="distillation", applies_to=ENCODERS, params={"model_id": _hub_id},
                    description=f"{_hub_id} fine-tuned with ERM (Gee et al.'s students; own tokenizer)",
                    check=functools.partial(hub_unavailable_reason, _hub_id),
                    fits=functools.partial(larger_than_dense_reason, _hub_id))(hub_student_erm)
