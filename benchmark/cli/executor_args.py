"""--executor and its options, shared by `csbench run` and `csbench reproduce`."""
from __future__ import annotations

from pathlib import Path


def add_executor_args(p) -> None:
    from benchmark.executors import EXECUTORS
    g = p.add_argument_group("fan-out", "where the units run (dense units first, then the recipe units needing them)")
    g.add_argument("--executor", choices=EXECUTORS.names(), default="local",
                   help="local: this machine (a process pool with --jobs > 1); submitit: Slurm job arrays "
                        "(submitit's local executor without Slurm; extra [slurm]); ray: Ray tasks (extra [ray])")
    g.add_argument("--jobs", type=int, default=1,
                   help="units at once: pool workers, Slurm array parallelism, concurrent Ray tasks (default 1)")
    g.add_argument("--threads", type=int, default=0,
                   help="torch threads per unit (default: this machine's cores // --jobs; 1 per Slurm job)")
    g.add_argument("--gpus", type=float, default=0,
                   help="GPUs per unit (Slurm: gpus_per_node, whole; Ray: num_gpus, a fraction allowed)")
    g.add_argument("--slurm-partition", help="Slurm partition")
    g.add_argument("--slurm-time", type=int, default=240, metavar="MINUTES", help="Slurm time limit per job")
    g.add_argument("--slurm-mem", type=float, metavar="GB", help="Slurm memory per job")
    g.add_argument("--submitit-cluster", choices=("slurm", "local"),
                   help="force submitit's backend (default: slurm where srun exists, else local)")
    g.add_argument("--submitit-logs", type=Path, help="submitit's job folder (default RESULTS/.submitit)")
    g.add_argument("--ray-address", help="an existing Ray cluster (e.g. ray://head:10001 or auto); "
                                         "default: a local cluster for this run")


def executor_options(args, results: Path | None = None):
    from benchmark.executors import ExecutorOptions
    results = Path(results or args.results)
    return ExecutorOptions(jobs=args.jobs, threads=args.threads, gpus=args.gpus, slurm_partition=args.slurm_partition,
                           slurm_time_min=args.slurm_time, slurm_mem_gb=args.slurm_mem,
                           submitit_cluster=args.submitit_cluster,
                           log_dir=args.submitit_logs or results / ".submitit", ray_address=args.ray_address)
