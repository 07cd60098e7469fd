"""Does this machine reproduce the reference records? Per (task, recipe, seed), a local record is

- ``identical``: the same per-example logits (dense and compressed), bit for bit;
- ``within the interval``: not identical, but its worst-group accuracy, Δ accuracy and Δ WGA against
  dense all fall inside the reference record's 95% (paired) bootstrap intervals;
- ``outside it``: at least one of them does not (the detail names which);

or ``not comparable`` (another task definition or recipe configuration) / ``missing`` (the reference
has it and the local run does not).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmark.errors import BenchmarkError
from benchmark.records import Record, iter_records, read_predictions

IDENTICAL, WITHIN, OUTSIDE = "identical", "within the interval", "outside it"
NOT_COMPARABLE, MISSING = "not comparable", "missing"

# (what is compared, its value in a record, the reference interval's metric stem)
CHECKS = (("worst-group accuracy", lambda o: o["worst_group_accuracy"], "worst_group_accuracy"),
          ("Δ accuracy", lambda o: -o["accuracy_drop"], "accuracy_change"),
          ("Δ WGA", lambda o: -o["worst_group_accuracy_drop"], "worst_group_accuracy_change"))


@dataclass
class Check:
    task: str
    recipe: str
    seed: int
    verdict: str
    detail: str = ""
    local_cpu: str = ""
    reference_cpu: str = ""


def cpu_of(record: Record) -> str:
    hardware = record.provenance.get("hardware", {})
    return str(hardware.get("cpu_model") or hardware.get("processor") or "unknown CPU")


def _same_predictions(local: tuple[Path, Record], reference: tuple[Path, Record]) -> bool | None:
    try:
        mine, theirs = read_predictions(*local), read_predictions(*reference)
    except BenchmarkError:
        return None
    return all(key in mine and key in theirs and np.array_equal(mine[key], theirs[key])
               for key in ("logits", "dense_logits"))


def compare_record(local: tuple[Path, Record], reference: tuple[Path, Record]) -> Check:
    mine, theirs = local[1], reference[1]
    check = Check(theirs.task["name"], theirs.recipe["name"], theirs.seed, NOT_COMPARABLE,
                  local_cpu=cpu_of(mine), reference_cpu=cpu_of(theirs))
    if mine.task.get("spec_hash") != theirs.task.get("spec_hash"):
        check.detail = "the task definitions differ"
        return check
    if mine.recipe.get("config_hash") != theirs.recipe.get("config_hash"):
        check.detail = "the recipe configurations differ"
        return check
    same = _same_predictions(local, reference)
    if same or (same is None and mine.metrics == theirs.metrics):
        check.verdict = IDENTICAL
        return check
    ours, ref = mine.metrics["overall"], theirs.metrics["overall"]
    outside = []
    for label, value, stem in CHECKS:
        low, high = ref.get(f"{stem}_ci_low", math.nan), ref.get(f"{stem}_ci_high", math.nan)
        mine_value = value(ours)
        if not (low - 1e-12 <= mine_value <= high + 1e-12):
            outside.append(f"{label} {100 * mine_value:.1f} vs [{100 * low:.1f}, {100 * high:.1f}]")
    check.verdict = OUTSIDE if outside else WITHIN
    check.detail = "; ".join(outside)
    return check


def reproduction_check(local_dir: str | Path, reference_dir: str | Path) -> list[Check]:
    """One Check per classification record of the reference (the local run may hold fewer)."""
    key = lambda r: (r.task["name"], r.recipe["name"], r.seed)   # noqa: E731
    local = {key(r): (p, r) for p, r in iter_records(local_dir) if r.track == "classification"}
    checks = []
    for path, record in iter_records(reference_dir):
        if record.track != "classification":
            continue
        if key(record) not in local:
            checks.append(Check(*key(record), MISSING, "no local record", reference_cpu=cpu_of(record)))
            continue
        checks.append(compare_record(local[key(record)], (path, record)))
    return checks


def render(checks: list[Check]) -> str:
    if not checks:
        return "No reference records to compare against."
    lines = ["Reproduction check against the reference records:"]
    for c in checks:
        lines.append(f"  {c.task:<24} {c.recipe:<28} seed {c.seed}  {c.verdict}" + (f" ({c.detail})" if c.detail else ""))
    counts = {v: sum(c.verdict == v for c in checks) for v in (IDENTICAL, WITHIN, OUTSIDE, NOT_COMPARABLE, MISSING)}
    lines.append("  " + ", ".join(f"{n} {v}" for v, n in counts.items() if n))
    local_cpus = sorted({c.local_cpu for c in checks if c.local_cpu})
    reference_cpus = sorted({c.reference_cpu for c in checks if c.reference_cpu})
    lines.append(f"  this machine: {', '.join(local_cpus) or '-'}; reference: {', '.join(reference_cpus) or '-'}")
    return "\n".join(lines)
