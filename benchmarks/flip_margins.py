"""How many of a record's flips are coin tosses on items the dense model could not decide?

Reads records' predictions files (no model needed) and splits each compressed model's flips by the
dense model's top-2 logit margin: a flip on an item whose two best options the dense model scores
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


def margin(logits: np.ndarray) -> np.ndarray:
    top2 = np.sort(logits, axis=-1)[:, -2:]
    return top2[:, 1] - top2[:, 0]


def flip_split(labels: np.ndarray, logits: np.ndarray, dense_logits: np.ndarray, tie: float) -> dict[str, float]:
    correct, dense_correct = logits.argmax(-1) == labels, dense_logits.argmax(-1) == labels
    flipped = correct != dense_correct
    tied = margin(dense_logits) < tie
    return {"flip_rate": flipped.mean(), "near_ties": tied.mean(),
            "flips_on_ties": flipped[tied].sum() / max(1, flipped.sum()),
            "flip_rate_decisive": flipped[~tied].mean() if (~tied).any() else float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records", nargs="+", type=Path)
    parser.add_argument("--tie", type=float, default=0.01, help="dense top-2 logit margin below which an item is a tie")
    args = parser.parse_args()
    print(f"| record | flips % | dense near-ties % (margin < {args.tie}) | flips on ties % | flips on decisive items % |")
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
