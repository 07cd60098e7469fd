"""--recipe-file: Python files that register extra recipes with @register_recipe."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from benchmark.errors import BenchmarkError


def module_name(path: str) -> str:
    return f"csbench_user_recipes_{Path(path).stem}"


def load_recipe_files(paths: list[str]) -> None:
    """Import each file once per process (a worker running many units loads it with the first). The
    file's sha256 is set on the module first: its recipes' config hashes, hence run ids, include it."""
    import hashlib
    from benchmark.recipes.base import SOURCE_HASH_ATTR
    for path in paths:
        name = module_name(path)
        if name in sys.modules:
            continue
        if not Path(path).is_file():
            raise BenchmarkError(f"--recipe-file {path}: no such file")
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise BenchmarkError(f"--recipe-file {path}: not a Python file")
        module = importlib.util.module_from_spec(spec)
        setattr(module, SOURCE_HASH_ATTR, hashlib.sha256(Path(path).read_bytes()).hexdigest())
        try:
            spec.loader.exec_module(module)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:   # SystemExit too: a recipe file must not end csbench silently
            first = str(exc).splitlines()[0] if str(exc) else ""
            raise BenchmarkError(f"--recipe-file {path}: failed to load: {type(exc).__name__}: {first}") from None
        sys.modules[name] = module
