"""Names that become folders, and paths that must stay inside their folder.

Task, recipe, model and record names end up as path components (results/<task>/<recipe>/...) and in
tables, so they are held to one safe character set, and every output path is resolved and checked to
lie inside the folder it belongs to (a symlink or a '..' cannot move a write elsewhere).
"""
from __future__ import annotations

import re
from pathlib import Path

from benchmark.errors import BenchmarkError

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")
SAFE_NAME_RULE = "letters, digits and . _ + - (starting with a letter or digit, at most 128, no '..')"


def is_safe_name(value: object) -> bool:
    return isinstance(value, str) and SAFE_NAME.fullmatch(value) is not None and ".." not in value


def check_name(value: object, what: str) -> str:
    """``value`` if it is a safe name, else a one-line BenchmarkError naming ``what`` (e.g. "task name")."""
    if not is_safe_name(value):
        raise BenchmarkError(f"{what} {value!r} is not a valid name: use {SAFE_NAME_RULE}")
    return value  # type: ignore[return-value]


def inside(base: str | Path, *parts: str) -> Path:
    """``base/parts...``, refused unless it resolves to a path inside ``base`` (symlinks followed)."""
    root = Path(base).resolve()
    target = root.joinpath(*parts).resolve()
    if target != root and root not in target.parents:
        raise BenchmarkError(f"{Path(base).joinpath(*parts)}: resolves outside {base} ({target})")
    return Path(base).joinpath(*parts)


def writable_folder(folder: str | Path, what: str) -> Path:
    """Prove ``folder`` can hold new files (or can be created), before any compute is spent.
    Nothing is left behind: a missing folder is not created here, its nearest existing parent is checked."""
    import os
    import tempfile
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise BenchmarkError(f"{what} {folder}: exists and is not a folder")
    if not folder.exists():
        parent = next((p for p in folder.absolute().parents if p.exists()), None)
        if parent is None or not parent.is_dir():
            raise BenchmarkError(f"{what} {folder}: {parent} is not a folder")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise BenchmarkError(f"{what} {folder}: cannot be created ({parent} is not writable)")
        return folder
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".csbench-write-check.", suffix=".tmp"):
            pass
    except OSError as exc:
        raise BenchmarkError(f"{what} {folder}: not writable ({exc.strerror or exc})") from None
    return folder
