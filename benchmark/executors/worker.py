"""What a worker process runs (top-level functions, so every executor can pickle them)."""
from __future__ import annotations

import os


def run_in_worker(unit, executor: str, *dependencies):
    """Run one unit in this worker; ``dependencies`` are results of the units it waits for (Ray passes
    them so that it schedules the unit after them; their values are not needed)."""
    os.environ["CSBENCH_EXECUTOR"] = executor   # recorded in the record's provenance
    from benchmark.cli.main import quiet_libraries
    from benchmark.tracks import run_unit
    quiet_libraries()
    return run_unit(unit)


def run_batch(units: list, executor: str) -> list:
    """Several units one after another in one worker (submitit's local executor runs one process per job);
    a unit that raises fails alone."""
    from benchmark.executors import failed_outcome
    outcomes = []
    for unit in units:
        try:
            outcomes.append(run_in_worker(unit, executor))
        except Exception as exc:
            outcomes.append(failed_outcome(unit, f"{type(exc).__name__}: {exc}"))
    return outcomes


def init_pool_worker(threads: int) -> None:
    # before torch is imported in this fresh process: its OpenMP pool takes the size from here
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ["MKL_NUM_THREADS"] = str(threads)
