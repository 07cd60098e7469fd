"""Fan-out: every executor gives the sequential run's records; plan + run-one reproduce run; one
dense model per key and one writer per record under concurrency; kill -9 of a pool worker loses nothing.

All runs use one torch thread per unit (the thread count is part of how a run is identified), tiny
tasks, one dense epoch and 20 bootstrap resamples.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from benchmark.data.catalog import load_task
from benchmark.executors import ExecutorOptions, execute
from benchmark.records import iter_records, record_path
from benchmark.runner import RunPlan
from benchmark.tracks import run_unit
from benchmark.units import unit_from_json

TASKS = ["synthetic", "colored_digits"]
RECIPES = ["dense", "prune-magnitude-40"]
OVERRIDES = {"epochs": 1}
REPO = Path(__file__).resolve().parents[1]


def make_plan(results: Path) -> RunPlan:
    return RunPlan(specs=[load_task(t) for t in TASKS], recipes=RECIPES, seeds=[0], results_dir=results, n_boot=20,
                   overrides=dict(OVERRIDES))


def records_of(results: Path) -> dict:
    return {(r.task["name"], r.recipe["name"], r.seed): r for _, r in iter_records(results)}


def metrics_of(results: Path) -> dict:
    return {key: r.metrics for key, r in records_of(results).items()}


@pytest.fixture(scope="module")
def sequential(tmp_path_factory):
    """The reference: today's sequential runner in this process, one thread, its own cache."""
    before_threads, before_cache = torch.get_num_threads(), os.environ.get("CSBENCH_CACHE")
    os.environ["CSBENCH_CACHE"] = str(tmp_path_factory.mktemp("cache-sequential"))
    results = tmp_path_factory.mktemp("sequential")
    try:
        outcomes = execute(make_plan(results), "local", ExecutorOptions(jobs=1, threads=1))
    finally:
        torch.set_num_threads(before_threads)
        os.environ["CSBENCH_CACHE"] = before_cache
    assert sorted(o.status for o in outcomes) == ["done"] * len(TASKS) * len(RECIPES)
    return metrics_of(results)


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty dense cache, so the executor's workers build the dense models themselves."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("CSBENCH_CACHE", str(cache))
    return cache


EXECUTORS = {
    "local": ("concurrent.futures", {}, "local-pool"),
    "submitit": ("submitit", {"submitit_cluster": "local"}, "submitit-local"),
    "ray": ("ray", {}, "ray"),
}


@pytest.mark.parametrize("name", list(EXECUTORS))
def test_two_workers_give_the_sequential_records(name, sequential, fresh_cache, tmp_path):
    module, extra, recorded_as = EXECUTORS[name]
    pytest.importorskip(module, reason=f"the {name} executor needs {module} (pip install 'csbench[{name}]')")
    results = tmp_path / "results"
    options = ExecutorOptions(jobs=2, threads=1, log_dir=tmp_path / "logs", **extra)
    outcomes = execute(make_plan(results), name, options)
    assert sorted(o.status for o in outcomes) == ["done"] * len(TASKS) * len(RECIPES), outcomes
    assert metrics_of(results) == sequential
    records = records_of(results).values()
    assert {r.provenance["executor"]["name"] for r in records} == {recorded_as}
    assert {r.provenance["hardware"]["torch_threads"] for r in records} == {1}
    assert len([p for p in (fresh_cache / "dense").iterdir() if not p.name.startswith(".")]) == len(TASKS)
    again = execute(make_plan(results), name, options)   # resumes: nothing left to run
    assert {o.status for o in again} == {"skipped"}


def csbench(*args, stdin=None, env=None):
    return subprocess.Popen([sys.executable, "-m", "benchmark", *args], stdin=subprocess.PIPE if stdin else None,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})})


def finish(proc, stdin=None) -> str:
    out, _ = proc.communicate(stdin, timeout=600)
    assert proc.returncode == 0, out
    return out


def test_plan_then_run_one_in_dependency_order_reproduces_run(sequential, fresh_cache, tmp_path, one_thread):
    results = tmp_path / "results"
    selection = ["--tasks", *TASKS, "--recipes", *RECIPES, "--set", "epochs=1", "--bootstrap", "20",
                 "--results", str(results)]
    lines = finish(csbench("plan", *selection)).splitlines()
    units = [unit_from_json(line) for line in lines if line.startswith("{")]
    dense = [u for u in units if u.kind == "dense"]
    recipes = [u for u in units if u.kind == "recipe"]
    assert len(dense) == len(TASKS) and len(recipes) == len(TASKS) * len(RECIPES)
    assert {u.depends_on for u in recipes} == {u.key for u in dense}
    # the first dense unit through the CLI (stdin), the other in this process
    finish(csbench("run-one", "-", stdin=True), stdin=dense[0].to_json() + "\n")
    run_unit(unit_from_json(dense[1].to_json()))
    # one recipe unit by two workers at once (a JSON line and a file): one writes it, the other finds it
    units_file = tmp_path / "units.jsonl"
    units_file.write_text("\n".join(lines) + "\n")
    line_number = lines.index(recipes[-1].to_json()) + 1
    racers = [csbench("run-one", recipes[-1].to_json()), csbench("run-one", str(units_file), "--line", str(line_number))]
    outputs = [finish(p) for p in racers]
    assert sum("  done" in out for out in outputs) == 1 and sum("skipped" in out for out in outputs) == 1, outputs
    for unit in reversed(recipes[:-1]):   # any order once the dense units have run
        assert run_unit(unit_from_json(unit.to_json())).status == "done"
    assert metrics_of(results) == sequential


def test_run_one_rejects_a_bad_unit_in_one_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind": "dense"}\n')
    proc = csbench("run-one", str(bad))
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 2 and "missing field(s)" in out and str(bad) in out and "Traceback" not in out


RACER = """
import os, sys, time
from benchmark.cache import get_or_create

def create(folder):
    with open(os.environ["MARKER"], "a") as marker:
        marker.write(f"{os.getpid()}\\n")
    time.sleep(1.0)   # a slow build: the other process arrives while it runs
    (folder / "payload").write_text("built")

while time.time() < float(sys.argv[1]):   # both start the race together
    time.sleep(0.01)
print((get_or_create("dense", "race-key", create) / "payload").read_text())
"""


def test_two_processes_racing_for_one_dense_key_build_it_once(fresh_cache, tmp_path):
    marker = tmp_path / "builds.txt"
    start_at = str(time.time() + 2.0)
    env = {**os.environ, "MARKER": str(marker), "PYTHONPATH": str(REPO)}
    racers = [subprocess.Popen([sys.executable, "-c", RACER, start_at], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in racers]
    assert [p.returncode for p in racers] == [0, 0], outputs
    assert [out.strip().splitlines()[-1] for out in outputs] == ["built", "built"]
    assert len(marker.read_text().splitlines()) == 1
    assert [p.name for p in (fresh_cache / "dense").iterdir() if not p.name.startswith(".")] == ["race-key"]


def test_kill_9_of_a_pool_worker_then_rerun_loses_nothing(fresh_cache, tmp_path):
    psutil = pytest.importorskip("psutil")
    from test_runner import SLOW_RECIPE
    recipe_file = tmp_path / "slow.py"
    recipe_file.write_text(SLOW_RECIPE)
    results = tmp_path / "results"
    args = ["run", "--tasks", "synthetic", "--recipes", "dense", "test-slow-noise", "--recipe-file", str(recipe_file),
            "--set", "epochs=1", "--results", str(results), "--leaderboard", str(tmp_path / "lb"), "--bootstrap", "20",
            "--jobs", "2"]
    proc = csbench(*args, env={"SLOW_RECIPE_SECONDS": "600"})
    dense_record = record_path(results, "synthetic", "dense", 0)
    deadline = time.time() + 300
    while not dense_record.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.5)
    assert dense_record.exists(), proc.communicate()[0] if proc.poll() is not None else "no dense record"
    workers = [c for c in psutil.Process(proc.pid).children(recursive=True)
               if "resource_tracker" not in " ".join(c.cmdline())]
    assert workers
    os.kill(workers[0].pid, 9)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 1 and "failed" in out        # the killed worker's unit is reported, not hidden
    finished_bytes = dense_record.read_bytes()
    assert not record_path(results, "synthetic", "test-slow-noise", 0).exists()
    assert [p.name for p in results.rglob("*.json")] == ["seed0.json"]

    rerun = csbench(*args, env={"SLOW_RECIPE_SECONDS": "0"})
    out = finish(rerun)
    assert "finished before" in out and out.count("  done") == 1   # only the unfinished unit is redone
    assert dense_record.read_bytes() == finished_bytes
    assert record_path(results, "synthetic", "test-slow-noise", 0).exists()


FAKE_SBATCH = """#!/bin/sh
# Keeps each submission script and answers as sbatch does, numbering the jobs 4240, 4241, ...
n=$(ls "$SBATCH_DIR" | wc -l)
cp "$1" "$SBATCH_DIR/submission$n.sh"
echo "Submitted batch job 424$n"
"""


def test_slurm_submits_dense_array_then_recipe_array_depending_on_it(tmp_path, monkeypatch):
    """The real submitit Slurm executor with sbatch/srun replaced by a script that keeps what it is given."""
    pytest.importorskip("submitit", reason="the submitit executor needs submitit (pip install 'csbench[slurm]')")
    from benchmark.executors import Graph
    from benchmark.executors.slurm import make_executor, submit_arrays
    from benchmark.tracks import plan_units
    bin_dir, kept = tmp_path / "bin", tmp_path / "kept"
    bin_dir.mkdir()
    kept.mkdir()
    for name, text in (("sbatch", FAKE_SBATCH), ("srun", "#!/bin/sh\nexit 1\n")):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("SBATCH_DIR", str(kept))
    options = ExecutorOptions(jobs=3, threads=2, gpus=1, slurm_partition="gpu", slurm_time_min=30,
                              log_dir=tmp_path / "logs")
    executor, threads = make_executor(options)
    assert executor.cluster == "slurm" and threads == 2
    units, _ = plan_units(RunPlan(specs=[load_task("synthetic")], recipes=RECIPES, seeds=[0, 1],
                                  results_dir=tmp_path / "r"))
    graph = Graph([u for u in units if u.kind == "dense"], [u for u in units if u.kind == "recipe"], [], threads)
    dense_jobs, recipe_jobs = submit_arrays(executor, graph)
    assert [j.job_id for j in dense_jobs] == ["4240_0", "4240_1"]
    assert [j.job_id for j in recipe_jobs] == [f"4241_{i}" for i in range(4)]
    dense_script, recipe_script = (kept / "submission0.sh").read_text(), (kept / "submission1.sh").read_text()
    for script, size in ((dense_script, 2), (recipe_script, 4)):
        assert f"#SBATCH --array=0-{size - 1}%{min(size, 3)}" in script and "#SBATCH --partition=gpu" in script
        assert "#SBATCH --gpus-per-node=1" in script and "#SBATCH --cpus-per-task=2" in script
        assert "#SBATCH --time=30" in script
    assert "--dependency" not in dense_script
    assert "#SBATCH --dependency=afterok:4240" in recipe_script and "#SBATCH --kill-on-invalid-dep=yes" in recipe_script
    # each array task runs the unit it was given: dense units first, then recipe units naming them
    submitted = [job.submission() for job in dense_jobs + recipe_jobs]
    assert [s.args[0].kind for s in submitted] == ["dense"] * 2 + ["recipe"] * 4
    assert {s.args[0].depends_on for s in submitted[2:]} == {s.args[0].key for s in submitted[:2]}


@pytest.mark.parametrize("name, module, extra", [("submitit", "submitit", "slurm"), ("ray", "ray", "ray")])
def test_a_missing_extra_is_one_line_saying_how_to_install_it(name, module, extra, tmp_path, monkeypatch):
    from benchmark.errors import BenchmarkError
    monkeypatch.setitem(sys.modules, module, None)   # as if not installed: importing it raises ImportError
    with pytest.raises(BenchmarkError, match=rf"--executor {name} needs {module}.*pip install 'csbench\[{extra}\]'"):
        execute(make_plan(tmp_path / "r"), name, ExecutorOptions(jobs=2, log_dir=tmp_path / "logs"))
    assert not (tmp_path / "r").exists()
