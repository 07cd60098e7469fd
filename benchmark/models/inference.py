"""Batched inference: length-sorted, dynamically padded, under inference_mode.

Returns logits in split order, so predictions line up with labels and groups.
"""
from __future__ import annotations

import time

import numpy as np
import torch
from tqdm.auto import tqdm

from benchmark.data.dataset import Split
from benchmark.models.bundle import Bundle
from benchmark.models.families import MODEL_FAMILIES


def model_device_dtype(model: torch.nn.Module) -> tuple[torch.device, torch.dtype]:
    for p in model.parameters():
        if p.is_floating_point():
            return p.device, p.dtype
    return torch.device("cpu"), torch.float32


def predict_logits(bundle: Bundle, split: Split, inputs: tuple[str, ...], *, batch_size: int = 64,
                   max_length: int = 128, desc: str = "predict", timing: dict | None = None,
                   threads: int | None = None) -> np.ndarray:
    """Logits (N x C, float32) for every row of ``split``.

    ``timing``, if given, receives the forward-pass seconds and example count (tokenisation excluded,
    so throughput reflects the model, not the tokenizer). ``threads`` sets torch's intra-op threads
    for this call only.
    """
    if threads:
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            return predict_logits(bundle, split, inputs, batch_size=batch_size, max_length=max_length, desc=desc,
                                  timing=timing)
        finally:
            torch.set_num_threads(before)
    family = MODEL_FAMILIES.get(bundle.family)
    model = bundle.model.eval()
    device, dtype = model_device_dtype(model)
    encoded = family.encoded(bundle, split, inputs, max_length)
    out: np.ndarray | None = None
    seconds = 0.0
    total = (len(encoded) + batch_size - 1) // batch_size
    with torch.inference_mode():
        for batch in tqdm(family.batches(bundle, split, inputs, batch_size, encoded=encoded, max_length=max_length),
                          total=total, desc=desc, leave=False, disable=None):
            index = batch.pop("index").numpy()
            batch = {k: (v.to(device, dtype) if v.is_floating_point() else v.to(device)) for k, v in batch.items()}
            start = time.perf_counter()
            logits = family.logits(model, batch).float().cpu().numpy()
            seconds += time.perf_counter() - start
            if out is None:
                out = np.zeros((len(split), logits.shape[1]), dtype=np.float32)
            out[index] = logits
    if timing is not None:
        timing.update(seconds=seconds, examples=len(split))
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)
