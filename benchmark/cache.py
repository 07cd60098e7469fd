"""Content-addressed on-disk cache for dense models and their predictions.

Location: $CSBENCH_CACHE, else ~/.cache/csbench; workers that share a run must share it. Entries are
built in a temp folder and renamed into place, so a killed run never leaves a half-written entry that
a later run would trust. One lock per key (benchmark.locks): concurrent workers build a key once, the
others wait and reuse it, and a completed entry is never deleted or replaced.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from benchmark.locks import lock_for


def cache_root() -> Path:
    return Path(os.environ.get("CSBENCH_CACHE") or Path.home() / ".cache" / "csbench")


def entry_dir(kind: str, key: str) -> Path:
    return cache_root() / kind / key


def is_complete(folder: Path) -> bool:
    return (folder / ".complete").exists()


def remove_leftovers(final: Path) -> int:
    """Temp folders of ``final``'s key left by a killed builder. Called under the key's lock: no live
    process can be building one (a builder holds the lock until its folder is renamed or removed)."""
    removed = 0
    for leftover in final.parent.glob(f".{final.name}.*"):
        if leftover.is_dir() and not leftover.is_symlink():   # not the .lock file beside them
            shutil.rmtree(leftover, ignore_errors=True)
            removed += 1
    return removed


def get_or_create(kind: str, key: str, create: Callable[[Path], None]) -> Path:
    """Return the folder of a finished entry, creating it with ``create(tmp_folder)`` if absent."""
    final = entry_dir(kind, key)
    if is_complete(final):
        return final
    with lock_for(final):
        if is_complete(final):   # another process built it while this one waited for the lock
            return final
        remove_leftovers(final)
        tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{key}."))
        try:
            create(tmp)
            (tmp / ".complete").touch()
            if final.exists():  # an incomplete leftover of a crashed older version: never a complete entry
                shutil.rmtree(final)
            os.replace(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return final
