"""Expand tasks x recipes x seeds, reuse the cached dense model, skip finished records, resume.

A record exists only when its run finished (records.write_record is atomic), so an interrupted
run is resumed by running the same command again.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from benchmark.data.dataset import TaskData, load_task_data
from benchmark.data.spec import TaskSpec
from benchmark.dense import DENSE_VERSION, DenseReference, eval_settings, get_dense
from benchmark.errors import BenchmarkError, RecipeUnavailable
from benchmark.evaluator import evaluate
from benchmark.metrics.efficiency import parameter_counts, saved_bytes
from benchmark.models.bundle import Bundle
from benchmark.models.inference import predict_logits
from benchmark.provenance import provenance
from benchmark.recipes import RECIPES, Recipe, RecipeContext
from benchmark.records import Record, record_path, read_record, stable_hash, write_record


@dataclass
class RunPlan:
    specs: list[TaskSpec]
    recipes: list[str]
    seeds: list[int]
    profile: str = "quick"
    results_dir: Path = Path("results")
    force: bool = False
    overrides: dict = field(default_factory=dict)   # budget overrides (part of the run id)
    n_boot: int = 1000
    recipes_by_family: dict[str, list[str]] = field(default_factory=dict)   # overrides `recipes` per family

    def recipes_for(self, spec: TaskSpec) -> list[str]:
        return self.recipes_by_family.get(spec.family, self.recipes)


@dataclass
class Outcome:
    task: str
    recipe: str
    seed: int
    status: str          # running | done | skipped (finished before) | unavailable | not applicable | failed
    detail: str = ""
    path: Path | None = None


def run_id(spec: TaskSpec, recipe: Recipe, seed: int, profile: str, budget: dict) -> str:
    return stable_hash({"task": spec.content_hash(), "dense_model": spec.dense_model, "recipe": recipe.config_hash(),
                        "seed": seed, "profile": profile, "budget": budget, "dense_version": DENSE_VERSION})


def finished(path: Path, expected_run_id: str) -> bool:
    if not path.exists():
        return False
    try:
        return read_record(path).run_id == expected_run_id
    except BenchmarkError:
        return False  # unreadable (e.g. hand-edited): recompute


def score_recipe(recipe: Recipe, data: TaskData, dense: DenseReference, budget: dict, seed: int,
                 n_boot: int) -> tuple[dict, dict, dict]:
    """Apply one recipe and score the result: (metrics, efficiency, per-example arrays)."""
    # Each recipe gets its own copy of the dense weights; the teacher-logit cache is shared.
    ctx = RecipeContext(dense=dense.bundle.clone(), data=data, budget=budget, seed=seed,
                        _teacher_logits=dense.logit_cache)
    return score_bundle(recipe.apply(ctx), data, dense, budget, seed, n_boot)


def score_bundle(compressed: Bundle, data: TaskData, dense: DenseReference, budget: dict, seed: int,
                 n_boot: int) -> tuple[dict, dict, dict]:
    """Score any model of the task's family against the dense reference on the test split."""
    spec = data.spec
    timing: dict = {}
    logits = predict_logits(compressed, data.test, spec.inputs, desc="predict", timing=timing,
                            **eval_settings(budget))
    result = evaluate(labels=data.test.labels, groups=data.test.groups, group_names=data.group_names,
                      logits=logits, dense_logits=dense.test_logits, n_boot=n_boot, seed=seed)
    efficiency = {**parameter_counts(compressed.model), "bytes": saved_bytes(compressed.model),
                  "examples_per_second": timing["examples"] / max(timing["seconds"], 1e-9),
                  "notes": compressed.meta.get("notes", "")}
    arrays = {"index": np.arange(len(data.test)), "label": data.test.labels, "group": data.test.groups,
              "logits": logits.astype(np.float32), "dense_logits": dense.test_logits.astype(np.float32)}
    return result.as_metrics(), efficiency, arrays


def make_record(*, rid: str, spec: TaskSpec, dense: DenseReference, recipe: dict, seed: int, profile: str,
                scored: tuple[dict, dict, dict], data: TaskData, wall_time: float, extra: dict) -> Record:
    metrics, efficiency, _ = scored
    return Record(
        run_id=rid, track="classification",
        task={"name": spec.name, "version": spec.version, "spec_hash": spec.content_hash()},
        model={"dense": spec.dense_model, "family": spec.family, "dense_key": dense.key},
        recipe=recipe, seed=seed, profile=profile, metrics=metrics, efficiency=efficiency,
        group_names=data.group_names, provenance={**provenance(wall_time), **extra})


def run_plan(plan: RunPlan, report: Callable[[Outcome], None] = lambda o: None) -> list[Outcome]:
    outcomes: list[Outcome] = []

    def note(outcome: Outcome):
        outcomes.append(outcome)
        report(outcome)

    for spec in plan.specs:
        budget = {**spec.profile(plan.profile), **plan.overrides}
        data: TaskData | None = None
        for seed in plan.seeds:
            dense: DenseReference | None = None
            for name in plan.recipes_for(spec):
                recipe = RECIPES.get(name)
                path = record_path(plan.results_dir, spec.name, name, seed)
                if spec.family not in recipe.applies_to:
                    note(Outcome(spec.name, name, seed, "not applicable", f"{spec.family} models"))
                    continue
                reason = recipe.unavailable_reason()
                if reason:
                    note(Outcome(spec.name, name, seed, "unavailable", reason))
                    continue
                rid = run_id(spec, recipe, seed, plan.profile, budget)
                if not plan.force and finished(path, rid):
                    note(Outcome(spec.name, name, seed, "skipped", "finished before", path))
                    continue
                start = time.perf_counter()
                report(Outcome(spec.name, name, seed, "running"))   # progress in logs, where bars are off
                data = data or load_task_data(spec, plan.profile, overrides=plan.overrides)
                dense = dense or get_dense(data, spec.dense_model, budget, seed)
                try:
                    scored = score_recipe(recipe, data, dense, budget, seed, plan.n_boot)
                except RecipeUnavailable as exc:
                    note(Outcome(spec.name, name, seed, "unavailable", str(exc)))
                    continue
                except Exception as exc:  # one broken recipe must not stop the others
                    if os.environ.get("CSBENCH_DEBUG"):
                        raise
                    note(Outcome(spec.name, name, seed, "failed", f"{type(exc).__name__}: {exc}"))
                    continue
                record = make_record(
                    rid=rid, spec=spec, dense=dense, seed=seed, profile=plan.profile, scored=scored, data=data,
                    recipe={"name": recipe.name, "family": recipe.family, "params": recipe.params,
                            "config_hash": recipe.config_hash()},
                    wall_time=time.perf_counter() - start, extra={"budget": budget, "n_boot": plan.n_boot})
                write_record(path, record, scored[2])
                note(Outcome(spec.name, name, seed, "done", f"{time.perf_counter() - start:.0f}s", path))
    return outcomes
