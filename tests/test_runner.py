"""The spine end to end on the tiny synthetic task: records, resume, force, kill -9, leaderboard."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmark.errors import BenchmarkError
from benchmark.data.catalog import load_task
from benchmark.records import iter_records, read_predictions, record_path
from benchmark.report.leaderboard import build_leaderboard
from benchmark.runner import RunPlan, run_plan
from benchmark.validation import check_record, rescore_record

SLOW_RECIPE = '''
import os, time
from benchmark.recipes.base import register_recipe, CLASSIFIERS

@register_recipe("test-slow-noise", family="pruning", applies_to=CLASSIFIERS)
def slow_noise(ctx):
    """Adds small noise to every weight after a configurable pause (for interruption tests)."""
    time.sleep(float(os.environ.get("SLOW_RECIPE_SECONDS", "0")))
    import torch
    bundle = ctx.dense.clone()
    with torch.no_grad():
        for p in bundle.model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return bundle
'''


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory):
    results = tmp_path_factory.mktemp("results")
    plan = RunPlan(specs=[load_task("synthetic")], recipes=["dense"], seeds=[0], results_dir=results, n_boot=50)
    outcomes = run_plan(plan)
    return plan, outcomes, results


def test_run_writes_a_complete_record(synthetic_run):
    plan, outcomes, results = synthetic_run
    assert [o.status for o in outcomes] == ["done"]
    path = record_path(results, "synthetic", "dense", 0)
    (_, record), = list(iter_records(results))
    assert record.task["name"] == "synthetic" and record.recipe["name"] == "dense"
    overall = record.metrics["overall"]
    assert overall["flip_rate"] == 0.0 and overall["kl_mean"] == pytest.approx(0.0, abs=1e-9)
    assert overall["worst_group_accuracy"] <= overall["accuracy"]
    assert set(record.metrics["by_group"]) == set(record.group_names)
    assert record.efficiency["parameters"] > 0 and record.efficiency["bytes"] > 0
    assert record.provenance["packages"]["torch"].startswith("2.13")
    arrays = read_predictions(path, record)
    assert len(arrays["label"]) == sum(g["n"] for g in record.metrics["by_group"].values())
    assert check_record(path, load_task("synthetic")) == []


def test_rerun_skips_finished_records_and_force_recomputes(synthetic_run):
    plan, _, results = synthetic_run
    path = record_path(results, "synthetic", "dense", 0)
    before = path.read_bytes()
    again = run_plan(plan)
    assert [o.status for o in again] == ["skipped"] and path.read_bytes() == before
    forced = run_plan(RunPlan(**{**plan.__dict__, "force": True}))
    assert [o.status for o in forced] == ["done"]
    # Same config and seed -> same numbers (provenance such as wall time may differ).
    assert json.loads(path.read_text())["metrics"] == json.loads(before)["metrics"]


def test_changed_budget_is_a_new_run(synthetic_run):
    plan, _, results = synthetic_run
    path = record_path(results, "synthetic", "dense", 0)
    old_id = json.loads(path.read_text())["run_id"]
    plan2 = RunPlan(**{**plan.__dict__, "overrides": {"eval_batch_size": 17}})
    assert [o.status for o in run_plan(plan2)] == ["done"]
    assert json.loads(path.read_text())["run_id"] != old_id


def _copied_record(results, tmp_path) -> tuple:
    """(source path, copy path, the record's JSON) for the synthetic dense record, its predictions copied too."""
    src = record_path(results, "synthetic", "dense", 0)
    dst = tmp_path / "synthetic" / "dense" / "seed0.json"
    dst.parent.mkdir(parents=True)
    raw = json.loads(src.read_text())
    (dst.parent / raw["predictions"]["file"]).write_bytes((src.parent / raw["predictions"]["file"]).read_bytes())
    return src, dst, raw


def test_tampered_metrics_are_rejected(synthetic_run, tmp_path):
    _, _, results = synthetic_run
    _, dst, raw = _copied_record(results, tmp_path)
    raw["metrics"]["overall"]["worst_group_accuracy"] += 0.1
    dst.write_text(json.dumps(raw))
    problems = check_record(dst)
    assert any("worst_group_accuracy" in p for p in problems)


def test_rescore_restores_metrics_from_predictions_and_refuses_changed_predictions(synthetic_run, tmp_path):
    _, _, results = synthetic_run
    src, dst, raw = _copied_record(results, tmp_path)
    predictions = dst.parent / raw["predictions"]["file"]
    del raw["metrics"]["overall"]["flip_rate_decisive"]          # a record older than this metric
    dst.write_text(json.dumps(raw))
    assert any("flip_rate_decisive is missing" in p for p in check_record(dst))
    assert rescore_record(dst) and check_record(dst) == []
    assert not rescore_record(dst)                                # nothing left to change
    assert json.loads(dst.read_text())["metrics"] == json.loads(src.read_text())["metrics"]
    predictions.write_bytes(predictions.read_bytes() + b"x")      # predictions no longer match their hash
    with pytest.raises(BenchmarkError):
        rescore_record(dst)


def test_leaderboard_lists_the_records(synthetic_run, tmp_path):
    _, _, results = synthetic_run
    summary, table = build_leaderboard(results, tmp_path)
    assert list(summary.recipe) == ["dense"]
    assert "### synthetic" in table and (tmp_path / "LEADERBOARD.md").exists() and (tmp_path / "leaderboard.csv").exists()


def _csbench(*args, env=None, **kw):
    return subprocess.Popen([sys.executable, "-m", "benchmark", *args], env={**os.environ, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def test_kill_9_mid_run_leaves_no_partial_record_and_resume_keeps_finished(tmp_path):
    recipe_file = tmp_path / "slow.py"
    recipe_file.write_text(SLOW_RECIPE)
    results = tmp_path / "results"
    args = ["run", "--tasks", "synthetic", "--recipes", "dense", "test-slow-noise", "--recipe-file", str(recipe_file),
            "--results", str(results), "--leaderboard", str(tmp_path / "lb"), "--bootstrap", "20"]
    proc = _csbench(*args, env={"SLOW_RECIPE_SECONDS": "600"})
    dense_record = record_path(results, "synthetic", "dense", 0)
    deadline = time.time() + 300
    while not dense_record.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.5)
    assert dense_record.exists(), proc.stdout.read() if proc.poll() is not None else "dense record never appeared"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished_bytes = dense_record.read_bytes()
    assert not record_path(results, "synthetic", "test-slow-noise", 0).exists()
    assert [p.name for p in results.rglob("*.json")] == ["seed0.json"]
    json.loads(finished_bytes)   # the finished record is whole

    rerun = _csbench(*args, env={"SLOW_RECIPE_SECONDS": "0"})
    out, _ = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, out
    assert "dense" in out and "finished before" in out
    assert dense_record.read_bytes() == finished_bytes
    assert record_path(results, "synthetic", "test-slow-noise", 0).exists()
