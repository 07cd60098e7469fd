"""File locks that let any number of processes (a process pool, Slurm array tasks, Ray workers on
hosts sharing one file system) build one cache entry or write one record without racing.

filelock's FileLock is an OS lock (fcntl/flock): the kernel releases it when its holder dies, even by
kill -9, so a crashed worker never leaves a stale lock. Lock files are never deleted: removing one
while another process waits on it would let two holders in.
"""
from __future__ import annotations

from pathlib import Path

from filelock import FileLock


def lock_for(path: Path) -> FileLock:
    """The lock that guards ``path`` (a cache entry or a record): a hidden file beside it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(path.parent / f".{path.name}.lock"))
