"""Re-scoring a generative record from its predictions file: the metrics must follow from the
arrays it stores (the model's raw outputs and, prefixed ``dense_``, the dense model's), scored by
the task definition's kind and settings, not by whatever rule the record names."""
from __future__ import annotations

from pathlib import Path

from benchmark.errors import BenchmarkError
from benchmark.generative.kinds import KINDS
from benchmark.records import Record, read_predictions

DENSE_PREFIX = "dense_"


def split_arrays(arrays: dict) -> tuple[dict, dict]:
    raw = {k: v for k, v in arrays.items() if not k.startswith(DENSE_PREFIX)}
    dense = {k[len(DENSE_PREFIX):]: v for k, v in arrays.items() if k.startswith(DENSE_PREFIX)}
    return raw, dense


def scoring_settings(record: Record, task_spec) -> dict:
    """The settings the task definition gives for the record's profile, plus the --set overrides the
    record declares (provenance.overrides, part of its run id); the record's own copy must agree."""
    kind = KINDS.get(task_spec.kind)
    overrides = record.provenance.get("overrides", {})
    if not isinstance(overrides, dict) or set(overrides) - set(kind.settings):
        raise BenchmarkError(f"provenance.overrides must be an object of {task_spec.kind} settings")
    settings = {**task_spec.profile(record.profile), **overrides}
    if record.provenance.get("settings") != settings:
        claimed = record.provenance.get("settings")
        differing = sorted(k for k in set(settings) | set(claimed or {})
                           if not isinstance(claimed, dict) or claimed.get(k) != settings.get(k))
        raise BenchmarkError(f"provenance.settings differ from the task definition at: {', '.join(map(str, differing))}")
    return settings


def recompute_metrics(path: str | Path, record: Record, task_spec=None) -> dict:
    return recompute_generative(path, record, task_spec)[0]


def recompute_generative(path: str | Path, record: Record, task_spec=None) -> tuple[dict, dict]:
    """(metrics, derivable efficiency) from the predictions, by the task definition's kind and settings."""
    if task_spec is None:
        from benchmark.validation import task_for_record
        task_spec = task_for_record(record)
        if task_spec is None:
            raise BenchmarkError(f"{path}: task {record.task['name']!r} is not a task here (nor the file it names)")
    if record.task.get("kind") != task_spec.kind:
        raise BenchmarkError(f"{path}: task.kind is {record.task.get('kind')!r}, the task file says {task_spec.kind!r}")
    kind = KINDS.get(task_spec.kind)
    settings = scoring_settings(record, task_spec)
    raw, dense = split_arrays(read_predictions(path, record))
    try:
        return kind.summarise(raw, dense, record.group_names, settings), kind.throughput(raw)
    except (KeyError, IndexError, ValueError, TypeError, ZeroDivisionError) as exc:
        raise BenchmarkError(f"{path}: predictions cannot be re-scored as {task_spec.kind}: "
                             f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None


def check_generative_record(path: str | Path, record: Record, task_spec=None) -> list[str]:
    """Problems found in the metrics of ``record`` (which may differ from the file: tests tamper in memory)."""
    from benchmark.validation import _compare
    problems: list[str] = []
    metrics, _ = recompute_generative(path, record, task_spec)
    for section, value in metrics.items():
        _compare(record.metrics.get(section), value, f"metrics.{section}", problems)
    return problems
