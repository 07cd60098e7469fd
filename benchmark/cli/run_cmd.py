"""`csbench run`: tasks x recipes x seeds (or a named suite) -> records -> leaderboard table."""
from __future__ import annotations

from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "run", help="run recipes on tasks and write result records",
        description="Fine-tune (or reuse the cached) dense model per task and seed, apply each recipe, score it per "
                    "subgroup against the dense model and write one record per (task, recipe, seed) under "
                    "--results. Finished records are skipped, so rerunning resumes an interrupted run. "
                    "--executor fans the units out (a process pool, Slurm through submitit, or Ray).")
    add_selection_args(p)
    p.add_argument("--leaderboard", type=Path, default=Path("leaderboard"), help="tables folder (default leaderboard/)")
    from benchmark.cli.executor_args import add_executor_args
    add_executor_args(p)
    p.set_defaults(handler=run)


def add_selection_args(p) -> None:
    """What to run: shared by `csbench run` and `csbench plan`."""
    p.add_argument("--suite", help="a named suite (csbench ls suites), e.g. quick or smoke")
    p.add_argument("--tasks", nargs="+", default=[], metavar="TASK", help="task names or YAML paths")
    p.add_argument("--recipes", nargs="+", default=[], metavar="RECIPE",
                   help="recipe names or globs, e.g. dense 'prune-magnitude-*' (csbench ls recipes)")
    p.add_argument("--seeds", nargs="+", type=seed_number, metavar="SEED",
                   help="model seeds, whole numbers >= 0 (default: the suite's, or 0)")
    p.add_argument("--profile", choices=("quick", "full"), help="data sizes and training budgets (default quick)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a budget value, e.g. --set train_size=500 (part of the run id)")
    p.add_argument("--recipe-file", action="append", default=[], metavar="FILE.py",
                   help="a Python file that registers extra recipes with @register_recipe")
    p.add_argument("--results", type=Path, default=Path("results"), help="records folder (default results/)")
    p.add_argument("--force", action="store_true", help="recompute records that already exist")
    p.add_argument("--bootstrap", type=int, default=1000,
                   help="bootstrap resamples for the WGA interval, 1..100000 (part of the run id)")


def seed_number(text: str) -> int:
    import argparse
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a seed is a whole number >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"a seed is a whole number >= 0, got {value}")
    return value


def checked_overrides(pairs: list[str], specs: list) -> dict:
    """``--set`` pairs: budget keys (any task) or a generative kind's settings, each of the right type."""
    from benchmark.data.spec import check_overrides
    settings: dict = {}
    for spec in specs:
        if getattr(spec, "track", "classification") == "generative":
            from benchmark.generative.kinds import KINDS
            settings.update(KINDS.get(spec.kind).settings)
    return check_overrides(parse_overrides(pairs), settings)


def parse_overrides(pairs: list[str]) -> dict:
    import yaml
    from benchmark.errors import BenchmarkError
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BenchmarkError(f"--set expects KEY=VALUE, got {pair!r}")
        out[key.strip()] = yaml.safe_load(value)
    return out


def check_outputs(args) -> None:
    """Output folders checked before any data is loaded or model trained; a killed run's temp files removed."""
    from benchmark.names import writable_folder
    from benchmark.records import sweep_results
    writable_folder(args.results, "--results")
    writable_folder(args.leaderboard, "--leaderboard")
    sweep_results(args.results)


def build_plan(args):
    """The RunPlan the selection arguments name; every task and recipe is checked before any training."""
    from benchmark.data.catalog import load_task
    from benchmark.errors import BenchmarkError
    from benchmark.recipes import RECIPES
    from benchmark.recipes.files import load_recipe_files
    from benchmark.runner import RunPlan
    from benchmark.suites import SUITES

    from benchmark.validation import MAX_BOOTSTRAP
    if not 1 <= args.bootstrap <= MAX_BOOTSTRAP:
        raise BenchmarkError(f"--bootstrap must be between 1 and {MAX_BOOTSTRAP}, got {args.bootstrap}")
    load_recipe_files(args.recipe_file)
    suite = SUITES.get(args.suite) if args.suite else None
    tasks = args.tasks or (list(suite.tasks) if suite else [])
    recipes = args.recipes or (list(suite.recipes) if suite else [])
    if not tasks or not recipes:
        raise BenchmarkError("name a --suite, or both --tasks and --recipes (see csbench ls suites)")
    specs = [load_task(t) for t in tasks]
    recipe_names = RECIPES.select(recipes)
    by_family = {} if args.recipes or not suite else {
        getattr(s, "family", ""): RECIPES.select(suite.recipes_for(getattr(s, "family", ""))) for s in specs}
    return RunPlan(specs=specs, recipes=recipe_names, seeds=args.seeds or list(suite.seeds if suite else [0]),
                   profile=args.profile or (suite.profile if suite else "quick"), results_dir=args.results,
                   force=args.force, overrides=checked_overrides(args.overrides, specs), n_boot=args.bootstrap,
                   recipes_by_family=by_family, recipe_files=[str(Path(f).resolve()) for f in args.recipe_file])


def run(args) -> int:
    from benchmark.cli.executor_args import executor_options
    from benchmark.executors import execute
    from benchmark.report.leaderboard import build_leaderboard

    check_outputs(args)
    plan = build_plan(args)
    named = {r for r in args.recipes if not any(c in r for c in "*?[")}   # asked for by exact name
    outcomes = execute(plan, args.executor, executor_options(args), lambda outcome: report(outcome, named))
    failed = [o for o in outcomes if o.status == "failed"]
    summary, table = build_leaderboard(args.results, args.leaderboard)
    print()
    print(table)
    print(f"Leaderboard written to {args.leaderboard / 'LEADERBOARD.md'}")
    return 1 if failed else 0


def report(outcome, named: set[str] = frozenset()) -> None:
    mark = {"running": "▸", "done": "✓", "skipped": "·", "unavailable": "–", "not applicable": "–", "failed": "✗"}.get(outcome.status, "?")
    if outcome.status == "not applicable" and outcome.recipe not in named:
        return   # a glob or a suite expands to recipes for every family: silence is expected there
    if outcome.status == "running":
        detail = outcome.detail or "the first recipe of a task also trains or loads the cached dense model"
        print(f"▸ {outcome.task:<24} {outcome.recipe:<28} seed {outcome.seed}  running ({detail})", flush=True)
        return
    print(f"{mark} {outcome.task:<24} {outcome.recipe:<28} seed {outcome.seed}  {outcome.status}"
          + (f" ({outcome.detail})" if outcome.detail else ""), flush=True)
