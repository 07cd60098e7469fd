"""One generic registry for tasks, recipes, metrics, data sources and model families.

Ground floor: imports nothing of the project but its errors and name rules.
"""
from __future__ import annotations

import difflib
import fnmatch
import importlib
import types
from importlib.metadata import entry_points
from typing import Callable, Generic, Iterator, TypeVar

from benchmark.errors import BenchmarkError, UnknownNameError
from benchmark.names import check_name

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> object, filled by decorator, by direct call, by lazy "module:attr" strings
    or by Python entry points (so a third-party package can add entries without forking).

    >>> colors = Registry("color")
    >>> @colors.register("red")
    ... def red(): return "#f00"
    >>> colors.get("red")()
    '#f00'
    """

    def __init__(self, kind: str, entry_point_group: str | None = None, base: type | None = None):
        self.kind = kind
        self.entry_point_group = entry_point_group
        self.base = base
        self._items: dict[str, T | str] = {}
        self._entry_points_loaded = entry_point_group is None

    def register(self, name: str | None = None, obj: T | str | None = None, *, replace: bool = False):
        """Register ``obj`` under ``name``; without ``obj`` return a decorator."""

        def add(target):
            key = name or getattr(target, "name", None) or getattr(target, "__name__")
            check_name(key, f"{self.kind} name")   # names become folders and table cells
            if key in self._items and not replace and self._items[key] is not target:
                raise BenchmarkError(f"{self.kind} {key!r} is already registered")
            self._check(key, target)
            self._items[key] = target
            return target

        return add(obj) if obj is not None else add

    def _check(self, key: str, target) -> None:
        if self.base is not None and not isinstance(target, str) and not isinstance(target, self.base):
            raise BenchmarkError(f"{self.kind} {key!r} must be a {self.base.__name__}, got {type(target).__name__}")

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        for ep in entry_points(group=self.entry_point_group):
            try:
                loaded = ep.load()
            except Exception as exc:  # a broken plugin must not break the whole tool
                raise BenchmarkError(f"plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
            # A plugin module registers its entries on import; a returned object is registered by name.
            if not isinstance(loaded, types.ModuleType) and ep.name not in self._items:
                check_name(ep.name, f"{self.kind} name")
                self._check(ep.name, loaded)
                self._items[ep.name] = loaded

    def get(self, name: str) -> T:
        self._load_entry_points()
        if name not in self._items:
            raise UnknownNameError(self.unknown_message(name))
        item = self._items[name]
        if isinstance(item, str):  # lazy "module:attr"
            module, _, attr = item.partition(":")
            item = getattr(importlib.import_module(module), attr)
            self._check(name, item)
            self._items[name] = item
        return item  # type: ignore[return-value]

    def unknown_message(self, name: str) -> str:
        known = sorted(self._items)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        shown = 30   # a short registry is listed whole; a long one says how many more there are
        listing = ", ".join(known[:shown]) + (f" ... ({len(known) - shown} more)" if len(known) > shown else "")
        return f"Unknown {self.kind} {name!r}.{hint} Known: {listing}"

    def names(self, pattern: str = "*") -> list[str]:
        self._load_entry_points()
        return sorted(n for n in self._items if fnmatch.fnmatch(n, pattern))

    def select(self, patterns: list[str]) -> list[str]:
        """Expand names or glob patterns, keeping order; an exact unknown name raises."""
        chosen: list[str] = []
        for pattern in patterns:
            matches = self.names(pattern) if any(c in pattern for c in "*?[") else [self.get(pattern) and pattern]
            if not matches:
                raise UnknownNameError(f"No {self.kind} matches {pattern!r}. Known: {', '.join(self.names())}")
            chosen.extend(m for m in matches if m not in chosen)
        return chosen

    def items(self) -> Iterator[tuple[str, T]]:
        for name in self.names():
            yield name, self.get(name)

    def __contains__(self, name: str) -> bool:
        self._load_entry_points()
        return name in self._items

    def __len__(self) -> int:
        self._load_entry_points()
        return len(self._items)


def lazy(module_attr: str) -> str:
    """Mark a registration as lazy: ``registry.register("x", lazy("pkg.mod:obj"))``."""
    if ":" not in module_attr:
        raise BenchmarkError(f"lazy registration needs 'module:attr', got {module_attr!r}")
    return module_attr


Builder = Callable[..., object]
