"""Dataset distillation after loss-value pruning (Moser et al., "Distill the Best, Ignore the Rest",
arXiv 2411.12115): a data-compression recipe whose product is a tiny synthetic training set.

1. Score every training row by a classifier's cross-entropy and keep, per class, the lowest-loss
   P% (``asc``, the paper's method) or the highest-loss P% (``desc``, its ablation); P=100 keeps all.
   The scorer here is the task's dense model: like the paper's scorer it is a classifier trained on
   the full training split (the paper uses an independently pretrained network of another
   architecture; the dense model is the classifier this benchmark already has, and it costs nothing).
2. Synthesise ``ipc`` images per class from that core-set, in pixel space, with DM or DC
   (``dd_synthesis``), starting from randomly chosen core-set images (noise where a class has fewer).
3. Train a fresh, randomly initialised model of the task's family (the dense architecture) on the
   synthetic images only (``dd_train``); it is scored against the full-data dense model like any recipe.

The record's ``efficiency.recipe_report`` carries the scorer, the core-set's and the synthetic set's
group composition (label x attribute counts) and the synthesis cost. Budget keys (paper values by
default, small ones in the quick profiles): ``dd_{dm,dc}_iterations``, ``dd_batch_real``,
``dd_width`` (ConvNet channels), ``dd_eval_epochs``, ``dd_dc_outer_loop``/``dd_dc_inner_loop``.
"""
from __future__ import annotations

import time
from collections import Counter

import numpy as np
import pandas as pd
import torch

from benchmark.data.dataset import Split
from benchmark.data.grouping import group_keys
from benchmark.models.bundle import Bundle
from benchmark.models.zoo import build_dense
from benchmark.recipes.base import RecipeContext, register_recipe
from benchmark.recipes.dd_synthesis import PAPER, SYNTHESISERS, SynthesisConfig
from benchmark.recipes.dd_train import EvalTrainConfig, train_on_images
from benchmark.recipes.distill_data import composition, cross_entropy_per_row, keep_by_loss

IMAGE_FAMILIES = ("resnet",)
SCORER = ("dense model: the task's dense architecture trained on the full training split "
          "(Moser et al. score with a classifier trained on the full training set)")


def core_set(ctx: RecipeContext, keep: int, order: str) -> np.ndarray:
    split = ctx.train_split
    if keep >= 100:
        return np.arange(len(split))
    return keep_by_loss(cross_entropy_per_row(ctx.teacher_logits("train"), split.labels), split.labels, keep, order)


def initial_rows(labels: np.ndarray, ipc: int, rng: np.random.Generator) -> dict[int, np.ndarray]:
    """Per class, ``ipc`` distinct random rows (fewer where the class has fewer)."""
    return {int(c): rng.choice(np.flatnonzero(labels == c), size=min(ipc, int((labels == c).sum())), replace=False)
            for c in np.unique(labels)}


def pixels(ctx: RecipeContext, split: Split) -> torch.Tensor:
    encoded = ctx.family.encode(ctx.dense, split, ctx.inputs, int(ctx.budget.get("max_length", 128)))
    return torch.stack([e["pixel_values"] for e in encoded])


def nearest_attribute(images: torch.Tensor, reference: torch.Tensor, attribute: np.ndarray) -> np.ndarray:
    """Each image's attribute value by its nearest per-value centroid of mean-RGB chromaticity (the
    share of each channel in the image's mean colour), fitted on ``reference`` images: what an
    image's tint looks like after synthesis, where its initial row no longer says."""
    def chroma(x):
        rgb = (x * 0.5 + 0.5).clamp(0, 1).mean(dim=(2, 3))
        return (rgb / rgb.sum(1, keepdim=True).clamp_min(1e-6)).numpy()

    values = np.unique(attribute)
    ref = chroma(reference)
    centroids = np.stack([ref[attribute == v].mean(0) for v in values])
    distance = ((chroma(images)[:, None, :] - centroids[None]) ** 2).sum(-1)
    return values[distance.argmin(1)]


def synthetic_composition(ctx: RecipeContext, core: Split, core_pixels: torch.Tensor, synthetic: torch.Tensor,
                          labels: np.ndarray) -> dict[str, int]:
    spec = ctx.data.spec
    if len(spec.groups.by) != 1:
        return {}
    attr = spec.groups.by[0]
    measured = nearest_attribute(synthetic, core_pixels, core.frame[attr].to_numpy())
    frame = pd.DataFrame({spec.label: labels, attr: measured})
    keys = group_keys(frame, spec.label, spec.groups.by, spec.groups.include_label)
    return {k: int(v) for k, v in keys.value_counts().sort_index().items()}


def dc_loops(budget: dict) -> tuple[int, int] | None:
    """Budget override of DC's (outer, inner) loop counts; the paper's per-IPC table otherwise."""
    if "dd_dc_outer_loop" not in budget:
        return None
    return int(budget["dd_dc_outer_loop"]), int(budget.get("dd_dc_inner_loop", 1))


def dataset_distillation(ctx: RecipeContext, method: str, ipc: int, keep: int, order: str) -> Bundle:
    """{method} synthesis of {ipc} images per class from the lowest/highest-loss {keep}% ({order}), fresh model trained on them."""
    spec, budget, seed = ctx.data.spec, ctx.budget, ctx.seed
    rows = core_set(ctx, keep, order)
    core = ctx.train_split.subset(rows)
    core_pixels = pixels(ctx, core)
    rng = np.random.default_rng(seed)
    chosen = initial_rows(core.labels, ipc, rng)
    init_images, labels, init_groups = [], [], []
    noise = torch.Generator().manual_seed(seed)
    for c in range(spec.num_labels):
        picked = chosen.get(c, np.zeros(0, dtype=np.int64))
        shortfall = ipc - len(picked)   # DC's noise initialisation for what the core-set cannot supply
        init_images += [core_pixels[picked], torch.randn(shortfall, *core_pixels.shape[1:], generator=noise)]
        labels += [c] * ipc
        init_groups += [ctx.data.group_names[g] for g in core.groups[picked]] + ["noise"] * shortfall
    initial = torch.cat(init_images)
    synthetic = initial.clone().requires_grad_(True)
    label_t = torch.as_tensor(labels, dtype=torch.long)
    defaults = PAPER[method]
    config = SynthesisConfig(iterations=int(budget.get(f"dd_{method}_iterations", defaults["iterations"])),
                             batch_real=int(budget.get("dd_batch_real", defaults["batch_real"])),
                             lr_img=float(defaults["lr_img"]), width=int(budget.get("dd_width", defaults["width"])),
                             lr_net=float(defaults.get("lr_net", 0.01)), seed=seed, loops=dc_loops(budget))
    real = {c: core_pixels[torch.as_tensor(core.labels == c)] for c in range(spec.num_labels)
            if (core.labels == c).any()}
    start = time.perf_counter()
    log = SYNTHESISERS.get(method)(real, synthetic, label_t, config)
    synthesis_seconds = time.perf_counter() - start
    learned = synthetic.detach()
    torch.manual_seed(seed)
    fresh = build_dense(spec.dense_model, spec.family, spec.num_labels)
    eval_config = EvalTrainConfig(epochs=int(budget.get("dd_eval_epochs", EvalTrainConfig.epochs)))
    steps = train_on_images(fresh, learned, label_t, eval_config, seed)
    fresh.meta.update(init="random", trained_on="synthetic")
    fresh.meta["report"] = {
        "scorer": SCORER, "method": method, "images_per_class": ipc, "keep_percent": keep, "order": order,
        "coreset_size": int(len(rows)), "coreset_composition": composition(core.groups, ctx.data.group_names),
        "train_composition": composition(ctx.train_split.groups, ctx.data.group_names),
        "synthetic_size": int(len(learned)), "synthetic_init_composition": dict(sorted(Counter(init_groups).items())),
        "synthetic_composition_nearest_colour": synthetic_composition(ctx, core, core_pixels, learned, np.asarray(labels)),
        "synthesis": {"iterations": config.iterations, "batch_real": config.batch_real, "convnet_width": config.width,
                      "lr_img": config.lr_img, "dsa": list(config.dsa), "seconds": synthesis_seconds,
                      "seconds_per_iteration": log.seconds_per_iteration,
                      "loss_first": log.losses[0] if log.losses else None,
                      "loss_last": log.losses[-1] if log.losses else None,
                      "mean_abs_pixel_change": float((learned - initial).abs().mean())},
        "fresh_model": {"architecture": spec.dense_model, "epochs": eval_config.epochs, "steps": steps,
                        "train_examples": int(len(learned))},
    }
    fresh.meta["notes"] = (f"fresh {spec.dense_model} trained only on {len(learned)} {method.upper()} images "
                           f"({ipc}/class) distilled from {len(rows)} core-set rows ({keep}% {order}, dense-model loss)")
    return fresh


METHODS = ["dm", "dc"]
IPCS = [1, 10, 50]
for _name, _sweep in (("dd-{method}-ipc{ipc}-keep{keep}-{order}", {"keep": [60, 20], "order": ["asc", "desc"]}),
                      ("dd-{method}-ipc{ipc}-keep{keep}", {"keep": [100], "order": ["all"]})):
    register_recipe(_name, family="data-distillation", applies_to=IMAGE_FAMILIES,
                    sweep={"method": METHODS, "ipc": IPCS, **_sweep})(dataset_distillation)
