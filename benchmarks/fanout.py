"""Fan-out: N independent units over K local workers, and each executor's overhead per unit.

The work is N independent chains on the tiny synthetic task: seed s trains its dense model (one
epoch) and scores one recipe on it, i.e. 2N units. Every configuration starts from an empty cache
and results folder, uses one torch thread per unit, and the configurations are interleaved over
--repeats rounds so a machine shared with other jobs slows them alike. The sequential row runs in
this (already warm) process; the others pay for starting their workers, which is their overhead:

    overhead per unit = (wall(executor, 1) - wall(sequential)) / 2N
    speed-up          = wall(executor, 1) / wall(executor, K)

    .venv/bin/python benchmarks/fanout.py --units 8 --workers 1 2
    .venv/bin/python benchmarks/fanout.py --units 8 --workers 1 2 --executors local submitit ray --repeats 2
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--units", type=int, default=8, help="independent chains (each: one dense unit + one recipe unit)")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="values of K")
    p.add_argument("--executors", nargs="+", default=["local", "submitit", "ray"])
    p.add_argument("--recipe", default="prune-magnitude-40")
    p.add_argument("--repeats", type=int, default=1)
    return p.parse_args()


def timed(executor: str, workers: int, args, scratch: Path, units: int | None = None) -> float:
    """Wall seconds of one run of the chains from an empty cache and results folder."""
    from benchmark.data.catalog import load_task
    from benchmark.executors import ExecutorOptions, build_graph, execute, with_threads
    from benchmark.executors.pool import run_pool
    from benchmark.runner import RunPlan
    folder = Path(tempfile.mkdtemp(dir=scratch))
    os.environ["CSBENCH_CACHE"] = str(folder / "cache")
    plan = RunPlan(specs=[load_task("synthetic")], recipes=[args.recipe], seeds=list(range(units or args.units)),
                   results_dir=folder / "results", n_boot=20, overrides={"epochs": 1})
    options = ExecutorOptions(jobs=workers, threads=1, log_dir=folder / "logs", submitit_cluster="local")
    start = time.perf_counter()
    if executor == "sequential":   # today's runner in this process: the local executor with --jobs 1
        outcomes = execute(plan, "local", options)
    elif executor == "local" and workers == 1:   # --jobs 1 would run in this process: a pool of one, explicitly
        graph = build_graph(with_threads([plan], 1), lambda o: None)
        outcomes = run_pool(graph, options, lambda o: None)
    else:
        outcomes = execute(plan, executor, options)
    wall = time.perf_counter() - start
    assert outcomes and all(o.status == "done" for o in outcomes), [o for o in outcomes if o.status != "done"]
    return wall


def main() -> None:
    args = parse_args()
    from benchmark.cli.main import quiet_libraries
    quiet_libraries()
    import torch
    torch.set_num_threads(1)
    executors = [e for e in args.executors if e == "local" or importlib.util.find_spec(e)]
    skipped = sorted(set(args.executors) - set(executors))
    configs = [("sequential", 1)] + [(e, k) for e in executors for k in args.workers]
    walls: dict[tuple[str, int], list[float]] = {c: [] for c in configs}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        timed("sequential", 1, args, scratch, units=1)   # warm-up: first imports of this process, not timed
        for _ in range(args.repeats):
            for executor, k in configs:
                walls[(executor, k)].append(timed(executor, k, args, scratch))
                print(f"  {executor:<10} K={k}: {walls[(executor, k)][-1]:.1f} s", flush=True)
    load_after = os.getloadavg()
    base = statistics.median(walls[("sequential", 1)])
    print(f"\n{args.units} chains of 2 units (dense 1 epoch + {args.recipe}) on synthetic; 1 torch thread per unit; "
          f"{len(os.sched_getaffinity(0))} cores; load average {load_before[0]:.1f} -> {load_after[0]:.1f}; "
          f"median of {args.repeats} round(s)")
    print(f"{'executor':<11}{'K':>3}{'wall s':>9}{'speed-up vs K=1':>17}{'overhead s/unit vs sequential':>31}")
    for executor, k in configs:
        wall = statistics.median(walls[(executor, k)])
        one = statistics.median(walls.get((executor, 1), [wall]))
        overhead = f"{(wall - base) / (2 * args.units):+.2f}" if k == 1 and executor != "sequential" else ""
        print(f"{executor:<11}{k:>3}{wall:>9.1f}{one / wall:>17.2f}{overhead:>31}")
    if skipped:
        print(f"not measured (not installed): {', '.join(skipped)}")


if __name__ == "__main__":
    main()
