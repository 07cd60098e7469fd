"""`csbench validate FILE`: check a task file (YAML) or a result record (JSON) strictly."""
from __future__ import annotations

from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser("validate", help="check a task file or a result record",
                       description="A task YAML is parsed and its data columns checked; a record is checked for "
                                   "schema, task version, predictions hash, and metrics recomputed from its "
                                   "per-example predictions. Exit 0 when valid, 1 when rejected.")
    p.add_argument("files", nargs="+", type=Path, help="task .yaml files or record .json files")
    p.add_argument("--load-data", action="store_true",
                   help="for task files: also load the data (quick profile), check it and print per-split group counts")
    p.add_argument("--task", type=Path, metavar="FILE",
                   help="for records: the task file they were run with (default: the task of the record's name)")
    p.add_argument("--rescore", action="store_true",
                   help="for records: first rewrite the metrics from the (hash-checked) predictions, "
                        "e.g. after a metric was added to the catalogue; then check as usual")
    p.set_defaults(handler=run)


def _validate_task(path: Path, load_data: bool, notes: list[str]) -> list[str]:
    from benchmark.data.catalog import read_any_task, track_of
    spec = read_any_task(path)
    if load_data and track_of(spec) == "classification":
        from benchmark.data.audit import count_table
        from benchmark.data.dataset import load_task_data
        data = load_task_data(spec, "quick")
        lines, warnings = count_table(data)
        notes += [f"groups (quick profile, groups.min_size {spec.groups.min_size}):"] + [f"  {line}" for line in lines]
        notes += [f"warning: {w}" for w in warnings]
    return []


def _record_task(record, task_file: Path | None):
    """The task a record is checked against: --task FILE, else the task of its name, else the file it names."""
    from benchmark.data.catalog import load_task, read_any_task
    from benchmark.errors import BenchmarkError
    if task_file is not None:
        return read_any_task(task_file)
    try:
        spec = load_task(record.task["name"])
    except BenchmarkError:
        spec = None  # a task this clone does not have: check everything else
    recorded = record.task.get("file")
    if recorded and Path(recorded).is_file() and (spec is None or spec.content_hash() != record.task.get("spec_hash")):
        try:
            return read_any_task(Path(recorded))
        except BenchmarkError:
            pass
    return spec


def _validate_record(path: Path, task_file: Path | None, fingerprints, notes: list[str]) -> list[str]:
    from benchmark.records import read_record
    from benchmark.validation import check_record
    record = read_record(path)
    spec = _record_task(record, task_file)
    problems = check_record(path, spec)
    data_problems, data_notes = fingerprints(record, spec)
    notes += data_notes
    return problems + data_problems


def run(args) -> int:
    from benchmark.data.audit import FingerprintCheck
    fingerprints = FingerprintCheck()
    rejected = 0
    for path in args.files:
        if args.rescore and path.suffix == ".json":
            from benchmark.validation import rescore_record
            if rescore_record(path):
                print(f"RESCORED {path}")
        notes: list[str] = []
        if path.suffix in (".yaml", ".yml"):
            problems = _validate_task(path, args.load_data, notes)
        else:
            problems = _validate_record(path, args.task, fingerprints, notes)
        if problems:
            rejected += 1
            print(f"REJECTED {path}")
            for problem in problems:
                print(f"  - {problem}")
        else:
            print(f"OK {path}")
        for note in notes:
            print(f"  {note}")
    return 1 if rejected else 0
