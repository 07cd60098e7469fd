"""`csbench validate FILE`: check a task file (YAML) or a result record (JSON) strictly."""
from __future__ import annotations

from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser("validate", help="check a task file or a result record",
                       description="A task YAML is parsed and its data columns checked; a record is checked for "
                                   "schema, task version, predictions hash, and metrics recomputed from its "
                                   "per-example predictions. Exit 0 when valid, 1 when rejected.")
    p.add_argument("files", nargs="+", type=Path, help="task .yaml files or record .json files")
    p.add_argument("--load-data", action="store_true", help="for task files: also load the data and check columns")
    p.add_argument("--rescore", action="store_true",
                   help="for records: first rewrite the metrics from the (hash-checked) predictions, "
                        "e.g. after a metric was added to the catalogue; then check as usual")
    p.set_defaults(handler=run)


def _validate_task(path: Path, load_data: bool) -> list[str]:
    from benchmark.data.catalog import read_any_task, track_of
    spec = read_any_task(path)
    if load_data and track_of(spec) == "classification":
        from benchmark.data.dataset import load_task_data
        data = load_task_data(spec, "quick")
        return [] if len(data.test) else ["the test split is empty"]
    return []


def _validate_record(path: Path) -> list[str]:
    from benchmark.data.catalog import load_task
    from benchmark.errors import BenchmarkError
    from benchmark.records import read_record
    from benchmark.validation import check_record
    record = read_record(path)
    try:
        spec = load_task(record.task["name"])
    except BenchmarkError:
        spec = None  # a task this clone does not have: check everything else
    return check_record(path, spec)


def run(args) -> int:
    rejected = 0
    for path in args.files:
        if args.rescore and path.suffix == ".json":
            from benchmark.validation import rescore_record
            if rescore_record(path):
                print(f"RESCORED {path}")
        check = _validate_task if path.suffix in (".yaml", ".yml") else _validate_record
        problems = check(path, args.load_data) if check is _validate_task else check(path)
        if problems:
            rejected += 1
            print(f"REJECTED {path}")
            for problem in problems:
                print(f"  - {problem}")
        else:
            print(f"OK {path}")
    return 1 if rejected else 0
