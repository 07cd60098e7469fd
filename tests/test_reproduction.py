"""The reproduction check's verdicts: identical, within the reference interval, outside it."""
import shutil

import numpy as np

from benchmark.cli.main import main
from benchmark.evaluator import evaluate
from benchmark.records import Record, read_record, write_record
from benchmark.report.reproduction import (IDENTICAL, MISSING, NOT_COMPARABLE, OUTSIDE, WITHIN,
                                           reproduction_check)

GROUPS = ["a", "b"]


def _write(results, recipe, seed, logits, dense_logits, labels, groups, cpu, spec_hash="s"):
    metrics = evaluate(labels=labels, groups=groups, group_names=GROUPS, logits=logits, dense_logits=dense_logits,
                       n_boot=300, min_group_size=30).as_metrics()
    record = Record(run_id=f"{recipe}{seed}", track="classification",
                    task={"name": "toy", "version": 1, "spec_hash": spec_hash, "group_min_size": 30},
                    model={"dense": "tiny", "family": "encoder_cls"},
                    recipe={"name": recipe, "family": "pruning", "params": {}, "config_hash": recipe},
                    seed=seed, profile="quick", metrics=metrics, efficiency={}, group_names=GROUPS,
                    provenance={"hardware": {"cpu_model": cpu}})
    write_record(results / "toy" / recipe / f"seed{seed}.json", record,
                 {"index": np.arange(len(labels)), "label": labels, "group": groups, "logits": logits,
                  "dense_logits": dense_logits})


def _data(seed=0, n=200):
    rng = np.random.default_rng(seed)
    labels, groups = rng.integers(0, 2, n), np.repeat([0, 1], n // 2)
    dense = np.eye(2)[np.where(rng.random(n) < 0.8, labels, 1 - labels)].astype(np.float32)
    comp = np.eye(2)[np.where(rng.random(n) < 0.75, labels, 1 - labels)].astype(np.float32)
    return labels, groups, dense, comp


def test_three_verdicts_and_the_cpus(tmp_path, capsys):
    reference, local = tmp_path / "reference", tmp_path / "local"
    labels, groups, dense, comp = _data()
    for recipe in ("same", "nudged", "broken", "other-task", "gone"):
        _write(reference, recipe, 0, comp, dense, labels, groups, "EPYC")
    _write(local, "same", 0, comp, dense, labels, groups, "Xeon")
    nudged = comp.copy()
    nudged[0] += np.float32(1e-6)                                     # not bit-identical, same predictions
    _write(local, "nudged", 0, nudged, dense, labels, groups, "Xeon")
    wrong = np.eye(2)[1 - labels].astype(np.float32)                  # every answer wrong: far outside
    _write(local, "broken", 0, wrong, dense, labels, groups, "Xeon")
    _write(local, "other-task", 0, comp, dense, labels, groups, "Xeon", spec_hash="changed")
    verdicts = {c.recipe: c for c in reproduction_check(local, reference)}
    assert verdicts["same"].verdict == IDENTICAL
    assert verdicts["nudged"].verdict == WITHIN and verdicts["nudged"].detail == ""
    assert verdicts["broken"].verdict == OUTSIDE and "worst-group accuracy 0.0" in verdicts["broken"].detail
    assert verdicts["other-task"].verdict == NOT_COMPARABLE
    assert verdicts["gone"].verdict == MISSING
    assert (verdicts["same"].local_cpu, verdicts["same"].reference_cpu) == ("Xeon", "EPYC")
    assert main(["compare", str(local), str(reference)]) == 0
    out = capsys.readouterr().out
    assert "1 identical, 1 within the interval, 1 outside it" in out and "this machine: Xeon; reference: EPYC" in out


def test_a_shifted_worst_group_inside_the_interval_is_within(tmp_path):
    reference, local = tmp_path / "reference", tmp_path / "local"
    labels, groups, dense, comp = _data(seed=1)
    _write(reference, "r", 0, comp, dense, labels, groups, "EPYC")
    flipped = comp.copy()
    row = int(np.flatnonzero(groups == 0)[0])
    flipped[row] = flipped[row][::-1]                                 # one changed answer: a 1-point move
    _write(local, "r", 0, flipped, dense, labels, groups, "Xeon")
    [check] = reproduction_check(local, reference)
    assert check.verdict == WITHIN


def test_missing_folder_is_a_one_line_error(tmp_path, capsys):
    assert main(["compare", str(tmp_path / "nope")]) == 2
    assert "no such records folder" in capsys.readouterr().err
