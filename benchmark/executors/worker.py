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
    """Units one after another in one worker (a submitit local job): a unit that raises fails alone, and
    the units needing a dense model that failed here fail without trying it again."""
    from benchmark.executors import failed_outcome
    outcomes, broken = [], {}
    for unit in units:
        if unit.kind == "recipe" and unit.dense_key in broken:
            outcomes.append(failed_outcome(unit, f"its dense model failed: {broken[unit.dense_key]}"))
            continue
        try:
            outcomes.append(run_in_worker(unit, executor))
        except Exception as exc:
            outcomes.append(failed_outcome(unit, f"{type(exc).__name__}: {exc}"))
            if unit.kind == "dense":
                broken[unit.dense_key] = outcomes[-1].detail
    return outcomes


def init_pool_worker(threads: int) -> None:
    # before torch is imported in this fresh process: its OpenMP pool takes the size from here
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ["MKL_NUM_THREADS"] = str(threads)
