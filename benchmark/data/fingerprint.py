"""Data fingerprints: a hash of exactly what a task loads, per split (inputs, labels, groups, order).

The fingerprint is part of the dense cache key, the run id and the record (task.data_fingerprint),
so a changed data file means recomputation, and `csbench validate` rejects a record whose data
changed since. It is computed at load time on the task's rows after subsampling:

- text and other scalar columns: pandas' vectorised row hashes (no Python loop per row);
- array cells (decoded images): their bytes, shape and dtype;
- image files (``ImageFile`` cells, decoded only when a model needs them): the file's SHA-256,
  remembered per (path, size, mtime) in the cache folder, so a large image set is read once.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd

LENGTH = 16


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes, remembered per (path, size, mtime) in <cache>/file_digests.sqlite."""
    from benchmark.cache import cache_root
    path = os.path.abspath(path)
    stat = os.stat(path)
    key = (path, stat.st_size, stat.st_mtime_ns)
    db = _memo(cache_root())
    row = db.execute("SELECT digest FROM digests WHERE path=? AND size=? AND mtime_ns=?", key).fetchone()
    if row:
        return row[0]
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    with db:
        db.execute("INSERT OR REPLACE INTO digests VALUES (?, ?, ?, ?)", (*key, digest.hexdigest()))
    return digest.hexdigest()


_DBS: dict[str, sqlite3.Connection] = {}


def _memo(root: Path) -> sqlite3.Connection:
    if str(root) not in _DBS:
        root.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(root / "file_digests.sqlite", timeout=60)
        with db:
            db.execute("CREATE TABLE IF NOT EXISTS digests (path TEXT PRIMARY KEY, size INTEGER, "
                       "mtime_ns INTEGER, digest TEXT)")
        _DBS[str(root)] = db
    return _DBS[str(root)]


def column_digest(values: pd.Series) -> bytes:
    """A digest of one column's values in row order."""
    from benchmark.data.sources.image_files import ImageFile
    digest = hashlib.sha256(f"{len(values)}".encode())
    first = values.iloc[0] if len(values) else None
    if isinstance(first, ImageFile):
        for cell in values:
            digest.update(f"{file_digest(cell.path)}:{cell.size};".encode())
    elif isinstance(first, np.ndarray):
        for cell in values:
            array = np.ascontiguousarray(cell)
            digest.update(f"{array.shape}{array.dtype}".encode())
            digest.update(memoryview(array).cast("B"))
    else:
        digest.update(pd.util.hash_pandas_object(values, index=False).to_numpy().tobytes())
    return digest.digest()


def split_fingerprint(frame: pd.DataFrame, inputs: tuple[str, ...], labels: np.ndarray, groups: np.ndarray,
                      group_names: list[str]) -> str:
    digest = hashlib.sha256()
    for column in inputs:
        digest.update(column.encode() + b"\0" + column_digest(frame[column]))
    digest.update(np.ascontiguousarray(labels, dtype="<i8").tobytes())
    # group names, not only ids: renaming a class or a group value changes what a record says
    digest.update(json.dumps([group_names[g] for g in np.unique(groups)]).encode())
    digest.update(np.ascontiguousarray(groups, dtype="<i8").tobytes())
    return digest.hexdigest()[:LENGTH]


def combine(split_fingerprints: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(split_fingerprints, sort_keys=True).encode()).hexdigest()[:LENGTH]
