"""Issue 11's questions, answered from committed records with intervals over seeds.

    python benchmarks/fidelity_summary.py [results/] [--task colored_fashion_mnist]

1. Dataset distillation after the loss-value core-set (``dd-dm-ipc10-*``): accuracy and worst-group
   accuracy per setting; asc - desc and asc - no pruning, paired by seed; the minority groups' share of
   the core-set and of the synthetic set, and the minority groups' mean test accuracy (minority: every
   group of a label but its largest in the training split).
2. Balancing Act at 90%: train max psi_g (the quantity CEAG constrains) and test max psi_g for NFT,
   EL+RB and CEAG; CEAG - NFT paired by seed.

Intervals: mean ± t(0.975, n-1) x SE over seeds (n = 3 gives t = 4.30), for paired differences too.
"""
from __future__ import annotations

import argparse
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy import stats

from benchmark.records import iter_records


def interval(values) -> str:
    v = np.asarray(list(values), dtype=float)
    if len(v) == 0:
        return "no records"
    if len(v) < 2:
        return f"{v.mean():+.3f} (n={len(v)})"
    half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return f"{v.mean():+.3f} [{v.mean() - half:+.3f}, {v.mean() + half:+.3f}] (n={len(v)})"


def majority_groups(train: dict[str, int]) -> set[str]:
    """Per label, its largest group in the training split."""
    by_label = defaultdict(dict)
    for name, count in train.items():
        by_label[re.match(r"label=([^|]+)", name).group(1)][name] = count
    return {max(groups, key=groups.get) for groups in by_label.values()}


def minority_share(composition: dict[str, int], train: dict[str, int]) -> float:
    majority = majority_groups(train)
    total = sum(composition.values())
    return sum(c for g, c in composition.items() if g not in majority) / total if total else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", default="results")
    parser.add_argument("--task", default="colored_fashion_mnist")
    args = parser.parse_args()
    rows = defaultdict(dict)   # recipe -> seed -> record
    for path, record in iter_records(Path(args.results)):
        if record.task["name"] == args.task and record.track == "classification":
            rows[record.recipe["name"]][record.seed] = record

    def metric(recipe, key):
        return {s: r.metrics["overall"][key] for s, r in rows.get(recipe, {}).items()}

    def paired(a, b, key):
        ma, mb = metric(a, key), metric(b, key)
        return [ma[s] - mb[s] for s in sorted(set(ma) & set(mb))]

    print(f"## Dataset distillation (DM, IPC 10) on {args.task}\n")
    dd = sorted(r for r in rows if r.startswith("dd-"))
    for recipe in dd:
        reports = [r.efficiency["recipe_report"] for r in rows[recipe].values()]
        core = [minority_share(p["coreset_composition"], p["train_composition"]) for p in reports]
        syn = [minority_share(p["synthetic_composition_nearest_colour"], p["train_composition"]) for p in reports]
        minority_acc = [np.mean([m["accuracy"] for g, m in r.metrics["by_group"].items()
                                 if g not in majority_groups(r.efficiency["recipe_report"]["train_composition"])])
                        for r in rows[recipe].values()]
        print(f"{recipe}: accuracy {interval(metric(recipe, 'accuracy').values())}, "
              f"WGA {interval(metric(recipe, 'worst_group_accuracy').values())}, "
              f"minority groups' test accuracy {interval(minority_acc)}, "
              f"minority share of core-set {interval(core)}, of synthetic set (nearest colour) {interval(syn)}")
    for keep in (60, 20):
        for key in ("accuracy", "worst_group_accuracy"):
            asc, desc, full = (f"dd-dm-ipc10-keep{keep}-asc", f"dd-dm-ipc10-keep{keep}-desc", "dd-dm-ipc10-keep100")
            print(f"P={keep} {key}: asc - desc {interval(paired(asc, desc, key))}; "
                  f"asc - no pruning {interval(paired(asc, full, key))}")
    print(f"\n## Balancing Act at 90% sparsity on {args.task}\n")
    for recipe in ("fair-nft-90", "fair-elrb-90", "fair-ceag-90-eps1"):
        if recipe not in rows:
            continue
        fair = [r.efficiency["recipe_report"]["fairness"] for r in rows[recipe].values()]
        active = [np.mean([a > 0 for a in f["active_share"]]) if f["active_share"] else 0.0 for f in fair]
        print(f"{recipe}: train max psi {interval([f['train_max_psi'] for f in fair])}, "
              f"test max psi {interval(metric(recipe, 'max_psi').values())}, "
              f"WGA {interval(metric(recipe, 'worst_group_accuracy').values())}, "
              f"feasible at 1% in {sum(f['train_feasible_at']['eps1'] for f in fair)}/{len(fair)} seeds, "
              f"share of groups ever constrained {interval(active)}")
    for other in ("fair-nft-90", "fair-elrb-90"):
        ceag, base = rows.get("fair-ceag-90-eps1", {}), rows.get(other, {})
        seeds = sorted(set(ceag) & set(base))
        train = [ceag[s].efficiency["recipe_report"]["fairness"]["train_max_psi"]
                 - base[s].efficiency["recipe_report"]["fairness"]["train_max_psi"] for s in seeds]
        print(f"CEAG - {other}: train max psi {interval(train)}, "
              f"test max psi {interval(paired('fair-ceag-90-eps1', other, 'max_psi'))}")


if __name__ == "__main__":
    main()
