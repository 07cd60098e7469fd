"""`csbench compare LOCAL REFERENCE`: does a local run reproduce the reference records?"""
from __future__ import annotations

from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "compare", help="check local records against reference records (identical / within the interval / outside it)",
        description="For every classification record of REFERENCE, compare the record of the same task, recipe and "
                    "seed under LOCAL: identical predictions, or its worst-group accuracy, Δ accuracy and Δ WGA "
                    "within the reference's 95% bootstrap intervals, or outside them; with both machines' CPUs.")
    p.add_argument("local", type=Path, help="the records this machine produced, e.g. local/results")
    p.add_argument("reference", type=Path, nargs="?", default=Path("results"),
                   help="the reference records (default: the committed results/)")
    p.set_defaults(handler=run)


def run(args) -> int:
    from benchmark.errors import BenchmarkError
    from benchmark.report.reproduction import reproduction_check, render
    for folder in (args.local, args.reference):
        if not folder.is_dir():
            raise BenchmarkError(f"{folder}: no such records folder")
    print(render(reproduction_check(args.local, args.reference)))
    return 0
