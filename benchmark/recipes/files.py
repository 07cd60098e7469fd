"""--recipe-file: Python files that register extra recipes with @register_recipe."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from benchmark.errors import BenchmarkError


def module_name(path: str) -> str:
    return f"csbench_user_recipes_{Path(path).stem}"


def load_recipe_files(paths: list[str]) -> None:
    """Import each file once per process (a worker running many units loads it with the first)."""
    for path in paths:
        name = module_name(path)
        if name in sys.modules:
            continue
        if not Path(path).is_file():
            raise BenchmarkError(f"--recipe-file {path}: no such file")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise BenchmarkError(f"--recipe-file {path}: failed to load: {type(exc).__name__}: {exc}") from None
        sys.modules[name] = module
