"""The generative track's runner: generative tasks x recipes x seeds -> one Record each.

Per dense decoder the expensive things happen once: the dense model is loaded from the cache
(SmolLM2 is converted from its GGUF on first use), its corpus is sampled and cached, and its
raw outputs on every task are cached per (task, settings, seed). Each recipe is built once per
seed and evaluated on every pending task. A record whose run_id matches is skipped unless
``force``; records are written atomically, so rerunning the same command resumes.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from benchmark.cache import get_or_create
from benchmark.errors import BenchmarkError, RecipeUnavailable
from benchmark.generative.context import decoder_budget, decoder_context
from benchmark.generative.corpus import CorpusConfig, corpus_key
from benchmark.generative.family import NAME as FAMILY
from benchmark.generative.kinds import KINDS, EvalData, Env, Raw, TaskKind
from benchmark.generative.models import decoder_key, load_decoder
from benchmark.generative.spec import GenerativeTaskSpec
from benchmark.locks import lock_for
from benchmark.metrics.efficiency import parameter_counts, saved_bytes
from benchmark.models.bundle import Bundle
from benchmark.provenance import numerics, provenance
from benchmark.recipes import RECIPES, Recipe
from benchmark.records import Record, record_path, stable_hash, write_record
from benchmark.runner import Outcome
from benchmark.tracks import Track
from benchmark.units import Unit
from benchmark.validation import is_finished

GENERATIVE_VERSION = 2   # bump when evaluation changes, so cached dense outputs and records are redone


@dataclass
class PreparedTask:
    spec: GenerativeTaskSpec
    kind: TaskKind
    settings: dict
    data: EvalData | None = None
    scorer: object = None

    def load(self) -> "PreparedTask":
        if self.data is None:
            from benchmark.data.sources import resolve_params   # relative paths: from the task file's folder
            base = Path(self.spec.path).parent if self.spec.path and not self.spec.path.startswith("<") else Path.cwd()
            params = resolve_params(self.spec.source, self.spec.source_params, base)
            self.data = self.kind.load(self.spec.source, params, self.spec.split, self.settings, self.spec.path)
        if self.kind.needs_scorer and self.scorer is None:
            from benchmark.generative.scorers import create_scorer
            self.scorer = create_scorer(self.spec.scorer["name"], self.spec.scorer.get("params"))
        return self


def task_settings(spec: GenerativeTaskSpec, profile: str, overrides: dict) -> dict:
    kind = KINDS.get(spec.kind)
    return {**spec.profile(profile), **{k: v for k, v in overrides.items() if k in kind.settings}}


def run_id(spec: GenerativeTaskSpec, recipe: Recipe, seed: int, profile: str, settings: dict, budget: dict,
           dense_key: str, threads: int = 0) -> str:
    """Everything that changes a generative record's numbers, the torch thread count included
    (``threads``: the count the unit will run with; 0 = this process's)."""
    return stable_hash({"track": "generative", "task": spec.content_hash(), "dense": dense_key,
                        "recipe": recipe.config_hash(), "seed": seed, "profile": profile, "settings": settings,
                        "budget": budget, "version": GENERATIVE_VERSION, "numerics": numerics(threads)})


def _save_raw(folder: Path, raw: Raw) -> None:
    np.savez(folder / "raw.npz", **raw)


def _load_raw(folder: Path) -> Raw:
    with np.load(folder / "raw.npz", allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def dense_outputs(task: PreparedTask, dense: Bundle, env: Env, key: str) -> Raw:
    """The dense model's raw outputs on a task, computed once and cached."""
    def create(folder):
        _save_raw(folder, task.kind.run(dense, task.data, task.settings, replace(env, dense_raw=None)))
    return _load_raw(get_or_create("decoder-outputs", key, create))


def efficiency_of(bundle: Bundle) -> dict:
    return {**parameter_counts(bundle.model), "bytes": saved_bytes(bundle.model), "notes": bundle.meta.get("notes", "")}


def run_specs(specs: list[GenerativeTaskSpec], recipe_names: list[str], seeds: list[int], results_dir: Path,
              profile: str = "quick", force: bool = False, overrides: dict | None = None,
              report: Callable[[Outcome], None] = lambda o: None,
              decoders: dict[str, Bundle] | None = None) -> list[Outcome]:
    """``decoders``: dense decoders by name loaded before (filled as they are loaded), so a worker that
    runs many units loads each once."""
    overrides = dict(overrides or {})
    decoders = {} if decoders is None else decoders
    outcomes: list[Outcome] = []

    def note(outcome: Outcome) -> None:
        outcomes.append(outcome)
        report(outcome)

    budget = decoder_budget(profile, overrides)
    by_model: dict[str, list[GenerativeTaskSpec]] = {}
    for spec in specs:
        by_model.setdefault(spec.dense_model, []).append(spec)
    for model_name, model_specs in by_model.items():
        tasks = {s.name: PreparedTask(s, KINDS.get(s.kind), task_settings(s, profile, overrides)) for s in model_specs}
        dense_key = decoder_key(model_name)   # known before (and without) loading the weights
        dense: Bundle | None = decoders.get(model_name)
        for seed in seeds:
            for recipe_name in recipe_names:
                recipe = RECIPES.get(recipe_name)
                pending = []
                for task in tasks.values():
                    spec = task.spec
                    if FAMILY not in recipe.applies_to:
                        note(Outcome(spec.name, recipe_name, seed, "not applicable", f"{FAMILY} models"))
                        continue
                    reason = recipe.unavailable_reason()
                    if reason:
                        note(Outcome(spec.name, recipe_name, seed, "unavailable", reason))
                        continue
                    rid = run_id(spec, recipe, seed, profile, task.settings, budget, dense_key)
                    path = record_path(results_dir, spec.name, recipe_name, seed)
                    if not force and is_finished(path, rid, spec):
                        note(Outcome(spec.name, recipe_name, seed, "skipped", "finished before", path))
                        continue
                    pending.append((task, rid, path))
                if not pending:
                    continue
                start = time.perf_counter()
                report(Outcome(pending[0][0].spec.name, recipe_name, seed, "running",
                               "building the compressed decoder" + ("" if dense else "; loading the dense one first")))
                dense = decoders[model_name] = dense or load_decoder(model_name)
                try:
                    ctx = decoder_context(dense, profile, seed, overrides)
                    compressed = recipe.apply(ctx)
                except RecipeUnavailable as exc:
                    for task, _, _ in pending:
                        note(Outcome(task.spec.name, recipe_name, seed, "unavailable", str(exc)))
                    continue
                except Exception as exc:  # one broken recipe must not stop the others
                    if os.environ.get("CSBENCH_DEBUG"):
                        raise
                    for task, _, _ in pending:
                        note(Outcome(task.spec.name, recipe_name, seed, "failed", f"{type(exc).__name__}: {exc}"))
                    continue
                build_seconds = time.perf_counter() - start
                efficiency = efficiency_of(compressed)
                env = Env(seed=seed, dense=dense, heldout_texts=ctx.data.test.frame["full_text"].tolist())
                for task, rid, path in pending:
                    with lock_for(path):   # one writer per record, whatever runs the units
                        if not force and is_finished(path, rid, task.spec):
                            note(Outcome(task.spec.name, recipe_name, seed, "skipped", "finished by another worker",
                                         path))
                            continue
                        begin = time.perf_counter()
                        report(Outcome(task.spec.name, recipe_name, seed, "running", "evaluating"))
                        try:
                            record, arrays = evaluate_task(task.load(), recipe, compressed, ctx.dense, env, seed,
                                                           profile, rid, dense_key, efficiency, budget)
                        except Exception as exc:
                            if os.environ.get("CSBENCH_DEBUG") or isinstance(exc, BenchmarkError):
                                raise
                            note(Outcome(task.spec.name, recipe_name, seed, "failed", f"{type(exc).__name__}: {exc}"))
                            continue
                        record.provenance["recipe_build_s"] = round(build_seconds, 3)
                        write_record(path, record, arrays)
                    note(Outcome(task.spec.name, recipe_name, seed, "done",
                                 f"{time.perf_counter() - begin:.0f}s (+{build_seconds:.0f}s build)", path))
                del ctx, compressed
    return outcomes


def evaluate_task(task: PreparedTask, recipe: Recipe, compressed: Bundle, unchanged: Bundle, env: Env, seed: int,
                  profile: str, rid: str, dense_key: str, efficiency: dict, budget: dict) -> tuple[Record, Raw]:
    """Score one compressed decoder on one task against the cached dense outputs."""
    start = time.perf_counter()
    env = replace(env, scorer=task.scorer)
    output_key = stable_hash({"dense": dense_key, "task": task.spec.content_hash(), "settings": task.settings,
                              "seed": seed, "corpus": corpus_key(env.dense, CorpusConfig.from_budget(budget)),
                              "version": GENERATIVE_VERSION})
    dense_raw = dense_outputs(task, env.dense, env, output_key)
    # The reference recipe hands back the context's dense model untouched: its outputs are the cached ones.
    raw = dense_raw if compressed is unchanged else task.kind.run(compressed, task.data, task.settings,
                                                                  replace(env, dense_raw=dense_raw))
    metrics = task.kind.summarise(raw, dense_raw, task.data.group_names, task.settings)
    spec = task.spec
    base = spec.profile(profile)
    overrides = {k: v for k, v in task.settings.items() if k not in base or base[k] != v}   # --set, in the run id
    record = Record(
        run_id=rid, track="generative",
        task={"name": spec.name, "version": spec.version, "spec_hash": spec.content_hash(), "kind": spec.kind,
              "file": str(spec.path)},
        model={"dense": spec.dense_model, "family": FAMILY, "dense_key": dense_key,
               "notes": env.dense.meta.get("notes", "")},
        recipe={"name": recipe.name, "family": recipe.family, "params": recipe.params,
                "config_hash": recipe.config_hash()},
        seed=seed, profile=profile, metrics=metrics, efficiency={**efficiency, **task.kind.throughput(raw)},
        group_names=list(task.data.group_names),
        provenance={**provenance(time.perf_counter() - start), "settings": task.settings, "overrides": overrides,
                    "decoder_budget": budget,
                    "scorer": task.scorer.describe() if task.scorer is not None else None,
                    "dense_outputs_key": output_key, "generative_version": GENERATIVE_VERSION})
    arrays = {**raw, **{f"dense_{k}": v for k, v in dense_raw.items()}}
    return record, arrays


def load_generative_specs(task_names: list[str]) -> list[GenerativeTaskSpec]:
    from benchmark.data.catalog import load_task, track_of
    specs = [load_task(name) for name in task_names]
    wrong = [s.name for s in specs if track_of(s) != "generative"]
    if wrong:
        raise BenchmarkError(f"not generative task(s): {', '.join(wrong)} (run them with csbench run)")
    return specs


def run_generative(task_names: list[str], recipe_names: list[str], seeds: list[int], results_dir: str | Path,
                   profile: str = "quick", force: bool = False, overrides: dict | None = None,
                   report: Callable[[Outcome], None] = lambda o: None) -> list[Path]:
    """Run every (task, recipe, seed); return the paths of the finished records (new or skipped)."""
    specs = load_generative_specs(task_names)
    outcomes = run_specs(specs, RECIPES.select(recipe_names), list(seeds), Path(results_dir), profile, force,
                         overrides, report)
    return [o.path for o in outcomes if o.status in ("done", "skipped") and o.path is not None]


def run_track(plan, specs, report) -> list[Outcome]:
    """The sequential executor of the track (``csbench run`` hands generative specs of a RunPlan here):
    each compressed decoder is built once and evaluated on every task of its dense model."""
    return run_specs(specs, plan.recipes, plan.seeds, Path(plan.results_dir), plan.profile, plan.force,
                     plan.overrides, report)


def plan_track(plan, specs) -> tuple[list[Unit], list[Outcome]]:
    """Units in run_specs's order: per dense decoder one dense unit, then per seed and recipe one unit
    per task. A unit run by itself builds its compressed decoder for its one task."""
    import torch
    budget = decoder_budget(plan.profile, plan.overrides)
    threads = getattr(plan, "threads", 0) or torch.get_num_threads()   # fixed now: it is part of the run id
    common = dict(track="generative", profile=plan.profile, overrides=dict(plan.overrides),
                  results_dir=str(plan.results_dir), force=plan.force, n_boot=plan.n_boot,
                  threads=threads, recipe_files=tuple(getattr(plan, "recipe_files", ())))
    units: list[Unit] = []
    outcomes: list[Outcome] = []
    by_model: dict[str, list[GenerativeTaskSpec]] = {}
    for spec in specs:
        by_model.setdefault(spec.dense_model, []).append(spec)
    for model_name, model_specs in by_model.items():
        key = decoder_key(model_name)
        first = model_specs[0]
        model_units = []
        for seed in plan.seeds:
            for recipe_name in plan.recipes:
                recipe = RECIPES.get(recipe_name)
                for spec in model_specs:
                    if FAMILY not in recipe.applies_to:
                        outcomes.append(Outcome(spec.name, recipe_name, seed, "not applicable", f"{FAMILY} models"))
                        continue
                    reason = recipe.unavailable_reason()
                    if reason:
                        outcomes.append(Outcome(spec.name, recipe_name, seed, "unavailable", reason))
                        continue
                    rid = run_id(spec, recipe, seed, plan.profile, task_settings(spec, plan.profile, plan.overrides),
                                 budget, key, threads)
                    model_units.append(Unit(kind="recipe", task=spec.name, task_file=str(spec.path),
                                            spec_hash=spec.content_hash(), recipe=recipe_name, seed=seed, run_id=rid,
                                            dense_key=key, spec=spec, **common))
        if model_units:
            units.append(Unit(kind="dense", task=first.name, task_file=str(first.path), spec_hash=first.content_hash(),
                              recipe="", seed=plan.seeds[0], run_id="", dense_key=key, spec=first, **common))
            units += model_units
    return units, outcomes


class GenerativeWorker:
    """Runs generative units in one process, keeping each dense decoder it loaded."""

    def __init__(self):
        self.decoders: dict[str, Bundle] = {}

    def run(self, unit: Unit, report: Callable[[Outcome], None] = lambda o: None) -> Outcome | None:
        from benchmark.runner import unit_spec
        spec = unit_spec(unit)
        if unit.kind == "dense":   # converts (SmolLM2 from its GGUF) into the shared cache once
            report(Outcome(spec.name, "(dense decoder)", unit.seed, "running", f"loading {spec.dense_model}"))
            if spec.dense_model not in self.decoders:
                self.decoders[spec.dense_model] = load_decoder(spec.dense_model)
            return None
        outcomes = run_specs([spec], [unit.recipe], [unit.seed], Path(unit.results_dir), unit.profile, unit.force,
                             unit.overrides, lambda o: report(o) if o.status == "running" else None,
                             decoders=self.decoders)
        return outcomes[0] if outcomes else None


TRACK = Track(run=run_track, plan_units=plan_track, unit_runner=GenerativeWorker)
