"""How many of a record's flips are coin tosses on items the dense model could not decide?

Reads records' predictions files (no model needed) and splits each compressed model's flips by the
dense model's top-2 probability gap: a flip on an item whose two best options the dense model scores
within ``--tie`` of each other says little about compression. Prints, per record: flip rate, share of
test items that are dense near-ties, share of the flips that fall on them, and the flip rate over the
decisive items only.

    python benchmarks/flip_margins.py results/bbq/*/seed0.json [--tie 0.01]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from benchmark.metrics.agreement import NEAR_TIE_GAP, top2_probability_gap


def flip_split(labels: np.ndarray, logits: np.ndarray, dense_logits: np.ndarray, tie: float) -> dict[str, float]:
    correct, dense_correct = logits.argmax(-1) == labels, dense_logits.argmax(-1) == labels
    flipped = correct != dense_correct
    tied = top2_probability_gap(dense_logits) < tie
    return {"flip_rate": flipped.mean(), "near_ties": tied.mean(),
            "flips_on_ties": flipped[tied].sum() / max(1, flipped.sum()),
            "flip_rate_decisive": flipped[~tied].mean() if (~tied).any() else float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records", nargs="+", type=Path)
    parser.add_argument("--tie", type=float, default=NEAR_TIE_GAP,
                        help="dense top-2 probability gap below which an item is a tie (the metric's default)")
    args = parser.parse_args()
    print(f"| record | flips % | dense near-ties % (gap < {args.tie}) | flips on ties % | flips on decisive items % |")
    print("|---|---|---|---|---|")
    for path in args.records:
        record = json.loads(path.read_text())
        if record.get("track", "classification") != "classification" or record["recipe"]["name"] == "dense":
            continue
        data = np.load(path.parent / record["predictions"]["file"])
        row = flip_split(data["label"], data["logits"], data["dense_logits"], args.tie)
        name = f"{record['task']['name']}/{record['recipe']['name']}"
        print(f"| {name} | {100 * row['flip_rate']:.1f} | {100 * row['near_ties']:.1f} | "
              f"{100 * row['flips_on_ties']:.0f} | {100 * row['flip_rate_decisive']:.1f} |")


if __name__ == "__main__":
    main()
