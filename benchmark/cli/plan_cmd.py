"""`csbench plan`: the units of a run as JSON Lines, for any scheduler to run with `csbench run-one`."""
from __future__ import annotations

import sys


def add_parser(sub) -> None:
    from benchmark.cli.run_cmd import add_selection_args
    p = sub.add_parser(
        "plan", help="list the units of a run as JSON Lines (for a scheduler; run each with run-one)",
        description="Print one JSON line per unit of the run the same arguments would start: a 'dense' unit per "
                    "(task, seed, budget), whose key is the dense model's cache key, and a 'recipe' unit per "
                    "(task, recipe, seed), whose key is its record's run id and which depends_on its dense unit. "
                    "Dense units come before the units that need them; run them first (a recipe unit whose "
                    "dense model is missing builds it itself, under a lock). Pairs that are not run (recipe not "
                    "applicable or unavailable) are listed on stderr.",
        epilog="Example: csbench plan --suite quick --pending > units.jsonl; "
               "then for line N: sed -n Np units.jsonl | csbench run-one -")
    add_selection_args(p)
    p.add_argument("--pending", action="store_true",
                   help="only units still to run (records missing or stale, and the dense models they need)")
    p.set_defaults(handler=run)


def run(args) -> int:
    from benchmark.cli.run_cmd import build_plan
    from benchmark.runner import needed
    from benchmark.tracks import plan_units

    units, not_run = plan_units(build_plan(args))
    for unit in needed(units) if args.pending else units:
        print(unit.to_json())
    for outcome in not_run:
        print(f"# not run: {outcome.task} {outcome.recipe} seed {outcome.seed}: {outcome.status}"
              + (f" ({outcome.detail})" if outcome.detail else ""), file=sys.stderr)
    return 0
