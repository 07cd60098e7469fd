"""`csbench eval`: score a checkpoint compressed elsewhere and write a record like a recipe's."""
from __future__ import annotations

from pathlib import Path

from benchmark.cli.run_cmd import seed_number


def add_parser(sub) -> None:
    p = sub.add_parser(
        "eval", help="score a model compressed elsewhere (folder, .pt or hub id)",
        description="Score a compressed checkpoint on a task against the task's dense model (or --dense) and write "
                    "a record under --results/<task>/<name>/, so it joins the leaderboard. A checkpoint is a "
                    "save_pretrained folder, a hub id, or (with --trust-pickle) a torch.save'd whole model.")
    p.add_argument("--task", required=True, help="task name or YAML path")
    p.add_argument("--model", required=True, help="checkpoint folder, .pt file or hub id")
    p.add_argument("--dense", help="a different dense reference (same forms as --model)")
    p.add_argument("--name", help="row name on the leaderboard (default: the checkpoint's name)")
    p.add_argument("--seed", type=seed_number, default=0)
    p.add_argument("--profile", choices=("quick", "full"), default="quick")
    p.add_argument("--results", type=Path, default=Path("results"))
    p.add_argument("--trust-pickle", action="store_true", help="allow loading a pickled whole model (.pt)")
    p.set_defaults(handler=run)


def run(args) -> int:
    from benchmark.api import load_checkpoint, score_model
    from benchmark.data.catalog import load_task
    from benchmark.errors import BenchmarkError
    from benchmark.names import check_name, is_safe_name, writable_folder
    from benchmark.records import read_record

    spec = load_task(args.task)
    default = Path(args.model.rstrip("/")).stem.replace("/", "-")
    if args.name is None and not is_safe_name(default):
        raise BenchmarkError(f"--model {args.model}: its name {default!r} cannot be a row name; pass --name")
    name = check_name(args.name if args.name is not None else default, "--name")
    if args.seed < 0:
        raise BenchmarkError(f"--seed must be >= 0, got {args.seed}")
    writable_folder(args.results, "--results")   # before any model is loaded
    model = load_checkpoint(args.model, spec.family, spec.num_labels, trust_pickle=args.trust_pickle)
    dense = load_checkpoint(args.dense, spec.family, spec.num_labels, trust_pickle=args.trust_pickle) \
        if args.dense else None
    path = score_model(model, args.task, name=name, dense=dense, seed=args.seed, profile=args.profile,
                       results_dir=args.results, identity=args.model)
    overall = read_record(path).metrics["overall"]
    print(f"{name} on {spec.name}: accuracy {100 * overall['accuracy']:.1f}%, worst-group "
          f"{100 * overall['worst_group_accuracy']:.1f}%, max psi {100 * overall['max_psi']:.1f}, "
          f"flips {100 * overall['flip_rate']:.1f}%")
    print(f"Record: {path}  (csbench leaderboard to add it to the tables)")
    return 0
