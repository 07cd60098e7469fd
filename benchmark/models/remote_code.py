"""No checkpoint's own code runs here, ever.

transformers runs a checkpoint's Python when its config names it (``auto_map``) and the caller says
``trust_remote_code=True`` -- or, when the caller passes nothing, after asking "Do you wish to run the
custom code? [y/N]" on standard input. Every load in csbench passes ``NO_REMOTE_CODE``, and a local
checkpoint that asks for custom code is refused with one line before transformers opens it.
"""
from __future__ import annotations

import json
from pathlib import Path

from benchmark.errors import BenchmarkError

NO_REMOTE_CODE = {"trust_remote_code": False}


def refuse_custom_code(path_or_id: str | Path) -> None:
    """One-line BenchmarkError if a local checkpoint folder's JSON files name custom code (auto_map)."""
    folder = Path(path_or_id)
    if not folder.is_dir():
        return   # a hub id: transformers itself refuses custom code under trust_remote_code=False
    for config in sorted(folder.glob("*.json")):
        try:
            if config.stat().st_size > (16 << 20):
                continue   # weight index files can be large; configs are small
            content = json.loads(config.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            continue        # not a config transformers would read as one
        if isinstance(content, dict) and "auto_map" in content:
            raise BenchmarkError(f"{config}: the checkpoint asks to run its own code (auto_map); csbench never "
                                 "runs checkpoint code: save it with a standard transformers architecture")
