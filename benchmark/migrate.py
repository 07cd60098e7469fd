"""Upgrade records written under an older schema, keeping every metric as it was.

Schema 1 -> 2: the predictions file gains the record's run id (array ``run_id``), so a record cannot
borrow another record's predictions; its hash in the JSON is updated. Metrics, run id and every other
field are untouched; the predictions are hash-checked against the old record before they are copied.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from benchmark.errors import BenchmarkError
from benchmark.records import SCHEMA_VERSION, read_predictions, read_record_dict, record_from_dict, write_record


def migrate_record(path: str | Path) -> bool:
    """Bring one record to SCHEMA_VERSION in place; False when it already is."""
    path = Path(path)
    raw = read_record_dict(path)
    version = raw.get("schema_version") if isinstance(raw, dict) else None
    if version == SCHEMA_VERSION:
        return False
    if version != 1:
        raise BenchmarkError(f"{path}: no migration from schema_version {version!r} to {SCHEMA_VERSION}")
    old = record_from_dict(raw, str(path), schema_version=1)
    arrays = read_predictions(path, old, check_run_id=False)
    write_record(path, replace(old, schema_version=SCHEMA_VERSION), arrays)
    return True
