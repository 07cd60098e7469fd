"""`csbench reproduce PRESET`: run a paper's settings and print our numbers beside the paper's."""
from __future__ import annotations

from pathlib import Path


def add_parser(sub) -> None:
    from benchmark.reproduce import PRESETS   # preset modules are plain data: cheap to import
    p = sub.add_parser(
        "reproduce", help="run a paper preset and compare with its published numbers",
        description="Run the tasks, compressed models (mapped to our recipes) and seeds of a paper, then print our "
                    "numbers beside the paper's with the difference, the paper's stated findings checked on ours, "
                    "and write the table to LEADERBOARD/reproduce-PRESET.md. Paper cells hold only numbers "
                    "confirmed from the paper. Finished records in --results are reused, so rerunning resumes.",
        epilog="Presets: " + "; ".join(f"{name} ({PRESETS.get(name).title})" for name in PRESETS.names())
               + ". Try: csbench reproduce gee2023 --smoke")
    p.add_argument("preset", metavar="PRESET", help="one of: " + ", ".join(PRESETS.names()))
    p.add_argument("--smoke", action="store_true",
                   help="the same path on the fixture files in tests/fixtures, tiny models, 1 seed, tiny budgets "
                        "(a few minutes on a CPU; numbers not comparable to the paper)")
    p.add_argument("--seeds", nargs="+", type=int, metavar="SEED", help="model seeds (default: the paper's)")
    p.add_argument("--results", type=Path,
                   help="records folder (default results/reproduce/PRESET, or results/smoke/PRESET with --smoke: "
                        "a preset changes the tasks' dense model and protocol, so its records stay apart from "
                        "the main leaderboard's)")
    p.add_argument("--leaderboard", type=Path, default=Path("leaderboard"), help="report folder (default leaderboard/)")
    p.add_argument("--force", action="store_true", help="recompute records that already exist")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the WGA interval")
    from benchmark.cli.executor_args import add_executor_args
    add_executor_args(p)
    p.set_defaults(handler=run)


def run(args) -> int:
    import pandas as pd
    from benchmark.cli.executor_args import executor_options
    from benchmark.cli.run_cmd import report
    from benchmark.reproduce import PRESETS
    from benchmark.reproduce.compare import display_frame
    from benchmark.reproduce.run import run_preset, write_report

    preset = PRESETS.get(args.preset)
    results = args.results or Path("results") / ("smoke" if args.smoke else "reproduce") / preset.name
    result = run_preset(preset, smoke=args.smoke, seeds=args.seeds, results_dir=results, force=args.force,
                        n_boot=args.bootstrap, report=report, executor=args.executor,
                        options=executor_options(args, results))
    path = write_report(result, args.leaderboard)
    with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 250,
                           "display.max_colwidth", 60):
        print()
        print(f"{preset.title}{'  [SMOKE: fixture data, tiny models]' if args.smoke else ''}")
        shown = display_frame(result.table).drop(columns=["source"])
        for task, rows in shown.groupby("task", sort=False):
            print(f"\n== {task}")
            print(rows.drop(columns=["task"]).to_string(index=False))
        if not result.claims.empty:
            print("\nClaims of the paper, checked on our numbers:")
            print(result.claims.drop(columns=["source"]).to_string(index=False))
    unconfirmed = sum(p.value is None for p in preset.published)
    print(f"\nPaper cells hold only numbers confirmed from the paper; {unconfirmed} unconfirmed figure(s) left empty.")
    if result.missing:
        names = sorted({s.recipe for _, s in result.missing})
        print(f"Settings without a registered recipe: {', '.join(names)}")
    print(f"Report written to {path}")
    return 1 if result.failed else 0
