"""Evaluator throughput on the bbq task (dense fp32 MiniLM) against transformers' pipeline.

The same BBQ test items are scored three ways, wall-clock including tokenisation:
  1. pipeline, one (context, question + answer) pair at a time;
  2. pipeline with batch_size=32;
  3. csbench's evaluator path (benchmark.models.inference.predict_logits).
A multiple-choice item is three pairs; the pipeline scores the pairs with a sequence-classification
view of the same weights (BertForMultipleChoice and BertForSequenceClassification(num_labels=1)
share parameter names), so both sides do the same arithmetic. Not part of the tests.

    .venv/bin/python benchmarks/eval_throughput.py --items 300
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch
import transformers

from benchmark.data.catalog import load_task
from benchmark.data.dataset import load_task_data
from benchmark.models.inference import predict_logits
from benchmark.models.zoo import build_dense


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=300, help="BBQ test items (x3 pairs)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64, help="evaluator batch size (items)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    spec = load_task("bbq")
    data = load_task_data(spec, "quick", overrides={"test_size": args.items})
    test = data.test
    bundle = build_dense("minilm-l6", "encoder_mc", 3)
    tokenizer = bundle.processor
    pair_model = transformers.BertForSequenceClassification(
        transformers.BertConfig(**{**bundle.model.config.to_dict(), "num_labels": 1,
                                   "id2label": {0: "score"}, "label2id": {"score": 0}})).eval()
    pair_model.load_state_dict(bundle.model.state_dict())
    frame = test.frame
    pairs = [{"text": c, "text_pair": f"{q} {a}"} for c, q, a in
             ((frame.context[i], frame.question[i], frame[f"ans{j}"][i]) for i in range(len(frame)) for j in range(3))]
    max_length = int(spec.training["max_length"])
    pipe = transformers.pipeline("text-classification", model=pair_model, tokenizer=tokenizer,
                                 function_to_apply="none", truncation=True, max_length=max_length)

    def timed(fn):
        fn()  # warm-up on a small slice happens inside; measure a full pass
        start = time.perf_counter()
        out = fn()
        return time.perf_counter() - start, out

    rates = {}
    with torch.inference_mode():
        pipe(pairs[:6])
        one = time.perf_counter()
        single = [_score(pipe(p)) for p in pairs]
        rates["pipeline, one at a time"] = len(test) / (time.perf_counter() - one)
        start = time.perf_counter()
        batched = [_score(r) for r in pipe(pairs, batch_size=32)]
        rates["pipeline, batch_size=32"] = len(test) / (time.perf_counter() - start)
    predict_logits(bundle, test.subset(range(min(32, len(test)))), spec.inputs, batch_size=args.batch_size,
                   max_length=max_length)
    start = time.perf_counter()
    ours = predict_logits(bundle, test, spec.inputs, batch_size=args.batch_size, max_length=max_length)
    rates["csbench evaluator"] = len(test) / (time.perf_counter() - start)

    pipe_logits = np.asarray(batched).reshape(-1, 3)
    agreement = float((pipe_logits.argmax(1) == ours.argmax(1)).mean())
    print(f"{len(test)} BBQ items ({3 * len(test)} pairs), fp32, {args.threads} threads")
    base = rates["pipeline, batch_size=32"]
    for name, rate in rates.items():
        print(f"  {name:<28} {rate:7.1f} items/s   x{rate / base:.2f} vs batched pipeline")
    print(f"  argmax agreement evaluator vs pipeline: {agreement:.4f}; max |Δlogit| "
          f"{np.abs(pipe_logits - ours).max():.2e}; single vs batched pipeline max |Δ| "
          f"{np.abs(np.asarray(single) - np.asarray(batched)).max():.2e}")


def _score(result) -> float:
    """A pipeline result for one input: a dict, or a one-element list of it (transformers 4 vs 5)."""
    return (result[0] if isinstance(result, list) else result)["score"]


if __name__ == "__main__":
    main()
