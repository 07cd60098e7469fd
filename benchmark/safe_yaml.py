"""YAML for files a user hands us: size-capped, UTF-8, and without aliases.

PyYAML's safe loader never builds objects, but it does expand aliases: a 1 KB file of nested
``&a [*b, *b, ...]`` anchors ("billion laughs") grows without bound when walked. Task files have no
use for aliases, so an alias is refused outright, as is a file over MAX_BYTES.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from benchmark.errors import BenchmarkError

MAX_BYTES = 1 << 20   # 1 MiB; the largest shipped task file is ~3 KB


class _NoAliasLoader(yaml.SafeLoader):
    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "YAML aliases (*name) are not accepted",
                                              event.start_mark)
        return super().compose_node(parent, index)


def parse_yaml(text: str, where: str):
    try:
        return yaml.load(text, Loader=_NoAliasLoader)   # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark else ""
        raise BenchmarkError(f"{where}: not valid YAML{line}: {getattr(exc, 'problem', None) or exc}") from None
    except RecursionError:
        raise BenchmarkError(f"{where}: not valid YAML: nested too deeply") from None


def read_yaml_file(path: str | Path, what: str = "file"):
    """Parsed YAML of a user file; unreadable, oversized, non-UTF-8 or invalid -> one-line BenchmarkError."""
    path = Path(path)
    try:
        if path.is_dir():
            raise BenchmarkError(f"{path}: is a folder, not a YAML file")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise BenchmarkError(f"{path}: {size} bytes, over the {MAX_BYTES}-byte limit for a task file")
        data = path.read_bytes()
    except FileNotFoundError:
        raise BenchmarkError(f"{path}: no such {what}") from None
    except OSError as exc:
        raise BenchmarkError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BenchmarkError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    if "\x00" in text:
        raise BenchmarkError(f"{path}: not a text file (contains NUL bytes)")
    return parse_yaml(text, str(path))
