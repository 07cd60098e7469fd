"""Where the quick suite's BBQ time goes, before vs after, measured in one run (interleaved rounds).

The BBQ dense MiniLM fine-tune dominates the quick suite. This script times, on the quick BBQ data:

1. tokenisation: one ``encode`` of the train and test splits; before, every consumer (dense training,
   dense test pass, every recipe's test pass, teacher logits, KD training) encoded again;
2. a training step with plain shuffled batches (before) vs length-grouped batches (after), fp32,
   and the padded width of each;
3. bf16 autocast vs fp32 for a training step and for inference (batch 64, length-sorted);
4. inference with 2 threads vs 1 (the dense-rebatch control runs at the other count).

Rounds alternate the variants so that load from other jobs hits both alike. Prints a table of
medians and ratios; the CPU model and flags come first, since bf16 only pays where the CPU has
AVX512-BF16 or AMX.

    python benchmarks/quick_suite_speed.py [--steps 8] [--rounds 2] [--eval-items 256]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from benchmark.data.catalog import load_task
from benchmark.data.dataset import load_task_data
from benchmark.models.families import MODEL_FAMILIES
from benchmark.models.training import TrainConfig
from benchmark.models.zoo import build_dense
from benchmark.provenance import cpu_info


def train_steps(bundle, family, split, inputs, config, steps: int, buckets: int, bf16: bool, seed: int):
    """Seconds per optimiser step and the mean padded width, over ``steps`` steps."""
    model = bundle.model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr)
    widths, seconds = [], []
    batches = family.batches(bundle, split, inputs, config.batch_size, shuffle=True, seed=seed,
                             length_buckets=buckets, max_length=config.max_length)
    for _, batch in zip(range(steps), batches):
        batch = {k: v for k, v in batch.items() if k not in ("groups", "index")}
        widths.append(batch["input_ids"].shape[-1])
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = torch.nn.functional.cross_entropy(family.logits(model, batch), batch["labels"])
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), float(np.mean(widths))


def infer(bundle, family, split, inputs, max_length: int, bf16: bool, threads: int) -> float:
    """Examples per second of a length-sorted batch-64 test pass."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    model = bundle.model.eval()
    start = time.perf_counter()
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for batch in family.batches(bundle, split, inputs, 64, max_length=max_length):
            family.logits(model, {k: v for k, v in batch.items() if k not in ("labels", "groups", "index")})
    torch.set_num_threads(before)
    return len(split) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--eval-items", type=int, default=256)
    args = parser.parse_args()
    info = cpu_info()
    print(f"CPU: {info['cpu_model']}; flags: {', '.join(info['cpu_flags']) or '-'}; torch threads: "
          f"{torch.get_num_threads()}")
    spec = load_task("bbq")
    data = load_task_data(spec, "quick")
    config = TrainConfig.from_budget(spec.profile("quick"))
    family = MODEL_FAMILIES.get(spec.family)
    bundle = build_dense(spec.dense_model, spec.family, spec.num_labels)

    start = time.perf_counter()
    family.encode(bundle, data.train, spec.inputs, config.max_length)
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    family.encode(bundle, data.test, spec.inputs, config.max_length)
    test_s = time.perf_counter() - start
    # Before, per seed of the 3-seed suite: the train split was encoded by dense training, the teacher-logit
    # pass and KD training (3x); the test split by the dense test pass and 6 recipe/control passes (7x).
    print(f"tokenise train ({len(data.train)} items): {train_s:.1f} s, test ({len(data.test)}): {test_s:.1f} s; "
          f"per seed before {3 * train_s + 7 * test_s:.0f} s, after {train_s + test_s:.0f} s")

    test = data.test.subset(np.random.default_rng(0).choice(len(data.test), args.eval_items, replace=False))
    family.encoded(bundle, data.train, spec.inputs, config.max_length)
    variants = {"train fp32 shuffled (before)": dict(buckets=0, bf16=False),
                "train fp32 length-grouped (after)": dict(buckets=50, bf16=False),
                "train bf16 length-grouped": dict(buckets=50, bf16=True)}
    evals = {"infer fp32 2 threads": dict(bf16=False, threads=2), "infer bf16 2 threads": dict(bf16=True, threads=2),
             "infer fp32 1 thread": dict(bf16=False, threads=1)}
    results: dict[str, list] = {name: [] for name in [*variants, *evals]}
    for r in range(args.rounds):
        for name, v in variants.items():
            results[name].append(train_steps(bundle, family, data.train, spec.inputs, config, args.steps,
                                             v["buckets"], v["bf16"], seed=r))
        for name, v in evals.items():
            results[name].append(infer(bundle, family, test, spec.inputs, config.max_length, v["bf16"], v["threads"]))
        print(f"round {r + 1}/{args.rounds} done", flush=True)
    base_step = statistics.median(s for s, _ in results["train fp32 shuffled (before)"])
    for name in variants:
        step = statistics.median(s for s, _ in results[name])
        width = statistics.mean(w for _, w in results[name])
        print(f"{name:<36} {step:6.2f} s/step  padded width {width:5.1f}  speed-up x{base_step / step:.2f}")
    base_eval = statistics.median(results["infer fp32 2 threads"])
    for name in evals:
        rate = statistics.median(results[name])
        print(f"{name:<36} {rate:6.1f} items/s  x{rate / base_eval:.2f} vs fp32 2 threads")


if __name__ == "__main__":
    main()
