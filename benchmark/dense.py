"""The dense reference of a task: fine-tuned once per (task, model, budget, seed), cached on
disk with its test logits, and reused by every recipe."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import torch
from accelerate.utils import set_seed

from benchmark.cache import get_or_create
from benchmark.data.dataset import TaskData
from benchmark.models.bundle import Bundle
from benchmark.models.inference import predict_logits
from benchmark.models.training import TrainConfig, train
from benchmark.models.zoo import build_dense
from benchmark.provenance import numerics
from benchmark.records import stable_hash

# bump when dense training changes, so caches and records are not reused wrongly
# (2: the new task head of a pre-trained model is initialised from the run seed, not the process's RNG state;
#  3: text batches grouped by length in training, the test-pass timing kept beside the test logits)
DENSE_VERSION = 3


@dataclass
class DenseReference:
    bundle: Bundle
    test_logits: np.ndarray
    key: str
    logit_cache: dict = field(default_factory=dict)   # split -> dense logits, shared by recipes


def dense_key_for(spec, model_name: str, budget: dict, seed: int, data_fingerprint: str, threads: int = 0) -> str:
    """The cache key of a dense model: the task, model, budget, seed and the data it trains on
    (its fingerprint, so a changed data file never returns a model trained on the old one), and the torch
    thread count it trains with (it changes the weights; ``threads`` 0 = this process's setting)."""
    return stable_hash({"task": spec.content_hash(), "model": model_name, "budget": budget, "seed": seed,
                        "version": DENSE_VERSION, "data": data_fingerprint, "numerics": numerics(threads)})


def dense_key(data: TaskData, model_name: str, budget: dict, seed: int) -> str:
    return dense_key_for(data.spec, model_name, budget, seed, data.fingerprint)


def eval_settings(budget: dict) -> dict:
    return {"batch_size": int(budget.get("eval_batch_size", 64)), "max_length": int(budget.get("max_length", 128))}


def get_dense(data: TaskData, model_name: str, budget: dict, seed: int) -> DenseReference:
    spec = data.spec
    key = dense_key(data, model_name, budget, seed)

    def create(folder):
        set_seed(seed)   # a pre-trained body gets a freshly initialised head: from the seed, not from history
        bundle = build_dense(model_name, spec.family, spec.num_labels)
        train(bundle, data.train, spec.inputs, TrainConfig.from_budget(budget), seed=seed,
              desc=f"dense {spec.name}")
        torch.save(bundle.model.state_dict(), folder / "model.pt")
        timing: dict = {}
        logits = predict_logits(bundle, data.test, spec.inputs, desc="dense predict", timing=timing,
                                **eval_settings(budget))
        np.save(folder / "test_logits.npy", logits)
        (folder / "test_timing.json").write_text(json.dumps({**timing, **eval_settings(budget)}))

    folder = get_or_create("dense", key, create)
    bundle = build_dense(model_name, spec.family, spec.num_labels)
    bundle.model.load_state_dict(torch.load(folder / "model.pt", weights_only=True))
    bundle.model.eval()
    bundle.meta["dense_key"] = key
    test_logits = np.load(folder / "test_logits.npy")
    timing = folder / "test_timing.json"
    if timing.exists():   # the dense row and dense-reseed score these logits instead of predicting again
        bundle.meta["cached_test"] = {"logits": test_logits, "timing": json.loads(timing.read_text())}
    return DenseReference(bundle, test_logits, key)
