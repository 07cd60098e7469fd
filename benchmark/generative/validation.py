"""Re-scoring a generative record from its predictions file: the metrics must follow from the
arrays it stores (the model's raw outputs and, prefixed ``dense_``, the dense model's)."""
from __future__ import annotations

from pathlib import Path

from benchmark.errors import BenchmarkError
from benchmark.generative.kinds import KINDS
from benchmark.records import Record, read_predictions

DENSE_PREFIX = "dense_"
# metric sections re-derived from the arrays (variants: BBQ score variants; swaps: counterfactual sets)
SECTIONS = ("overall", "by_group", "variants", "swaps")


def split_arrays(arrays: dict) -> tuple[dict, dict]:
    raw = {k: v for k, v in arrays.items() if not k.startswith(DENSE_PREFIX)}
    dense = {k[len(DENSE_PREFIX):]: v for k, v in arrays.items() if k.startswith(DENSE_PREFIX)}
    return raw, dense


def recompute_metrics(path: str | Path, record: Record) -> dict:
    kind_name = record.task.get("kind")
    if kind_name not in KINDS:
        raise BenchmarkError(f"{path}: task.kind {kind_name!r} is not a generative task kind")
    settings = record.provenance.get("settings")
    if not isinstance(settings, dict):
        raise BenchmarkError(f"{path}: provenance.settings is missing (needed to re-score)")
    raw, dense = split_arrays(read_predictions(path, record))
    return KINDS.get(kind_name).summarise(raw, dense, record.group_names, settings)


def check_generative_record(path: str | Path, record: Record) -> list[str]:
    """Problems found (empty = the stored metrics are what the stored predictions give)."""
    from benchmark.validation import _compare
    problems: list[str] = []
    recomputed = recompute_metrics(path, record)
    for section in SECTIONS:
        if section in recomputed:
            _compare(record.metrics.get(section, {}), recomputed[section], f"metrics.{section}", problems)
    return problems
