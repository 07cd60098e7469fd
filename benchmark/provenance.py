"""Where a number came from: code version, library versions, hardware."""
from __future__ import annotations

import datetime as dt
import os
import platform
import socket
import subprocess
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch

PACKAGES = ("csbench", "torch", "transformers", "accelerate", "torchao", "torch-pruning", "cooper-optim",
            "numpy", "scikit-learn", "datasets")


@lru_cache(maxsize=1)
def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=Path(__file__).parent,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "") if out.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "absent"
    return versions


# CPU features that change which kernels run (int8 GEMMs, bf16): the speed and, for some kernels, the numbers
CPU_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16", "amx_fp16")


@lru_cache(maxsize=1)
def cpu_info() -> dict[str, object]:
    """CPU model and the flags that matter, from /proc/cpuinfo (Linux); the platform's answer elsewhere."""
    model, flags = None, set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model is None:
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    except OSError:
        pass
    return {"cpu_model": model or platform.processor() or "unknown", "cpu_flags": [f for f in CPU_FLAGS if f in flags]}


@lru_cache(maxsize=1)
def gpu_info() -> dict[str, object]:
    if not torch.cuda.is_available():
        return {}
    info: dict[str, object] = {"cuda_device": torch.cuda.get_device_name(0), "cuda_runtime": torch.version.cuda}
    try:   # the kernel module states the driver without a subprocess
        first = Path("/proc/driver/nvidia/version").read_text().splitlines()[0]
        info["gpu_driver"] = next(w for w in first.split() if w[:1].isdigit() and "." in w)
    except (OSError, IndexError, StopIteration):
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=10)
            info["gpu_driver"] = out.stdout.split()[0] if out.returncode == 0 and out.stdout.split() else "unknown"
        except (OSError, subprocess.SubprocessError):
            info["gpu_driver"] = "unknown"
    return info


def numerics(threads: int = 0) -> dict[str, object]:
    """The process settings that change computed numbers: part of every run id and dense cache key.
    The intra-op thread count changes float reduction order, hence trained weights (measured on colored
    digits: dense accuracy 56.7 at 1 thread vs 56.5 at 2); the float32 matmul precision and default dtype
    change every product. Models run in float32 unless a recipe casts them (its config says so).
    ``threads``: the count a unit will run with, when it is not this process's."""
    return {"torch_threads": threads or torch.get_num_threads(),
            "float32_matmul_precision": torch.get_float32_matmul_precision(),
            "default_dtype": str(torch.get_default_dtype()).removeprefix("torch.")}


def hardware() -> dict[str, object]:
    info: dict[str, object] = {"machine": platform.machine(), "processor": platform.processor() or "unknown",
                               "python": platform.python_version(), "torch_threads": torch.get_num_threads(),
                               "host": socket.gethostname(), **cpu_info(), **gpu_info()}
    return info


def executor() -> dict[str, object]:
    """What ran the unit: the executor's name (set in its workers) and a scheduler's job id, if any."""
    info: dict[str, object] = {"name": os.environ.get("CSBENCH_EXECUTOR", "local")}
    for var in ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID"):
        if os.environ.get(var):
            info[var.lower()] = os.environ[var]
    return info


def provenance(wall_time_s: float) -> dict[str, object]:
    return {"git_commit": git_commit(), "packages": package_versions(), "hardware": hardware(), "executor": executor(),
            "wall_time_s": round(wall_time_s, 3),
            "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
