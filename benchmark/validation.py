"""Strict checks of a record: nothing it claims is taken on trust.

A record is valid when its schema parses, its task is the current definition of a known task, its
predictions file is the one beside it with the hash and run id the record names, its arrays have the
shapes and ranges the task implies, and every metric (no more, no fewer keys) and every derivable
efficiency field is what the predictions give, within TOLERANCE. The scoring rule comes from the
task definition, never from the record. `run` (is_finished) and the leaderboard (load_verified) use
these checks; a record that fails them is recomputed by `run` and listed as rejected by the leaderboard.
"""
from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import numpy as np

from benchmark.errors import BenchmarkError
from benchmark.evaluator import evaluate
from benchmark.records import Record, predictions_path, read_predictions, read_record, scan_records, write_record

TOLERANCE = 1e-9          # relative; recomputation is the same arithmetic, so only float printing may differ
ABS_TOLERANCE = 1e-12
MAX_BOOTSTRAP = 100_000   # a claimed n_boot above this is not re-run (it would stall validation)
# descriptive efficiency entries (not numbers to re-derive): what the recipe did, in words or as a report
# ("checkpoint": the format and stored dtypes of a checkpoint scored by csbench eval)
EFFICIENCY_DESCRIPTIONS = {"notes": str, "recipe_report": dict, "checkpoint": dict}


def _close(theirs, value) -> bool:
    if isinstance(theirs, bool) or not isinstance(theirs, (int, float)):
        return False
    if isinstance(value, float) and math.isnan(value):
        return math.isnan(theirs)
    return math.isclose(theirs, value, rel_tol=TOLERANCE, abs_tol=ABS_TOLERANCE)


def _compare(claimed, recomputed: dict, where: str, problems: list[str]) -> None:
    """Same keys, same numbers: a missing, extra or different value is a problem."""
    if not isinstance(claimed, dict):
        problems.append(f"{where} must be an object")
        return
    for key in sorted(set(claimed) - set(recomputed), key=str):
        problems.append(f"{where}.{key} is not a metric the predictions give (unknown key)")
    for key, value in recomputed.items():
        if key not in claimed:
            problems.append(f"{where}.{key} is missing")
        elif isinstance(value, dict):
            _compare(claimed[key], value, f"{where}.{key}", problems)
        elif not _close(claimed[key], value):
            problems.append(f"{where}.{key} claims {claimed[key]!r}, predictions give {value!r}")


def _arrays_problems(arrays: dict, record: Record) -> list[str]:
    """Shapes and ranges the evaluator relies on: a tampered file must not crash it or index past a table."""
    missing = [n for n in ("label", "group", "logits", "dense_logits") if n not in arrays]
    if missing:
        return [f"predictions lack the array(s) {', '.join(missing)}"]
    labels, groups, logits, dense = (arrays[n] for n in ("label", "group", "logits", "dense_logits"))
    problems = []
    if labels.ndim != 1 or labels.dtype.kind not in "iu" or groups.ndim != 1 or groups.dtype.kind not in "iu":
        problems.append("predictions: label and group must be 1-D integer arrays")
    elif logits.ndim != 2 or logits.dtype.kind != "f" or logits.shape[0] != len(labels) or logits.shape[1] < 2:
        problems.append(f"predictions: logits must be float (N={len(labels)}, classes>=2), got {logits.dtype}{logits.shape}")
    elif dense.shape != logits.shape or dense.dtype.kind != "f":
        problems.append(f"predictions: dense_logits {dense.shape} must match logits {logits.shape}")
    elif len(groups) != len(labels) or not len(labels):
        problems.append(f"predictions: {len(labels)} labels, {len(groups)} group ids (need the same, > 0)")
    elif groups.min() < 0 or groups.max() >= len(record.group_names):
        problems.append(f"predictions: group ids must lie in 0..{len(record.group_names) - 1} (group_names)")
    elif labels.min() < 0 or labels.max() >= logits.shape[1]:
        problems.append(f"predictions: labels must lie in 0..{logits.shape[1] - 1} (the logits' classes)")
    elif not (np.isfinite(logits).all() and np.isfinite(dense).all()):
        problems.append("predictions: logits must be finite")
    return problems


def _n_boot(record: Record) -> int:
    n_boot = record.provenance.get("n_boot", 1000)
    if not isinstance(n_boot, int) or isinstance(n_boot, bool) or not 0 <= n_boot <= MAX_BOOTSTRAP:
        raise BenchmarkError(f"provenance.n_boot must be an integer in 0..{MAX_BOOTSTRAP}, got {n_boot!r}")
    return n_boot


def _recompute(path: str | Path, record: Record, task_spec=None) -> dict:
    """Metrics from the predictions, with the group-size floor of the task definition (the record's copy
    is checked against it, not used)."""
    arrays = read_predictions(path, record)
    min_group_size = task_spec.groups.min_size if task_spec is not None else record.task.get("group_min_size")
    problems = _arrays_problems(arrays, record)
    if problems:
        raise BenchmarkError(f"{path}: {problems[0]}")
    return evaluate(labels=arrays["label"], groups=arrays["group"], group_names=record.group_names,
                    logits=arrays["logits"], dense_logits=arrays["dense_logits"], n_boot=_n_boot(record),
                    min_group_size=min_group_size).as_metrics()


def _efficiency_problems(efficiency: dict, derived: dict) -> list[str]:
    """Counts that agree with each other (sparsity = 1 - nonzero/parameters), measurements that are
    positive and finite, values re-derived from the predictions where they can be, no unknown keys."""
    from benchmark.generative import metrics_catalog  # noqa: F401  (the decoder track's names)
    from benchmark.metrics.catalog import METRICS
    problems: list[str] = []
    known = {name for name, info in METRICS.items() if info.scope == "efficiency"}
    for key in sorted(set(efficiency) - known - set(EFFICIENCY_DESCRIPTIONS), key=str):
        problems.append(f"efficiency.{key} is not a catalogued efficiency field")
    for key, kind in EFFICIENCY_DESCRIPTIONS.items():
        if key in efficiency and not isinstance(efficiency[key], kind):
            problems.append(f"efficiency.{key} must be {'a string' if kind is str else 'an object'}")
    counts = {}
    for key in ("parameters", "nonzero_parameters", "bytes"):
        value = efficiency.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            problems.append(f"efficiency.{key} must be an integer >= 0, got {value!r}")
        else:
            counts[key] = value
    if {"parameters", "nonzero_parameters"} <= set(counts):
        total, nonzero = counts["parameters"], counts["nonzero_parameters"]
        if nonzero > total:
            problems.append(f"efficiency.nonzero_parameters {nonzero} exceeds parameters {total}")
        sparsity = 1.0 - nonzero / total if total else 0.0
        if not _close(efficiency.get("sparsity"), sparsity):
            problems.append(f"efficiency.sparsity claims {efficiency.get('sparsity')!r}, "
                            f"1 - nonzero/parameters gives {sparsity!r}")
    for key in ("examples_per_second", "tokens_per_second"):
        if key in efficiency:
            value = efficiency[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                problems.append(f"efficiency.{key} must be a positive finite number, got {value!r}")
    for key, value in derived.items():
        if not _close(efficiency.get(key), value):
            problems.append(f"efficiency.{key} claims {efficiency.get(key)!r}, predictions give {value!r}")
    return problems


def _task_problems(record: Record, task_spec) -> list[str]:
    if task_spec is None:
        return [f"task {record.task['name']!r} is not a task here: its definition cannot be checked"]
    problems = []
    if task_spec.name != record.task["name"]:
        problems.append(f"task.name is {record.task['name']!r}, the task file defines {task_spec.name!r}")
    if record.task["version"] != task_spec.version:
        problems.append(f"task.version is {record.task['version']}, the task file is at {task_spec.version}")
    if record.task.get("spec_hash") != task_spec.content_hash():
        problems.append("task.spec_hash does not match the current task definition")
    floor = getattr(getattr(task_spec, "groups", None), "min_size", None)
    if floor is not None and record.task.get("group_min_size") != floor:
        problems.append(f"task.group_min_size is {record.task.get('group_min_size')!r}, the task file says {floor}")
    from benchmark.data.catalog import track_of
    if track_of(task_spec) != record.track:
        problems.append(f"track is {record.track!r}, the task is {track_of(task_spec)!r}")
    return problems


def recompute(path: str | Path, record: Record, task_spec=None) -> tuple[dict, dict]:
    """(metrics, derivable efficiency fields) from the hash-checked predictions and the task definition."""
    if record.track == "generative":   # raw outputs -> metrics by the task kind's own arithmetic
        from benchmark.generative.validation import recompute_generative
        return recompute_generative(path, record, task_spec)
    return _recompute(path, record, task_spec), {}


def rescore_record(path: str | Path, task_spec=None) -> bool:
    """Rewrite a record's metrics from its (hash-checked) predictions, e.g. after the metric catalogue
    grew. True when the metrics changed."""
    record: Record = read_record(path)
    metrics, _ = recompute(path, record, task_spec or task_for_record(record))
    as_json = functools.partial(json.dumps, sort_keys=True, default=float)
    if as_json(metrics) == as_json(record.metrics):
        return False
    record.metrics = json.loads(as_json(metrics))
    write_record(Path(path), record)
    return True


def task_for_record(record: Record, task_file: Path | None = None):
    """The task a record is checked against: ``task_file``, else the task of its name, else the task file
    the record names (a task run from its own YAML path); None when there is none."""
    from benchmark.data.catalog import load_task, read_any_task
    if task_file is not None:
        return read_any_task(task_file)
    try:
        spec = load_task(record.task["name"])
    except BenchmarkError:
        spec = None
    recorded = record.task.get("file")
    if (isinstance(recorded, str) and recorded.endswith((".yaml", ".yml")) and Path(recorded).is_file()
            and (spec is None or spec.content_hash() != record.task.get("spec_hash"))):
        try:
            found = read_any_task(Path(recorded))
        except BenchmarkError:
            return spec
        if found.name == record.task["name"]:
            return found
    return spec




def check_record(path: str | Path, task_spec=None) -> list[str]:
    """Problems found (empty = valid). An unreadable or malformed record raises BenchmarkError (one line).
    Without ``task_spec`` the task is looked up by the record's task name (tasks/NAME.yaml)."""
    record: Record = read_record(path)
    task_spec = task_spec if task_spec is not None else task_for_record(record)
    problems = _task_problems(record, task_spec)
    if task_spec is None:
        return problems
    metrics, derived = recompute(path, record, task_spec)
    extra = sorted(set(record.metrics) - set(metrics))
    problems += [f"metrics.{key} is not a section the predictions give (unknown key)" for key in extra]
    for section, value in metrics.items():
        _compare(record.metrics.get(section), value, f"metrics.{section}", problems)
    return problems + _efficiency_problems(record.efficiency, derived)


def verify(path: str | Path, task_spec=None) -> list[str]:
    """check_record that never raises: an unreadable record is one problem."""
    try:
        return check_record(path, task_spec)
    except BenchmarkError as exc:
        return [str(exc)]


def _file_state(path: Path) -> tuple:
    try:
        stat = path.stat()
        return stat.st_size, stat.st_mtime_ns, stat.st_ino
    except OSError:
        return ()


_FINISHED: dict[tuple, bool] = {}


def is_finished(path: Path, expected_run_id: str, task_spec=None) -> bool:
    """`run` skips a record only when it is this run (run id) and its claims follow from its predictions.
    A planner and its worker both ask; the answer is reused while neither file has changed."""
    path = Path(path)
    if not path.exists():
        return False
    try:
        if read_record(path).run_id != expected_run_id:
            return False
    except BenchmarkError:
        return False   # unreadable (e.g. hand-edited): recompute
    key = (str(path.resolve()), expected_run_id, task_spec.content_hash() if task_spec is not None else None,
           _file_state(path), _file_state(predictions_path(path)))
    if key not in _FINISHED:
        _FINISHED[key] = not verify(path, task_spec)
    return _FINISHED[key]


def _signature(results_dir: Path) -> tuple:
    """What a verification depends on: every file under results/ and every task file (path, size, mtime)."""
    from benchmark.data.catalog import task_files
    files = sorted(p for p in results_dir.glob("*/*/*") if p.is_file()) + sorted(task_files().values())
    out = []
    for path in files:
        try:
            stat = path.stat()
            out.append((str(path), stat.st_size, stat.st_mtime_ns))
        except OSError:
            out.append((str(path), -1, -1))
    return tuple(out)


_VERIFIED: dict[str, tuple[tuple, tuple]] = {}


def load_verified(results_dir: str | Path) -> tuple[list[tuple[Path, Record]], list[tuple[Path, str]]]:
    """(valid records, rejected records with the reason) under results_dir: all the leaderboard may show.
    Never raises for a bad record; each is checked against the current task definition by name.
    Repeated calls while no file changed reuse the result (one leaderboard build reads records thrice)."""
    key, signature = str(Path(results_dir).resolve()), _signature(Path(results_dir))
    cached = _VERIFIED.get(key)
    if cached and cached[0] == signature:
        return list(cached[1][0]), list(cached[1][1])
    valid, rejected = _load_verified(results_dir)
    _VERIFIED[key] = (signature, (valid, rejected))
    return list(valid), list(rejected)


def valid_records(results_dir: str | Path) -> list[tuple[Path, Record]]:
    return load_verified(results_dir)[0]


def _load_verified(results_dir: str | Path) -> tuple[list[tuple[Path, Record]], list[tuple[Path, str]]]:
    readable, rejected = scan_records(results_dir)
    valid: list[tuple[Path, Record]] = []
    specs: dict[str, object] = {}
    for path, record in readable:
        name = record.task["name"]
        if name not in specs:
            specs[name] = task_for_record(record)
        problems = verify(path, specs[name])
        if problems:
            rejected.append((path, "; ".join(problems[:3]) + (f"; ... ({len(problems)} problems)"
                                                              if len(problems) > 3 else "")))
        else:
            valid.append((path, record))
    return valid, sorted(rejected)
