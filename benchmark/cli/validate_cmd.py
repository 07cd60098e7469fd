"""`csbench validate FILE...`: check task files (YAML) and result records (JSON) strictly, every file of
the list, each reported on its own line."""
from __future__ import annotations

import sys
from pathlib import Path

EXIT_CODES = "Exit status: 0 every file valid; 1 a record rejected (its claims disagree with its predictions " \
             "or its task); 2 a file unreadable or malformed (one error line each), or bad usage."


def add_parser(sub) -> None:
    p = sub.add_parser("validate", help="check task files and result records",
                       description="A task YAML is parsed and (with --load-data) its data loaded; a record is checked "
                                   "for schema, task version and definition, predictions file (name, hash, run id), "
                                   "and every metric and efficiency field re-derived from its per-example predictions. "
                                   "Every file is checked and reported. " + EXIT_CODES)
    p.add_argument("files", nargs="+", type=Path, help="task .yaml files or record .json files")
    p.add_argument("--load-data", action="store_true",
                   help="for task files: also load the data (quick profile), check it and print per-split group counts")
    p.add_argument("--task", type=Path, metavar="FILE",
                   help="for records: the task file they were run with (default: the task of the record's name)")
    p.add_argument("--rescore", action="store_true",
                   help="for records: first rewrite the metrics from the (hash-checked) predictions, "
                        "e.g. after a metric was added to the catalogue; then check as usual")
    p.add_argument("--migrate", action="store_true",
                   help="for records: first upgrade an older schema in place (metrics unchanged); then check")
    p.set_defaults(handler=run)


def _validate_task(path: Path, args, notes: list[str]) -> list[str]:
    from benchmark.data.catalog import read_any_task, track_of
    spec = read_any_task(path)
    if args.load_data and track_of(spec) == "classification":
        from benchmark.data.audit import count_table
        from benchmark.data.dataset import load_task_data
        data = load_task_data(spec, "quick")
        lines, warnings = count_table(data)
        notes += [f"groups (quick profile, groups.min_size {spec.groups.min_size}):"] + [f"  {line}" for line in lines]
        notes += [f"warning: {w}" for w in warnings]
    return []


def _validate_record(path: Path, args, fingerprints, notes: list[str]) -> list[str]:
    from benchmark.records import read_record
    from benchmark.validation import check_record, task_for_record
    if args.migrate:
        from benchmark.migrate import migrate_record
        if migrate_record(path):
            print(f"MIGRATED {path}")
    spec = task_for_record(read_record(path), args.task)
    if args.rescore:
        from benchmark.validation import rescore_record
        if rescore_record(path, spec):
            print(f"RESCORED {path}")
    problems = check_record(path, spec)
    data_problems, data_notes = fingerprints(read_record(path), spec)
    notes += data_notes
    return problems + data_problems


def run(args) -> int:
    from benchmark.data.audit import FingerprintCheck
    from benchmark.errors import BenchmarkError
    fingerprints = FingerprintCheck()
    worst = 0
    for path in args.files:
        notes: list[str] = []
        try:
            if path.suffix in (".yaml", ".yml"):
                problems = _validate_task(path, args, notes)
            else:
                problems = _validate_record(path, args, fingerprints, notes)
        except BenchmarkError as exc:   # unreadable or malformed: one line, and on to the next file
            message = str(exc) if str(exc).startswith(str(path)) else f"{path}: {exc}"
            print(f"csbench: error: {message}", file=sys.stderr)
            worst = 2
            continue
        if problems:
            worst = max(worst, 1)
            print(f"REJECTED {path}")
            for problem in problems:
                print(f"  - {problem}")
        else:
            print(f"OK {path}")
        for note in notes:
            print(f"  {note}")
    return worst
