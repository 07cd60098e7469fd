"""Score a model compressed elsewhere, from Python or through `csbench eval`.

>>> from benchmark.api import score_model                       # doctest: +SKIP
>>> path = score_model(my_model, "bbq", name="my-int4")          # doctest: +SKIP

The record is written exactly as a recipe's would be (same schema, same evaluator, same dense
reference), so it joins the leaderboard with `csbench leaderboard`.
"""
from __future__ import annotations

import time
from pathlib import Path

import torch

from benchmark.data.catalog import load_task, track_of
from benchmark.data.dataset import load_task_data
from benchmark.dense import DenseReference, eval_settings, get_dense
from benchmark.errors import BenchmarkError
from benchmark.models.bundle import Bundle
from benchmark.models.inference import predict_logits
from benchmark.provenance import numerics
from benchmark.records import record_path, stable_hash, write_record
from benchmark.runner import make_record, score_bundle


def as_bundle(model, family: str, processor, reference: Bundle) -> Bundle:
    if isinstance(model, Bundle):
        return model
    if not isinstance(model, torch.nn.Module):
        raise BenchmarkError(f"expected a torch.nn.Module or Bundle, got {type(model).__name__}")
    return Bundle(model.eval(), processor if processor is not None else reference.processor, family)


def score_model(model, task: str, *, name: str, processor=None, dense=None, seed: int = 0,
                profile: str = "quick", results_dir: str | Path = "results", n_boot: int = 1000,
                identity: str | None = None) -> Path:
    """Score ``model`` (an nn.Module of the task's family, or a Bundle) on ``task`` and write a record
    under ``results_dir/<task>/<name>/seed<seed>.json``; returns its path.

    ``dense`` replaces the task's own dense reference (an nn.Module or Bundle of the same family);
    ``processor`` is the tokenizer when it differs from the dense model's; ``identity`` names the
    checkpoint in the run id (a path or hub id), so rescoring the same checkpoint is recognised.
    """
    from benchmark.names import check_name, writable_folder
    check_name(name, "name")
    spec = load_task(task)
    path = record_path(Path(results_dir), spec.name, name, seed)   # refused before any compute if unsafe
    writable_folder(results_dir, "results folder")
    if track_of(spec) != "classification":
        raise BenchmarkError(f"task {spec.name!r} is generative: score decoders with `csbench run`")
    start = time.perf_counter()
    data = load_task_data(spec, profile)
    budget = spec.profile(profile)
    reference = get_dense(data, spec.dense_model, budget, seed)
    if dense is not None:
        bundle = as_bundle(dense, spec.family, None, reference.bundle)
        logits = predict_logits(bundle, data.test, spec.inputs, desc="dense predict", **eval_settings(budget))
        reference = DenseReference(bundle, logits, key=f"external:{identity or type(dense).__name__}")
    compressed = as_bundle(model, spec.family, processor, reference.bundle)
    scored = score_bundle(compressed, data, reference, budget, seed, n_boot)
    checkpoint = compressed.meta.get("checkpoint")
    if checkpoint:   # what the files store, not the (dequantised) copy in memory
        scored[1].update(bytes=checkpoint["weight_bytes"], checkpoint=checkpoint)
    rid = stable_hash({"task": spec.content_hash(), "external": identity or name, "dense": reference.key,
                       "seed": seed, "profile": profile, "data": data.fingerprint, "n_boot": n_boot,
                       "numerics": numerics()})
    params = {"source": identity or "python object", **({"format": checkpoint["format"]} if checkpoint else {})}
    record = make_record(rid=rid, spec=spec, dense=reference, seed=seed, profile=profile, scored=scored, data=data,
                         recipe={"name": name, "family": "external", "params": params, "config_hash": rid[:12]},
                         wall_time=time.perf_counter() - start, extra={"budget": budget, "n_boot": n_boot})
    write_record(path, record, scored[2])
    return path


def load_checkpoint(path_or_id: str, family: str, num_labels: int, *, trust_pickle: bool = False):
    """A checkpoint folder in any format of benchmark.models.checkpoints (a Bundle with its own tokenizer
    and what its files store), a hub id (weights only), or a whole pickled model (.pt, opt-in)."""
    from benchmark.models.checkpoints import load_checkpoint_folder
    from benchmark.models.zoo import build_dense
    path = Path(path_or_id)
    if path.is_dir():
        return load_checkpoint_folder(path, family, num_labels)
    if path.suffix.lower() == ".gguf":
        raise BenchmarkError(f"{path}: GGUF files hold decoder language models (llama.cpp); a {family} task needs a "
                             f"classifier checkpoint folder. Decoders are scored on the generative tasks")
    if path.suffix.lower() in (".safetensors", ".json"):
        raise BenchmarkError(f"{path}: pass the checkpoint's folder (config.json, weights and tokenizer together)")
    if path.is_file():
        if not trust_pickle:
            raise BenchmarkError(f"{path}: a pickled model runs code when loaded; pass --trust-pickle if you trust it "
                                 "(or save with save_pretrained and pass the folder)")
        try:
            model = torch.load(path, weights_only=False, map_location="cpu")
        except Exception as exc:
            raise BenchmarkError(f"{path}: cannot load: {type(exc).__name__}: {exc}") from None
        if not isinstance(model, torch.nn.Module):
            raise BenchmarkError(f"{path}: holds a {type(model).__name__}, not a torch.nn.Module")
        return model
    return build_dense(str(path_or_id), family, num_labels)
