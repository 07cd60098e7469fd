"""The submitit executor: dense units as one Slurm job array, recipe units as a second array that
depends on it (afterok), so one command submits the whole grid; where no Slurm exists, submitit's
local executor runs each dense unit and then the recipe units needing it in one local job.

Needs the slurm extra: pip install 'csbench[slurm]'. Workers on other nodes must see the same
$CSBENCH_CACHE and results folder (a shared file system) and the same installed csbench.
"""
from __future__ import annotations

from typing import Callable

from benchmark.errors import BenchmarkError
from benchmark.executors import (ExecutorOptions, build_graph, failed_outcome, require, submitted,
                                 threads_per_job, with_threads)
from benchmark.executors.worker import run_batch, run_in_worker


def make_executor(options: ExecutorOptions):
    submitit = require("submitit", "submitit", "slurm")
    try:
        executor = submitit.AutoExecutor(folder=str(options.log_dir), cluster=options.submitit_cluster)
    except (ValueError, RuntimeError) as exc:
        raise BenchmarkError(f"--submitit-cluster {options.submitit_cluster}: {exc}") from None
    # a Slurm job gets the cores it asks for (--threads, default 1); a local one its share of this machine
    threads = options.threads or (1 if executor.cluster == "slurm" else threads_per_job(options))
    params = dict(name="csbench", timeout_min=options.slurm_time_min, cpus_per_task=threads,
                  gpus_per_node=int(options.gpus) if options.gpus else 0)
    if executor.cluster == "slurm":
        params.update(slurm_array_parallelism=options.jobs)
        if options.slurm_partition:
            params["slurm_partition"] = options.slurm_partition
        if options.slurm_mem_gb:
            params["mem_gb"] = options.slurm_mem_gb
    executor.update_parameters(**params)
    return executor, threads


def chunks(units: list, n: int) -> list[list]:
    """n round-robin batches: submitit's local executor starts every job at once, so --jobs bounds it."""
    return [batch for batch in (units[i::n] for i in range(n)) if batch]


def collect(jobs_units: list[tuple], report: Callable) -> dict[int, object]:
    """Wait for each job; a job that raised or was cancelled fails the units it ran."""
    results: dict[int, object] = {}
    for job, units in jobs_units:
        try:
            outcomes = job.result()
            outcomes = outcomes if isinstance(outcomes, list) else [outcomes]
        except Exception as exc:
            why = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
            outcomes = [failed_outcome(u, f"job {job.job_id}: {why}") for u in units]
        for unit, outcome in zip(units, outcomes):
            if outcome is not None:
                results[id(unit)] = outcome
                report(outcome)
    return results


def run_submitit(plans: list, options: ExecutorOptions, report: Callable) -> list:
    executor, threads = make_executor(options)
    graph = build_graph(with_threads(plans, threads), report)
    if executor.cluster == "slurm":
        results = submit_slurm(executor, graph, report)
    else:
        results = submit_chains(executor, graph, options, report)
    return graph.outcomes + [results[id(u)] for u in graph.recipes if id(u) in results]


def submit_arrays(executor, graph, report: Callable = lambda o: None) -> tuple[list, list]:
    """Both arrays at once; Slurm starts the recipe array only after every dense task succeeded."""
    dense_jobs = executor.map_array(run_in_worker, graph.dense, ["submitit"] * len(graph.dense))
    if dense_jobs:   # afterok on the array id: every dense task; a failed one cancels the recipe array
        array_id = dense_jobs[0].job_id.split("_")[0]
        executor.update_parameters(slurm_additional_parameters={"dependency": f"afterok:{array_id}",
                                                                "kill-on-invalid-dep": "yes"})
    recipe_jobs = executor.map_array(run_in_worker, graph.recipes, ["submitit"] * len(graph.recipes))
    for job, unit in zip(dense_jobs + recipe_jobs, graph.dense + graph.recipes):
        report(submitted(unit, f"Slurm job {job.job_id}"))
    return dense_jobs, recipe_jobs


def submit_slurm(executor, graph, report: Callable) -> dict[int, object]:
    if not graph.recipes:
        return {}
    dense_jobs, recipe_jobs = submit_arrays(executor, graph, report)
    collect([(job, [unit]) for job, unit in zip(dense_jobs, graph.dense)], report)
    return collect([(job, [unit]) for job, unit in zip(recipe_jobs, graph.recipes)], report)


def submit_chains(executor, graph, options: ExecutorOptions, report: Callable) -> dict[int, object]:
    """No Slurm (local jobs cannot depend on each other): one chain per dense unit, the dense unit then
    the recipe units needing it, in one process; the chains spread round-robin over --jobs jobs."""
    chains = [[dense, *[u for u in graph.recipes if u.dense_key == dense.dense_key]] for dense in graph.dense]
    batches = [[unit for chain in group for unit in chain] for group in chunks(chains, options.jobs)]
    jobs = executor.map_array(run_batch, batches, ["submitit-local"] * len(batches)) if batches else []
    for job, batch in zip(jobs, batches):
        for unit in batch:
            report(submitted(unit, f"local job {job.job_id}"))
    return collect(list(zip(jobs, batches)), report)
