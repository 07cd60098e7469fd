"""Leaderboard with uncertainty: paired intervals over seeds from predictions, the verdict against
dense, ranking by the interval's lower bound, the noise floor beside every row, the floor notes."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.evaluator import evaluate
from benchmark.records import Record, write_record
from benchmark.report.intervals import intervals_frame, signed_interval, verdict
from benchmark.report.leaderboard import build_leaderboard, leaderboard_summary, rank, with_noise_floor

pytestmark = pytest.mark.usefixtures("records_as_written")   # toy records: the tables' arithmetic is tested

GROUPS = ["a", "b", "tiny"]
N = {"a": 120, "b": 120, "tiny": 10}


def _arrays(seed: int, comp_error: float):
    rng = np.random.default_rng(seed)
    groups = np.concatenate([np.full(N[g], i) for i, g in enumerate(GROUPS)])
    labels = rng.integers(0, 2, len(groups))
    dense_pred = np.where(rng.random(len(groups)) < 0.8, labels, 1 - labels)
    comp_pred = np.where(rng.random(len(groups)) < comp_error, 1 - dense_pred, dense_pred)
    comp_pred[groups == 1] = np.where(rng.random(int((groups == 1).sum())) < 0.5, 1 - labels[groups == 1],
                                      labels[groups == 1]) if comp_error > 0.2 else comp_pred[groups == 1]
    one_hot = lambda p: np.eye(2)[p].astype(np.float32)   # noqa: E731
    return labels, groups, one_hot(comp_pred), one_hot(dense_pred)


def write_results(root: Path, recipes=None) -> Path:
    recipes = recipes or {"dense": ("reference", 0.0), "dense-reseed": ("control", 0.05),
                          "dense-rebatch": ("control", 0.0), "harsh": ("pruning", 0.4), "mild": ("quantization", 0.02)}
    results = root / "results"
    for seed in (0, 1, 2):
        for recipe, (family, error) in recipes.items():
            labels, groups, logits, dense_logits = _arrays(seed, error)
            if recipe in ("dense", "dense-rebatch"):
                logits = dense_logits
            metrics = evaluate(labels=labels, groups=groups, group_names=GROUPS, logits=logits,
                               dense_logits=dense_logits, n_boot=200, min_group_size=30).as_metrics()
            record = Record(run_id=f"{recipe}{seed}", track="classification",
                            task={"name": "toy", "version": 1, "spec_hash": "x", "group_min_size": 30,
                                  "groups_absent_from_test": ["ghost"]},
                            model={"dense": "tiny", "family": "encoder_cls"},
                            recipe={"name": recipe, "family": family, "params": {}, "config_hash": recipe},
                            seed=seed, profile="quick", metrics=metrics,
                            efficiency={"parameters": 100, "nonzero_parameters": 50, "bytes": 400,
                                        "examples_per_second": 10.0},
                            group_names=GROUPS, provenance={"n_boot": 200})
            write_record(results / "toy" / recipe / f"seed{seed}.json", record,
                         {"index": np.arange(len(labels)), "label": labels, "group": groups, "logits": logits,
                          "dense_logits": dense_logits})
    return results


def test_one_seed_leaderboard_interval_is_the_records_own(tmp_path):
    results = write_results(tmp_path)
    pairs = [(p, r) for p, r in __import__("benchmark.records", fromlist=["iter_records"]).iter_records(results)
             if r.seed == 0]
    frame = intervals_frame(pairs, n_boot=200).set_index("recipe")
    for path, record in pairs:
        overall = record.metrics["overall"]
        row = frame.loc[record.recipe["name"]]
        assert row["wga_change_ci_low"] == pytest.approx(100 * overall["worst_group_accuracy_change_ci_low"])
        assert row["flip_rate_ci_high"] == pytest.approx(100 * overall["flip_rate_ci_high"])
        assert row["mcnemar_p"] == [overall["mcnemar_p"]]


def test_summary_marks_ranks_and_shows_the_floor(tmp_path):
    results = write_results(tmp_path)
    summary = leaderboard_summary(results, n_boot=200)
    assert summary["recipe"][0] == "dense" and set(summary["recipe"][1:3]) == {"dense-reseed", "dense-rebatch"}
    harsh, mild = (summary.set_index("recipe").loc[name] for name in ("harsh", "mild"))
    assert harsh["vs_dense"] == "worse" and harsh["wga_change_ci_high"] < 0
    assert mild["vs_dense"] == "≈ dense" and mild["wga_change_ci_low"] <= 0 <= mild["wga_change_ci_high"]
    assert list(summary["recipe"][3:]) == ["mild", "harsh"]          # by the lower bound of Δ WGA
    reseed = summary.set_index("recipe").loc["dense-reseed"]
    assert (summary["floor_flips"] == reseed["flip_rate"]).all()     # the floor beside every row
    assert harsh["flips_vs_floor"] == pytest.approx(harsh["flip_rate"] / reseed["flip_rate"])
    assert "tiny" not in set(summary["worst_group"])                 # below the floor: never the headline


def test_markdown_and_csv_show_intervals_and_floor_notes(tmp_path):
    results = write_results(tmp_path)
    summary, table = build_leaderboard(results, tmp_path / "lb")
    assert "≈ dense (interval holds 0)" in table and "| worse |" in table
    assert "Noise floor: a dense model trained from another seed (`dense-reseed`) flips" in table
    assert "tiny (n=10)" in table and "absent from the test split: ghost" in table
    harsh = summary.set_index("recipe").loc["harsh"]
    assert signed_interval(harsh["wga_change"], harsh["wga_change_ci_low"], harsh["wga_change_ci_high"]) in table
    csv = pd.read_csv(tmp_path / "lb" / "leaderboard.csv")
    assert csv.set_index("recipe").loc["harsh", "wga_change_text"].startswith("-")


def test_rank_prefers_the_lower_bound_over_the_point_estimate():
    summary = pd.DataFrame({"task": ["t"] * 3, "recipe": ["dense", "lucky", "steady"],
                            "family": ["reference", "quantization", "pruning"], "wga_change": [0.0, 18.0, 1.0],
                            "wga_change_ci_low": [np.nan, -13.0, -0.5], "flip_rate": [0.0, 20.0, 2.0]})
    assert list(rank(summary)["recipe"]) == ["dense", "steady", "lucky"]
    assert np.isnan(with_noise_floor(summary)["floor_flips"]).all()   # no control rows: no floor


@pytest.mark.parametrize("low,high,expected", [(-1.0, 2.0, "≈ dense"), (0.5, 2.0, "better"), (-3.0, -0.1, "worse"),
                                               (0.0, 0.0, "≈ dense"), (np.nan, 1.0, "no interval")])
def test_verdict(low, high, expected):
    assert verdict(low, high) == expected


def test_signed_interval_text():
    assert signed_interval(1.2, -0.5, 2.94) == "+1.2 [-0.5, +2.9]"
    assert signed_interval(-0.04, -1.0, 0.0) == "0.0 [-1.0, 0.0]"
    assert signed_interval(3.0, 2.0, 4.0, sign=False) == "3.0 [2.0, 4.0]"
    assert signed_interval(np.nan, 0, 1) == "-"


def test_compression_identified_exemplars(tmp_path):
    from benchmark.records import iter_records
    from benchmark.report.exemplars import find_exemplars, modal_prediction
    from benchmark.report.page import write_page
    np.testing.assert_array_equal(modal_prediction(np.array([[0, 1, 2, 2], [1, 1, 0, 2], [1, 0, 2, 1]])),
                                  [1, 1, 2, 2])
    np.testing.assert_array_equal(modal_prediction(np.array([[0, 2], [1, 1], [2, 0]])), [0, 0])   # ties: lowest
    results = write_results(tmp_path)
    found = find_exemplars(list(iter_records(results)))["toy"]
    by_recipe = {s.recipe: s for s in found}
    assert by_recipe["dense-rebatch"].count == 0                      # same predictions as dense
    harsh = by_recipe["harsh"]
    labels, groups, logits, dense = zip(*(_arrays(seed, 0.4) for seed in (0, 1, 2)))
    expected = np.flatnonzero(modal_prediction(np.stack([l.argmax(1) for l in logits]))
                              != modal_prediction(np.stack([d.argmax(1) for d in dense])))
    np.testing.assert_array_equal(harsh.index, expected)
    assert sum(k for k, _ in harsh.by_group.values()) == harsh.count and harsh.by_group["tiny"][1] == 10
    _, table = build_leaderboard(results, tmp_path / "lb")
    text = (tmp_path / "lb" / "LEADERBOARD.md").read_text()
    assert "## Compression-identified exemplars" in text and f"| harsh | 3 | {harsh.count} |" in text
    page = write_page(results, tmp_path / "lb").read_text()
    assert "Compression-identified exemplars" in page and "test item" in page     # toy task: shown by position
