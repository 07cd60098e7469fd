"""Run a preset (tasks x settings x seeds through the track runners) and put our numbers beside
the paper's. ``smoke`` takes the same path on fixture data with tiny models."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from benchmark.errors import BenchmarkError
from benchmark.records import atomic_write_text, read_record
from benchmark.reproduce import compare
from benchmark.reproduce.preset import Preset, Setting

SMOKE_PROFILE = "quick"
MERGED_FIELDS = ("source_params", "training", "splits")   # dict fields a change updates rather than replaces


def fixtures_dir() -> Path:
    """tests/fixtures of a source checkout: the smoke data."""
    folder = Path(__file__).resolve().parents[2] / "tests" / "fixtures"
    if not folder.is_dir():
        raise BenchmarkError(f"--smoke needs the fixture files of a source checkout ({folder} is missing)")
    return folder


def _fill(value: Any, fixtures: str) -> Any:
    """Replace ``{fixtures}`` in every string of a nested value."""
    if isinstance(value, str):
        return value.replace("{fixtures}", fixtures)
    if isinstance(value, dict):
        return {k: _fill(v, fixtures) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_fill(v, fixtures) for v in value)
    return value


def apply_changes(spec, changes: dict[str, Any]):
    """A copy of a (frozen) task spec with fields changed: dict fields are updated key by key, and
    each profile's budget is updated the same way; other fields are replaced."""
    updates = {}
    for name, value in changes.items():
        current = getattr(spec, name)
        if name == "profiles":
            updates[name] = {p: {**current.get(p, {}), **value.get(p, {})} for p in dict.fromkeys([*current, *value])}
        elif name in MERGED_FIELDS:
            updates[name] = {**current, **value}
        else:
            updates[name] = value
    return dataclasses.replace(spec, **updates)


def prepared_spec(preset: Preset, task: str, smoke: bool):
    from benchmark.data.catalog import load_task
    spec = apply_changes(load_task(task), preset.task_changes.get(task, {}))
    if smoke:
        spec = apply_changes(spec, _fill(preset.smoke.task_changes.get(task, {}), str(fixtures_dir())))
    return spec


def resolve(settings: list[Setting]) -> list[tuple[Setting, str | None]]:
    """Each setting with the recipe(s) it names; None where no registered recipe matches."""
    from benchmark.recipes import RECIPES
    out: list[tuple[Setting, str | None]] = []
    for setting in settings:
        if any(c in setting.recipe for c in "*?["):
            names = RECIPES.names(setting.recipe)
        else:
            names = [setting.recipe] if setting.recipe in RECIPES else []
        out += [(setting, name) for name in names] or [(setting, None)]
    return out


@dataclass
class Reproduction:
    preset: Preset
    smoke: bool
    table: pd.DataFrame
    claims: pd.DataFrame
    outcomes: list = field(default_factory=list)
    missing: list[tuple[str, Setting]] = field(default_factory=list)   # (task, setting) with no recipe

    @property
    def failed(self) -> list:
        return [o for o in self.outcomes if o.status == "failed"]


def _status(outcomes: list) -> str:
    """One note for a (task, recipe) from its outcomes over seeds."""
    troubled = [o for o in outcomes if o.status in ("unavailable", "failed", "not applicable")]
    if not troubled:
        return ""
    first = troubled[0]
    return f"{first.status}: {first.detail}" if first.detail else first.status


def run_batches(specs: dict, resolved: dict, plan_args: dict, report: Callable, executor: str = "local",
                options=None) -> list:
    """Tasks that run the same recipes share one plan, so a track runner builds each compressed
    model once for all of them (the generative track does); the executor runs all plans as one graph."""
    from benchmark.executors import ExecutorOptions, execute
    from benchmark.runner import RunPlan
    batches: dict[tuple[str, ...], list[str]] = {}
    for task, pairs in resolved.items():
        batches.setdefault(tuple(dict.fromkeys(name for _, name in pairs if name)), []).append(task)
    plans = [RunPlan(specs=[specs[t] for t in tasks], recipes=list(recipes), **plan_args)
             for recipes, tasks in batches.items() if recipes]
    return execute(plans, executor, options or ExecutorOptions(), report)


def run_preset(preset: Preset, *, smoke: bool = False, seeds: list[int] | None = None,
               results_dir: Path = Path("results"), force: bool = False, n_boot: int = 1000,
               report: Callable = lambda outcome: None, executor: str = "local", options=None) -> Reproduction:
    """``executor``/``options``: where the units run (benchmark.executors; default this process)."""
    specs = {task: prepared_spec(preset, task, smoke) for task in preset.tasks}   # every task checked first
    resolved = {task: resolve(preset.settings_for(task, smoke)) for task in preset.tasks}
    plan_args = {"seeds": list(seeds or (preset.seeds[:1] if smoke else preset.seeds)),
                 "profile": SMOKE_PROFILE if smoke else preset.profile, "results_dir": Path(results_dir),
                 "force": force, "overrides": dict(preset.smoke.overrides) if smoke else {}, "n_boot": n_boot}
    outcomes = run_batches(specs, resolved, plan_args, report, executor, options)
    rows, missing = [], []
    for task, pairs in resolved.items():
        missing += [(task, s) for s, name in pairs if name is None]
        rows += [(task, s.label, name or s.recipe, "recipe not registered" if name is None else
                  _status([o for o in outcomes if o.task == task and o.recipe == name])) for s, name in pairs]
    records = [read_record(o.path) for o in outcomes if o.status in ("done", "skipped") and o.path]
    values = compare.measured(records, sorted({m for t in preset.tasks for m in preset.metrics_for(t)}))
    table = compare.side_by_side(preset, rows, values)
    return Reproduction(preset, smoke, table, compare.check_claims(preset, table), outcomes, missing)


def render(result: Reproduction) -> str:
    """The Markdown report: header, one side-by-side table per task, claims, notes."""
    preset = result.preset
    shown = compare.display_frame(result.table)
    confirmed = sum(p.value is not None for p in preset.published)
    unconfirmed = [p for p in preset.published if p.value is None]
    parts = [f"# Reproduce: {preset.title}", "", f"Paper: {preset.paper}", ""]
    if result.smoke:
        parts += ["**SMOKE RUN**: fixture data, tiny models, one seed and tiny budgets. It checks the code path; "
                  "its numbers say nothing about the paper.", ""]
    parts += [f"Paper cells hold only numbers confirmed from the paper itself ({confirmed} here). "
              f"{len(unconfirmed)} published figure(s) known only from summaries or third-party reports are left "
              "empty; their note says 'unconfirmed'. diff = ours - paper. Ours: mean ± standard error over seeds.", ""]
    for task in preset.tasks:
        rows = shown[shown.task == task].drop(columns=["task"])
        parts += [f"## {task}", "", compare.markdown_table(rows)]
    parts += ["## Claims of the paper, checked on our numbers", "", compare.markdown_table(result.claims)]
    not_run = result.table[result.table.run != ""].drop_duplicates(["task", "setting", "recipe"])
    if len(not_run):
        parts += ["## Not run here", "", compare.markdown_table(not_run[["task", "setting", "recipe", "run"]])]
    if unconfirmed:
        empty = pd.DataFrame([(p.task, p.setting, p.metric, p.source, p.status) for p in unconfirmed],
                             columns=["task", "setting", "metric", "source", "why the paper cell is empty"])
        parts += ["## Published figures left empty", "", compare.markdown_table(empty)]
    if preset.notes:
        parts += ["## Notes", ""] + [f"- {note}" for note in preset.notes] + [""]
    return "\n".join(parts)


def write_report(result: Reproduction, leaderboard_dir: Path) -> Path:
    suffix = "-smoke" if result.smoke else ""
    path = Path(leaderboard_dir) / f"reproduce-{result.preset.name}{suffix}.md"
    atomic_write_text(path, render(result))
    return path
