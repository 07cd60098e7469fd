"""The recipe contract: a registered, parametrised way to turn a dense model into a compressed one.

A builder is a plain function ``builder(ctx: RecipeContext, **params) -> Bundle``. Decorate it
with ``@register_recipe``; a ``sweep`` expands it into one registered setting per parameter
combination, each with its own stable name and config hash::

    @register_recipe("prune-magnitude-{sparsity}", family="pruning", applies_to=ENCODERS,
                     sweep={"sparsity": [20, 40, 60, 80]})
    def magnitude(ctx, sparsity): ...
"""
from __future__ import annotations

import hashlib
import inspect
import itertools
import json
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from benchmark.data.dataset import Split, TaskData
from benchmark.errors import RecipeUnavailable
from benchmark.models.bundle import Bundle
from benchmark.models.families import MODEL_FAMILIES
from benchmark.models.training import LossFn, TrainConfig, train
from benchmark.registry import Registry

ENCODERS = ("encoder_cls", "encoder_mc")
CLASSIFIERS = ("encoder_cls", "encoder_mc", "resnet")
SOURCE_HASH_ATTR = "__csbench_source_sha256__"   # set on a --recipe-file module: its source is part of the config
METHOD_FAMILIES = ("reference", "control", "distillation", "pruning", "quantization", "fairness", "vocabulary",
                   "data-distillation")


@dataclass
class RecipeContext:
    """Everything a recipe may use. ``dense`` is shared: call ``dense.clone()`` before changing it."""
    dense: Bundle
    data: TaskData
    budget: dict[str, Any]
    seed: int
    _teacher_logits: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.data.spec.inputs

    @property
    def train_split(self) -> Split:
        return self.data.train

    def train_config(self, **overrides) -> TrainConfig:
        """The task's training budget; recipes train for ``recipe_epochs`` unless told otherwise."""
        overrides.setdefault("epochs", self.budget.get("recipe_epochs", self.budget.get("epochs", 1)))
        return TrainConfig.from_budget(self.budget, **overrides)

    def fine_tune(self, bundle: Bundle, *, loss_fn: LossFn | None = None, split: Split | None = None,
                  desc: str = "recover", on_step=None, **overrides) -> Bundle:
        return train(bundle, split or self.train_split, self.inputs, self.train_config(**overrides),
                     seed=self.seed, loss_fn=loss_fn, desc=desc, on_step=on_step)

    def teacher_logits(self, split_name: str = "train") -> np.ndarray:
        """Dense-model logits on a split, computed once per context (KD, data scoring, baselines)."""
        if split_name not in self._teacher_logits:
            from benchmark.models.inference import predict_logits
            self._teacher_logits[split_name] = predict_logits(
                self.dense, self.data.splits[split_name], self.inputs,
                batch_size=int(self.budget.get("eval_batch_size", 64)),
                max_length=int(self.budget.get("max_length", 128)))
        return self._teacher_logits[split_name]

    @property
    def family(self):
        return MODEL_FAMILIES.get(self.dense.family)


@dataclass(frozen=True)
class Recipe:
    name: str
    family: str                        # method family: distillation, pruning, quantization, ...
    applies_to: tuple[str, ...]        # model families it can compress
    params: dict[str, Any]
    builder: Callable[..., Bundle]
    description: str = ""
    check: Callable[[], str | None] | None = None   # why it cannot run here, or None
    version: int = 1                   # bump when the builder's behaviour changes
    fits: Callable[[Any], str | None] | None = None  # why it is no compression of a task's dense model, or None

    def unavailable_reason(self) -> str | None:
        return self.check() if self.check else None

    def not_applicable_reason(self, spec) -> str | None:
        """Why this recipe does not apply to a task (``TaskSpec``): another model family, or ``fits``."""
        if spec.family not in self.applies_to:
            return f"it applies to {', '.join(self.applies_to)} models; this task has {spec.family} models"
        return self.fits(spec) if self.fits else None

    def config(self) -> dict[str, Any]:
        config = {"builder": f"{self.builder.__module__}.{self.builder.__qualname__}",
                  "params": self.params, "version": self.version}
        source = getattr(self.builder, "__globals__", {}).get(SOURCE_HASH_ATTR)
        if source:   # a recipe from --recipe-file: edited code is a different recipe
            config["source_sha256"] = source
        return config

    def config_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.config(), sort_keys=True, default=str).encode()).hexdigest()[:12]

    def apply(self, ctx: RecipeContext) -> Bundle:
        reason = self.unavailable_reason()
        if reason:
            raise RecipeUnavailable(f"recipe {self.name!r} cannot run here: {reason}")
        if ctx.dense.family not in self.applies_to:
            raise RecipeUnavailable(f"recipe {self.name!r} does not apply to {ctx.dense.family!r} models")
        torch.manual_seed(ctx.seed)
        return self.builder(ctx, **self.params)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "family": self.family, "applies_to": list(self.applies_to),
                "params": self.params, "config_hash": self.config_hash(), "description": self.description,
                "unavailable": self.unavailable_reason()}


RECIPES: Registry[Recipe] = Registry("recipe", entry_point_group="csbench.recipes", base=Recipe)


def register_recipe(name: str, *, family: str, applies_to: tuple[str, ...], params: dict | None = None,
                    sweep: dict[str, list] | None = None, description: str = "",
                    check: Callable[[], str | None] | None = None, version: int = 1,
                    fits: Callable[[Any], str | None] | None = None):
    """Register a builder as one recipe, or as one recipe per point of ``sweep``.

    ``name`` may hold ``{param}`` fields filled from each sweep point.
    """
    if family not in METHOD_FAMILIES:
        raise ValueError(f"family must be one of {METHOD_FAMILIES}, got {family!r}")

    def decorate(builder: Callable[..., Bundle]):
        doc = description or (inspect.getdoc(builder) or "").split("\n")[0]
        keys = list((sweep or {}).keys())
        for values in itertools.product(*[(sweep or {})[k] for k in keys]):
            point = {**(params or {}), **dict(zip(keys, values))}
            setting = name.format(**point)
            RECIPES.register(setting, Recipe(setting, family, tuple(applies_to), point, builder,
                                             doc.format(**point) if "{" in doc else doc, check, version, fits))
        return builder
    return decorate
