"""Tracks: classification (benchmark.runner) and generative (benchmark.generative.runner).

Each track plans its tasks into units (benchmark.units) and runs one unit at a time in a process
that keeps what it loaded for the next unit; ``run`` is its sequential executor for a whole plan.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from benchmark.registry import Registry, lazy


@dataclass(frozen=True)
class Track:
    run: Callable            # (plan, specs, report) -> outcomes: the whole plan, sequentially, in this process
    plan_units: Callable     # (plan, specs) -> (units in run order, outcomes of pairs not run)
    unit_runner: Callable    # () -> object with .run(unit, report) -> Outcome | None, one per process


TRACK_RUNNERS: Registry[Track] = Registry("track", base=Track)
TRACK_RUNNERS.register("classification", lazy("benchmark.runner:TRACK"))
TRACK_RUNNERS.register("generative", lazy("benchmark.generative.runner:TRACK"))


def by_track(specs) -> dict[str, list]:
    from benchmark.data.catalog import track_of
    groups: dict[str, list] = {}
    for spec in specs:
        groups.setdefault(track_of(spec), []).append(spec)
    return groups


def run_tracks(plan, report=lambda outcome: None):
    """Run a plan sequentially in this process, each task through its track's runner."""
    outcomes = []
    for track, specs in by_track(plan.specs).items():
        outcomes += TRACK_RUNNERS.get(track).run(plan, specs, report)
    return outcomes


def plan_units(plan) -> tuple[list, list]:
    """Every unit of a plan, in run order (each dense unit before the units that depend on it), and the
    outcomes of (task, recipe) pairs that are not run (not applicable, unavailable)."""
    units, outcomes = [], []
    for track, specs in by_track(plan.specs).items():
        more, skipped = TRACK_RUNNERS.get(track).plan_units(plan, specs)
        units += more
        outcomes += skipped
    return units, outcomes


@lru_cache(maxsize=None)
def _process_runner(track: str):
    """One runner per track and process: consecutive units of a task reuse its loaded data and models."""
    return TRACK_RUNNERS.get(track).unit_runner()


def run_unit(unit, report: Callable = lambda outcome: None):
    """Run one unit in this process. A dense unit builds (or finds) its dense model and returns None;
    a recipe unit returns its outcome (done, skipped, unavailable or failed)."""
    if unit.recipe_files:
        from benchmark.recipes.files import load_recipe_files
        load_recipe_files(list(unit.recipe_files))
    if unit.threads:
        import torch
        torch.set_num_threads(unit.threads)
    return _process_runner(unit.track).run(unit, report)
