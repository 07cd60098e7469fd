"""Expand tasks x recipes x seeds into units, reuse the cached dense model, skip finished records, resume.

plan_units turns a RunPlan into units (benchmark.units): per (task, seed) a dense unit, then one
recipe unit per recipe that depends on it. run_plan is the sequential executor: it runs the needed
units in order in this process; benchmark.executors fans the same units out.

A record exists only when its run finished (records.write_record is atomic), so an interrupted
run is resumed by running the same command again.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from benchmark.data.dataset import TaskData, load_task_data
from benchmark.data.spec import TaskSpec
from benchmark.dense import DENSE_VERSION, DenseReference, dense_key_for, eval_settings, get_dense
from benchmark.errors import BenchmarkError, RecipeUnavailable
from benchmark.evaluator import evaluate
from benchmark.locks import lock_for
from benchmark.metrics.efficiency import parameter_counts, saved_bytes
from benchmark.models.bundle import Bundle
from benchmark.models.inference import predict_logits
from benchmark.provenance import numerics, provenance
from benchmark.recipes import RECIPES, Recipe, RecipeContext
from benchmark.records import Record, record_path, stable_hash, write_record
from benchmark.tracks import Track
from benchmark.units import Unit


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
    threads: int = 0                 # torch threads per unit; 0 leaves the process's setting
    recipe_files: list[str] = field(default_factory=list)   # --recipe-file modules (a fresh worker loads them)

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


def run_id(spec: TaskSpec, recipe: Recipe, seed: int, profile: str, budget: dict, data_fingerprint: str,
           n_boot: int = 1000, threads: int = 0) -> str:
    """The one run id of a classification record: everything that changes its numbers. Task definition,
    data loaded, model, recipe (its config hash covers a --recipe-file's source), seed, budget, bootstrap
    size, and ``numerics``: the torch thread count the unit runs with (``threads``; 0 = this process's),
    float32 matmul precision and default dtype."""
    return stable_hash({"task": spec.content_hash(), "dense_model": spec.dense_model, "recipe": recipe.config_hash(),
                        "seed": seed, "profile": profile, "budget": budget, "dense_version": DENSE_VERSION,
                        "data": data_fingerprint, "n_boot": n_boot, "numerics": numerics(threads)})


def finished(path: Path, expected_run_id: str, spec: TaskSpec | None = None) -> bool:
    """This run's record (run id) whose predictions and claims check out (benchmark.validation); an edited,
    unreadable or half-replaced record is not finished, so it is recomputed."""
    from benchmark.validation import is_finished
    return is_finished(path, expected_run_id, spec)


def score_recipe(recipe: Recipe, data: TaskData, dense: DenseReference, budget: dict, seed: int,
                 n_boot: int) -> tuple[dict, dict, dict]:
    """Apply one recipe and score the result: (metrics, efficiency, per-example arrays)."""
    # Each recipe gets its own copy of the dense weights; the teacher-logit cache is shared.
    ctx = RecipeContext(dense=dense.bundle.clone(), data=data, budget=budget, seed=seed,
                        _teacher_logits=dense.logit_cache)
    return score_bundle(recipe.apply(ctx), data, dense, budget, seed, n_boot)


def reusable_test_logits(bundle: Bundle, settings: dict) -> dict | None:
    """The test logits a dense model's cache already holds, when the recipe returned that dense model
    unchanged (``meta["unchanged_dense"]``) and asks for the settings they were computed with; predicting
    again would give the same numbers."""
    cached = bundle.meta.get("cached_test")
    if not bundle.meta.get("unchanged_dense") or cached is None:
        return None
    same = all(cached["timing"].get(k) == v for k, v in settings.items())
    return cached if same else None


def score_bundle(compressed: Bundle, data: TaskData, dense: DenseReference, budget: dict, seed: int,
                 n_boot: int) -> tuple[dict, dict, dict]:
    """Score any model of the task's family against the dense reference on the test split."""
    spec = data.spec
    timing: dict = {}
    # a bundle may carry its own evaluation settings (the dense-rebatch control does)
    settings = {**eval_settings(budget), **compressed.meta.get("eval_settings", {})}
    cached = reusable_test_logits(compressed, settings)
    if cached is not None:
        logits = cached["logits"]
        timing.update(seconds=cached["timing"]["seconds"], examples=cached["timing"]["examples"])
    else:
        logits = predict_logits(compressed, data.test, spec.inputs, desc="predict", timing=timing, **settings)
    result = evaluate(labels=data.test.labels, groups=data.test.groups, group_names=data.group_names,
                      logits=logits, dense_logits=dense.test_logits, n_boot=n_boot,
                      min_group_size=spec.groups.min_size)
    efficiency = {**parameter_counts(compressed.model), "bytes": saved_bytes(compressed.model),
                  "examples_per_second": timing["examples"] / max(timing["seconds"], 1e-9),
                  "notes": compressed.meta.get("notes", ""),
                  # what the recipe did (core-set composition, multipliers, vocabulary size, ...)
                  "recipe_report": compressed.meta.get("report", {})}
    arrays = {"index": np.arange(len(data.test)), "label": data.test.labels, "group": data.test.groups,
              "logits": logits.astype(np.float32), "dense_logits": dense.test_logits.astype(np.float32)}
    return result.as_metrics(), efficiency, arrays


def make_record(*, rid: str, spec: TaskSpec, dense: DenseReference, recipe: dict, seed: int, profile: str,
                scored: tuple[dict, dict, dict], data: TaskData, wall_time: float, extra: dict) -> Record:
    metrics, efficiency, _ = scored
    return Record(
        run_id=rid, track="classification",
        task={"name": spec.name, "version": spec.version, "spec_hash": spec.content_hash(),
              "group_min_size": spec.groups.min_size, "groups_absent_from_test": data.groups_absent_from_test,
              "data_fingerprint": data.fingerprint, "split_fingerprints": dict(data.split_fingerprints),
              "file": str(spec.path)},
        model={"dense": spec.dense_model, "family": spec.family, "dense_key": dense.key},
        recipe=recipe, seed=seed, profile=profile, metrics=metrics, efficiency=efficiency,
        group_names=data.group_names, provenance={**provenance(wall_time), **extra})


def unit_spec(unit: Unit):
    """The unit's task spec: the one it carries, else re-read from its task file (and checked unchanged)."""
    if unit.spec is not None:
        return unit.spec
    from benchmark.data.catalog import load_task
    spec = load_task(unit.task_file)
    if spec.content_hash() != unit.spec_hash:
        raise BenchmarkError(f"{unit.task_file}: the task changed since the unit was planned "
                             f"(spec hash {spec.content_hash()}, planned {unit.spec_hash}); plan again")
    return spec


def plan_units(plan: RunPlan, worker: "ClassificationWorker | None" = None) -> tuple[list[Unit], list[Outcome]]:
    """The classification units of a plan, in run order (each dense unit before the recipe units that
    need it), and the outcomes of pairs that are not run at all (recipe not applicable or unavailable).

    Each task's data is loaded once here: its fingerprint is part of every dense key and run id. A
    ``worker`` that will run the units keeps what it loaded, so the last task is not loaded twice."""
    worker = worker or ClassificationWorker()
    units: list[Unit] = []
    outcomes: list[Outcome] = []
    threads = plan.threads or torch.get_num_threads()   # fixed at planning: it is part of run ids and dense keys
    common = dict(profile=plan.profile, overrides=dict(plan.overrides), results_dir=str(plan.results_dir),
                  force=plan.force, n_boot=plan.n_boot, threads=threads, recipe_files=tuple(plan.recipe_files))
    for spec in plan.specs:
        budget = {**spec.profile(plan.profile), **plan.overrides}
        about = dict(track="classification", task=spec.name, task_file=str(spec.path), spec_hash=spec.content_hash(),
                     spec=spec, **common)
        applicable = [n for n in plan.recipes_for(spec) if not RECIPES.get(n).not_applicable_reason(spec)]
        # data is loaded only for a task some recipe applies to
        fingerprint = worker.load(spec, plan.profile, plan.overrides).fingerprint if applicable else ""
        for seed in plan.seeds:
            dense = Unit(kind="dense", recipe="", seed=seed, run_id="", data_fingerprint=fingerprint,
                         dense_key=dense_key_for(spec, spec.dense_model, budget, seed, fingerprint, threads), **about)
            recipe_units = []
            for name in plan.recipes_for(spec):
                recipe = RECIPES.get(name)
                why_not = recipe.not_applicable_reason(spec)
                if why_not:
                    outcomes.append(Outcome(spec.name, name, seed, "not applicable", why_not))
                    continue
                reason = recipe.unavailable_reason()
                if reason:
                    outcomes.append(Outcome(spec.name, name, seed, "unavailable", reason))
                    continue
                recipe_units.append(replace(dense, kind="recipe", recipe=name,
                                            run_id=run_id(spec, recipe, seed, plan.profile, budget, fingerprint,
                                                          plan.n_boot, threads)))
            units += [dense, *recipe_units] if recipe_units else []
    return units, outcomes


def is_finished(unit: Unit) -> bool:
    """A recipe unit whose record exists with its run id (and is not to be forced again)."""
    return (unit.kind == "recipe" and not unit.force
            and finished(record_path(Path(unit.results_dir), unit.task, unit.recipe, unit.seed), unit.run_id,
                         unit_spec(unit)))


def needed(units: list[Unit]) -> list[Unit]:
    """The units a run must execute, in plan order: recipe units not finished, and the dense units
    they depend on (a dense model whose records all exist is not trained again)."""
    todo = {id(u) for u in units if u.kind == "recipe" and not is_finished(u)}
    dense_keys = {u.dense_key for u in units if id(u) in todo}
    return [u for u in units if id(u) in todo or (u.kind == "dense" and u.dense_key in dense_keys)]


class ClassificationWorker:
    """Runs classification units in one process, keeping the data and dense model it loaded last for
    the next unit of the same task and seed (one of each, as the sequential runner always did)."""

    def __init__(self):
        self._data: tuple[str, TaskData] | None = None
        self._dense: tuple[str, DenseReference] | None = None

    def load(self, spec: TaskSpec, profile: str, overrides: dict) -> TaskData:
        key = stable_hash([spec.content_hash(), spec.path, profile, overrides])
        if self._data is None or self._data[0] != key:
            self._data = None   # free the previous task's data before loading the next
            self._data = (key, load_task_data(spec, profile, overrides=overrides))
        return self._data[1]

    def data(self, unit: Unit, spec: TaskSpec) -> TaskData:
        data = self.load(spec, unit.profile, unit.overrides)
        if unit.data_fingerprint and data.fingerprint != unit.data_fingerprint:
            raise BenchmarkError(f"{spec.path}: the task's data changed since the unit was planned (fingerprint "
                                 f"{data.fingerprint}, planned {unit.data_fingerprint}); plan again")
        return data

    def dense(self, unit: Unit, data: TaskData, budget: dict) -> DenseReference:
        if self._dense is None or self._dense[0] != unit.dense_key:
            self._dense = None
            self._dense = (unit.dense_key, get_dense(data, data.spec.dense_model, budget, unit.seed))
        return self._dense[1]

    def run(self, unit: Unit, report: Callable[[Outcome], None] = lambda o: None) -> Outcome | None:
        """A dense unit builds (or finds) its dense model; a recipe unit scores one recipe and writes its record."""
        spec = unit_spec(unit)
        budget = {**spec.profile(unit.profile), **unit.overrides}
        if unit.kind == "dense":
            report(Outcome(spec.name, "(dense model)", unit.seed, "running", "training it, or loading it from the cache"))
            self.dense(unit, self.data(unit, spec), budget)
            return None
        path = record_path(Path(unit.results_dir), spec.name, unit.recipe, unit.seed)
        if is_finished(unit):
            return Outcome(spec.name, unit.recipe, unit.seed, "skipped", "finished before", path)
        with lock_for(path):   # one writer per record, whatever runs the units
            if is_finished(unit):
                return Outcome(spec.name, unit.recipe, unit.seed, "skipped", "finished by another worker", path)
            return self.score(unit, spec, budget, path, report)

    def score(self, unit: Unit, spec: TaskSpec, budget: dict, path: Path,
              report: Callable[[Outcome], None]) -> Outcome:
        recipe = RECIPES.get(unit.recipe)
        start = time.perf_counter()
        report(Outcome(spec.name, unit.recipe, unit.seed, "running", "scoring"))   # progress where bars are off
        data = self.data(unit, spec)
        dense = self.dense(unit, data, budget)
        try:
            scored = score_recipe(recipe, data, dense, budget, unit.seed, unit.n_boot)
        except RecipeUnavailable as exc:
            return Outcome(spec.name, unit.recipe, unit.seed, "unavailable", str(exc))
        except Exception as exc:  # one broken recipe must not stop the others
            if os.environ.get("CSBENCH_DEBUG"):
                raise
            return Outcome(spec.name, unit.recipe, unit.seed, "failed", f"{type(exc).__name__}: {exc}")
        record = make_record(
            rid=unit.run_id, spec=spec, dense=dense, seed=unit.seed, profile=unit.profile, scored=scored, data=data,
            recipe={"name": recipe.name, "family": recipe.family, "params": recipe.params,
                    "config_hash": recipe.config_hash()},
            wall_time=time.perf_counter() - start, extra={"budget": budget, "n_boot": unit.n_boot})
        write_record(path, record, scored[2])
        return Outcome(spec.name, unit.recipe, unit.seed, "done", f"{time.perf_counter() - start:.0f}s", path)


def run_units(units: list[Unit], report: Callable[[Outcome], None] = lambda o: None,
              worker: ClassificationWorker | None = None) -> list[Outcome]:
    """The local sequential executor: units one after another in this process, sharing what was loaded."""
    worker = worker or ClassificationWorker()
    outcomes = []
    for unit in units:
        if unit.threads and torch.get_num_threads() != unit.threads:
            torch.set_num_threads(unit.threads)   # the count its run id and dense key were planned with
        outcome = worker.run(unit, report)
        if outcome is not None:
            outcomes.append(outcome)
            report(outcome)
    return outcomes


def run_plan(plan: RunPlan, report: Callable[[Outcome], None] = lambda o: None) -> list[Outcome]:
    """The classification track sequentially in this process: plan the units, then run each needed one."""
    worker = ClassificationWorker()
    units, outcomes = plan_units(plan, worker)
    for outcome in outcomes:
        report(outcome)
    dense_keys = {u.dense_key for u in needed(units)}
    # every recipe unit (a finished one reports "skipped"), and only the dense models still needed
    return outcomes + run_units([u for u in units if u.kind == "recipe" or u.dense_key in dense_keys], report,
                                worker)


def run_track(plan: RunPlan, specs: list, report: Callable[[Outcome], None]) -> list[Outcome]:
    return run_plan(replace(plan, specs=specs), report)


def plan_track(plan: RunPlan, specs: list) -> tuple[list[Unit], list[Outcome]]:
    return plan_units(replace(plan, specs=specs))


TRACK = Track(run=run_track, plan_units=plan_track, unit_runner=ClassificationWorker)
