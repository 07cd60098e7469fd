"""Valid records without training: predictions drawn at random, metrics from the evaluator, written
with the real writer under a real task (``synthetic``), so validation accepts them until a test edits one."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmark.data.catalog import load_task
from benchmark.evaluator import evaluate
from benchmark.records import Record, record_path, write_record

GROUP_NAMES = ["label=0|identity_any=False", "label=0|identity_any=True", "label=1|identity_any=False",
               "label=1|identity_any=True"]
N_BOOT = 10


def prediction_arrays(seed: int = 0, n: int = 80, flip: float = 0.2) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    groups = np.arange(n) % len(GROUP_NAMES)
    labels = groups // 2
    dense_logits = rng.normal(size=(n, 2)).astype(np.float32)
    dense_logits[np.arange(n), labels] += 1.0
    logits = dense_logits + rng.normal(scale=flip * 4, size=(n, 2)).astype(np.float32)
    return {"index": np.arange(n), "label": labels, "group": groups, "logits": logits, "dense_logits": dense_logits}


def valid_record(results: Path, recipe: str = "dense", seed: int = 0, run_id: str | None = None,
                 arrays: dict | None = None) -> Path:
    """Write a record that passes every check, under results/synthetic/<recipe>/seed<seed>.json."""
    spec = load_task("synthetic")
    arrays = arrays or prediction_arrays(seed)
    metrics = evaluate(labels=arrays["label"], groups=arrays["group"], group_names=GROUP_NAMES,
                       logits=arrays["logits"], dense_logits=arrays["dense_logits"], n_boot=N_BOOT,
                       min_group_size=spec.groups.min_size).as_metrics()
    record = Record(
        run_id=run_id or f"{recipe}{seed}abc", track="classification",
        task={"name": spec.name, "version": spec.version, "spec_hash": spec.content_hash(),
              "group_min_size": spec.groups.min_size},
        model={"dense": spec.dense_model, "family": spec.family}, recipe={"name": recipe, "family": "pruning",
                                                                        "params": {}, "config_hash": "c0ffee"},
        seed=seed, profile="quick", metrics=metrics,
        efficiency={"parameters": 1000, "nonzero_parameters": 600, "sparsity": 1 - 600 / 1000, "bytes": 4000,
                    "examples_per_second": 123.0, "notes": ""},
        group_names=list(GROUP_NAMES), provenance={"n_boot": N_BOOT})
    path = record_path(results, spec.name, recipe, seed)
    write_record(path, record, arrays)
    return path
