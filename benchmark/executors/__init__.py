"""Executors: what runs the units of a plan. ``local`` (this machine: in process with --jobs 1, else a
process pool), ``submitit`` (Slurm job arrays, or submitit's local executor where no Slurm exists) and
``ray`` (Ray tasks on a local or an existing cluster). Every executor runs the same graph: the dense
units first, each recipe unit once the dense unit it depends on has finished.

submitit and ray are optional extras (pip install 'csbench[slurm]' / 'csbench[ray]').
"""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from benchmark.errors import BenchmarkError
from benchmark.registry import Registry, lazy

EXECUTORS: Registry[Callable] = Registry("executor")
EXECUTORS.register("local", lazy("benchmark.executors.pool:run_local"))
EXECUTORS.register("submitit", lazy("benchmark.executors.slurm:run_submitit"))
EXECUTORS.register("ray", lazy("benchmark.executors.ray_tasks:run_ray"))


@dataclass(frozen=True)
class ExecutorOptions:
    jobs: int = 1                     # units at once (pool workers, array parallelism, concurrent Ray tasks)
    threads: int = 0                  # torch threads per unit; 0: this machine's cores // jobs (Slurm: 1)
    gpus: float = 0                   # GPUs per unit (Slurm: gpus_per_node; Ray: num_gpus, a fraction allowed)
    slurm_partition: str | None = None
    slurm_time_min: int = 240
    slurm_mem_gb: float | None = None
    submitit_cluster: str | None = None   # None: slurm where srun exists, else local
    log_dir: Path = Path("results/.submitit")
    ray_address: str | None = None        # None: start a local Ray cluster for the run


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def threads_per_job(options: ExecutorOptions) -> int:
    """Each job gets its share of the cores, so jobs x threads never oversubscribes the machine."""
    return options.threads or max(1, available_cores() // max(1, options.jobs))


def require(executor: str, module: str, extra: str):
    """Import an executor's optional dependency, or stop with one line saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise BenchmarkError(f"--executor {executor} needs {module}, which is not installed: "
                             f"pip install 'csbench[{extra}]'") from None


@dataclass
class Graph:
    """What an executor must do: dense units to build, recipe units to run (each naming its dense unit
    by key), and the outcomes known without running anything (not applicable, unavailable, finished)."""
    dense: list
    recipes: list
    outcomes: list
    threads: int          # torch threads of each unit


def build_graph(plans: list, report: Callable) -> Graph:
    """One graph over several plans (a preset runs one plan per recipe list), so all their units are
    scheduled together."""
    from benchmark.records import record_path
    from benchmark.runner import Outcome, is_finished, needed
    from benchmark.tracks import plan_units
    units, outcomes = [], []
    for plan in plans:
        more, not_run = plan_units(plan)
        units += more
        outcomes += not_run
    todo = needed(units)
    outcomes += [Outcome(u.task, u.recipe, u.seed, "skipped", "finished before",
                         record_path(Path(u.results_dir), u.task, u.recipe, u.seed))
                 for u in units if u.kind == "recipe" and is_finished(u)]
    for outcome in outcomes:
        report(outcome)
    dense = list({u.dense_key: u for u in todo if u.kind == "dense"}.values())   # a key shared by plans: once
    return Graph(dense, [u for u in todo if u.kind == "recipe"], outcomes,
                 max((p.threads for p in plans), default=0))


def submitted(unit, where: str):
    """The progress line of a unit handed to a worker (its outcome follows when it finishes)."""
    from benchmark.runner import Outcome
    return Outcome(unit.task, unit.recipe or "(dense model)", unit.seed, "running", f"submitted to {where}")


def failed_outcome(unit, why: str):
    from benchmark.runner import Outcome
    return Outcome(unit.task, unit.recipe or "(dense model)", unit.seed, "failed", why)


def execute(plans, executor: str, options: ExecutorOptions, report: Callable = lambda o: None) -> list:
    """Run a plan (or several, as one graph) through the named executor; the outcomes of every
    (task, recipe, seed) of the plans."""
    run = EXECUTORS.get(executor)
    if options.jobs < 1:
        raise BenchmarkError(f"--jobs must be at least 1, got {options.jobs}")
    return run(list(plans) if isinstance(plans, (list, tuple)) else [plans], options, report)


def with_threads(plans: list, threads: int) -> list:
    """The plans with each unit's torch threads fixed (an explicit --threads wins)."""
    return [replace(plan, threads=plan.threads or threads) for plan in plans]
