"""Strict checks of a submitted record: schema, task version, predictions hash, and metrics
recomputed from the per-example predictions. The leaderboard re-scores; it does not trust numbers."""
from __future__ import annotations

import functools
import json
import math
from pathlib import Path

from benchmark.errors import BenchmarkError
from benchmark.evaluator import evaluate
from benchmark.records import Record, read_predictions, read_record, write_record

TOLERANCE = 1e-6


def _compare(claimed: dict, recomputed: dict, where: str, problems: list[str]) -> None:
    for key, value in recomputed.items():
        if key not in claimed:
            problems.append(f"{where}.{key} is missing")
            continue
        theirs = claimed[key]
        if isinstance(value, dict):
            _compare(theirs if isinstance(theirs, dict) else {}, value, f"{where}.{key}", problems)
        elif not (isinstance(theirs, (int, float)) and
                  (math.isclose(theirs, value, rel_tol=TOLERANCE, abs_tol=TOLERANCE) or
                   (math.isnan(value) and math.isnan(theirs)))):
            problems.append(f"{where}.{key} claims {theirs!r}, predictions give {value!r}")


def _recompute(path: str | Path, record: Record) -> dict:
    arrays = read_predictions(path, record)
    for name in ("label", "group", "logits", "dense_logits"):
        if name not in arrays:
            raise BenchmarkError(f"{path}: predictions lack the array {name!r}")
    n_boot = int(record.provenance.get("n_boot", 1000))
    return evaluate(labels=arrays["label"], groups=arrays["group"], group_names=record.group_names,
                    logits=arrays["logits"], dense_logits=arrays["dense_logits"], n_boot=n_boot,
                    min_group_size=record.task.get("group_min_size")).as_metrics()


def rescore_record(path: str | Path) -> bool:
    """Rewrite a record's metrics from its (hash-checked) predictions, e.g. after the metric catalogue
    grew. True when the metrics changed."""
    record: Record = read_record(path)
    if record.track == "generative":
        from benchmark.generative.validation import recompute_metrics
        metrics = recompute_metrics(path, record)
    elif record.track == "classification":
        metrics = _recompute(path, record)
    else:
        raise BenchmarkError(f"{path}: unknown track {record.track!r} (known: classification, generative)")
    as_json = functools.partial(json.dumps, sort_keys=True, default=float)
    if as_json(metrics) == as_json(record.metrics):
        return False
    record.metrics = json.loads(as_json(metrics))
    write_record(Path(path), record)
    return True


def check_record(path: str | Path, task_spec=None) -> list[str]:
    """Problems found (empty = valid). Schema errors raise BenchmarkError (one line)."""
    record: Record = read_record(path)
    problems: list[str] = []
    if task_spec is not None:
        if record.task["version"] != task_spec.version:
            problems.append(f"task.version is {record.task['version']}, the task file is at {task_spec.version}")
        if record.task.get("spec_hash") != task_spec.content_hash():
            problems.append("task.spec_hash does not match the current task definition")
    if record.track == "generative":   # raw outputs -> metrics by the task kind's own arithmetic
        from benchmark.generative.validation import check_generative_record
        return problems + check_generative_record(path, record)
    if record.track != "classification":
        raise BenchmarkError(f"{path}: unknown track {record.track!r} (known: classification, generative)")
    _compare(record.metrics, _recompute(path, record), "metrics", problems)
    return problems
