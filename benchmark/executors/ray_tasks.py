"""The Ray executor: every unit is a Ray task; a recipe unit's task takes its dense unit's result as an
argument, so Ray starts it only after the dense model is in the cache (and fails it if that failed).
Runs on an existing cluster (--ray-address) or on a local one started for the run.

Needs the ray extra: pip install 'csbench[ray]'. Nodes must share $CSBENCH_CACHE and the results folder.
"""
from __future__ import annotations

import os
from typing import Callable

from benchmark.executors import (ExecutorOptions, available_cores, build_graph, failed_outcome, require, submitted,
                                 with_threads)
from benchmark.executors.worker import run_in_worker

# What a worker must see as the driver does (a local cluster's workers inherit it; a remote one's do not).
FORWARDED_ENV = ("CSBENCH_CACHE", "CSBENCH_TASKS", "PYTHONPATH", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
                 "HF_DATASETS_OFFLINE", "HF_HOME")


def start_ray(ray, options: ExecutorOptions, threads: int) -> bool:
    """Connect to the cluster, or start a local one of --jobs x threads CPUs (so --jobs tasks run at
    once); True when this run started it."""
    env = {name: os.environ[name] for name in FORWARDED_ENV if name in os.environ}
    kwargs = dict(runtime_env={"env_vars": env}, include_dashboard=False, log_to_driver=False,
                  configure_logging=False)
    if ray.is_initialized():
        return False
    if options.ray_address:
        ray.init(address=options.ray_address, **kwargs)
        return True
    # A small object store: units exchange nothing but their outcomes.
    ray.init(num_cpus=options.jobs * threads, num_gpus=None, object_store_memory=100 * 1024 ** 2, **kwargs)
    return True


def run_ray(plans: list, options: ExecutorOptions, report: Callable) -> list:
    ray = require("ray", "ray", "ray")
    # each task asks for its threads as CPUs, so Ray runs at most (cluster CPUs // threads) at once;
    # on a local cluster the default is this machine's share per job, on a remote one 1 (or --threads)
    threads = options.threads or (1 if options.ray_address else max(1, available_cores() // options.jobs))
    graph = build_graph(with_threads(plans, threads), report)
    if not graph.recipes:   # everything finished before: no cluster to start
        return graph.outcomes
    started = start_ray(ray, options, threads)
    try:
        task = ray.remote(run_in_worker).options(num_cpus=threads, num_gpus=options.gpus or 0, max_retries=0)
        dense_refs = {u.dense_key: task.remote(u, "ray") for u in graph.dense}
        refs = {task.remote(u, "ray", dense_refs[u.dense_key]): u for u in graph.recipes}
        units_of = {**refs, **{ref: u for u, ref in zip(graph.dense, dense_refs.values())}}
        for unit in [*graph.dense, *graph.recipes]:
            report(submitted(unit, "Ray" + (f" at {options.ray_address}" if options.ray_address else "")))
        results: dict[int, object] = {}
        pending = list(units_of)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            unit = units_of[done[0]]
            try:
                outcome = ray.get(done[0])
            except Exception as exc:   # RayTaskError: the unit (or, for a recipe unit, its dense unit) raised
                cause = getattr(exc, "cause", None) or exc
                why = f"{type(cause).__name__}: {str(cause).strip().splitlines()[-1] if str(cause).strip() else ''}"
                outcome = failed_outcome(unit, why)
            if outcome is not None:
                results[id(unit)] = outcome
                report(outcome)
        return graph.outcomes + [results[id(u)] for u in graph.recipes if id(u) in results]
    finally:
        if started:
            ray.shutdown()
