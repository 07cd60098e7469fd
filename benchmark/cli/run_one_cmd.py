"""`csbench run-one UNIT`: run one unit of `csbench plan` (a JSON line, a file of them, or - for stdin)."""
from __future__ import annotations

import sys
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "run-one", help="run one unit printed by csbench plan",
        description="Run one unit: a dense unit builds its dense model into the cache ($CSBENCH_CACHE); a recipe "
                    "unit writes its record into the unit's results folder, or reports it finished. Safe to run "
                    "concurrently with other workers sharing the cache and results folder: each dense model is "
                    "built once and each record written once (file locks).")
    p.add_argument("unit", metavar="UNIT", help="a unit's JSON line, a JSON Lines file, or - to read stdin")
    p.add_argument("--line", type=int, metavar="N",
                   help="the N-th unit (1-based) of a file or stdin holding several (e.g. $SLURM_ARRAY_TASK_ID + 1)")
    p.set_defaults(handler=run)


def read_unit(text: str, where: str, line: int | None):
    from benchmark.errors import BenchmarkError
    from benchmark.units import unit_from_json
    lines = [(i, s) for i, s in enumerate(text.splitlines(), 1) if s.strip()]
    if line is not None:
        if not 1 <= line <= len(lines):
            raise BenchmarkError(f"{where}: --line {line} is out of range (it holds {len(lines)} unit(s))")
        number, chosen = lines[line - 1]
        return unit_from_json(chosen, f"{where}:{number}")
    if len(lines) != 1:
        raise BenchmarkError(f"{where}: holds {len(lines)} units; choose one with --line N")
    return unit_from_json(lines[0][1], where)


def run(args) -> int:
    from benchmark.cli.run_cmd import report
    from benchmark.tracks import run_unit

    if args.unit == "-":
        unit = read_unit(sys.stdin.read(), "stdin", args.line)
    elif args.unit.lstrip().startswith("{"):
        unit = read_unit(args.unit, "UNIT", args.line)
    else:
        path = Path(args.unit)
        from benchmark.errors import BenchmarkError
        if not path.is_file():
            raise BenchmarkError(f"{path}: no such unit file (give a JSON line, a file, or -)")
        unit = read_unit(path.read_text(), str(path), args.line)
    outcome = run_unit(unit, report)
    if outcome is None:
        print(f"✓ {unit.task:<24} {'(dense model)':<28} seed {unit.seed}  ready in the cache ({unit.dense_key})")
        return 0
    report(outcome)
    return 1 if outcome.status == "failed" else 0
