"""The local executor: in this process (--jobs 1, the sequential runner) or a pool of worker processes.

Workers are spawned (not forked: a fork of a process whose OpenMP pool already ran can deadlock), each
with torch threads = its share of the cores. Dense units are submitted first; each recipe unit is
submitted as soon as the dense unit it depends on has finished. A worker keeps the data and dense model
it loaded for its next unit.
"""
from __future__ import annotations

import multiprocessing
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Callable

from benchmark.executors import (ExecutorOptions, build_graph, failed_outcome, submitted, threads_per_job,
                                 with_threads)
from benchmark.executors.worker import init_pool_worker, run_in_worker


def run_local(plans: list, options: ExecutorOptions, report: Callable) -> list:
    if options.jobs == 1:   # today's sequential runner, in this process
        from benchmark.tracks import run_tracks
        if options.threads:
            import torch
            torch.set_num_threads(options.threads)
        return [o for plan in with_threads(plans, options.threads) for o in run_tracks(plan, report)]
    graph = build_graph(with_threads(plans, threads_per_job(options)), report)
    return graph.outcomes + run_pool(graph, options, report)


def run_pool(graph, options: ExecutorOptions, report: Callable) -> list:
    waiting: dict[str, list] = {}
    for unit in graph.recipes:
        waiting.setdefault(unit.dense_key, []).append(unit)
    results: dict[int, object] = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(options.jobs, mp_context=context, initializer=init_pool_worker,
                             initargs=(graph.threads,)) as pool:
        running: dict = {}

        def start(units: list) -> None:
            for unit in units:
                try:
                    running[pool.submit(run_in_worker, unit, "local-pool")] = unit
                    report(submitted(unit, f"a pool of {options.jobs} workers"))
                except Exception as exc:   # the pool broke: a worker died (e.g. killed)
                    results[id(unit)] = failed_outcome(unit, f"{type(exc).__name__}: {exc}")
                    report(results[id(unit)])

        start(graph.dense)   # build_graph lists the dense unit of every recipe unit it lists
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                unit = running.pop(future)
                try:
                    outcome = future.result()
                except Exception as exc:   # the unit raised, or its worker died (BrokenProcessPool)
                    outcome = failed_outcome(unit, f"{type(exc).__name__}: {exc}")
                if unit.kind == "dense":
                    dependents = waiting.pop(unit.dense_key, [])
                    if outcome is None:
                        start(dependents)
                        continue
                    report(outcome)
                    for dependent in dependents:
                        results[id(dependent)] = failed_outcome(dependent, f"its dense model failed: {outcome.detail}")
                        report(results[id(dependent)])
                    continue
                results[id(unit)] = outcome
                report(outcome)
    return [results[id(u)] for u in graph.recipes if id(u) in results]
