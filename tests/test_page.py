"""The static leaderboard page: escaping, Pareto front, JSON payload, generative records (no browser)."""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from benchmark.records import Record, write_record
from benchmark.report.leaderboard import COLUMNS
from benchmark.report.page import (CLASSIFICATION_COLUMNS, build_payload, json_for_script, pareto_front,
                                   write_page)

EVIL_RECIPE = "<script>alert(1)</script>"
EVIL_GROUP = '"</script><img src=x onerror=alert(1)>'
EVIL_METRIC = "<b>evil</b>"
TASK = "toy_cls"
GROUPS = ["y0_a0", "y0_a1", "y1_a0", EVIL_GROUP]

# recipe -> (family, accuracy, worst-group accuracy, bytes, non-zero params); the worst group is EVIL_GROUP.
RECIPES = {
    "dense": ("reference", 0.90, 0.80, 90e6, 22e6),
    "prune50": ("pruning", 0.85, 0.70, 90e6, 11e6),
    "int8": ("quantization", 0.89, 0.78, 25e6, 22e6),
    EVIL_RECIPE: ("distillation", 0.80, 0.60, 30e6, 8e6),
    "bad": ("pruning", 0.70, 0.50, 40e6, 20e6),
}
# Smaller size / fewer non-zeros and higher worst-group accuracy are better.
FRONT_BY_SIZE = {"int8", "dense"}
FRONT_BY_NONZERO = {EVIL_RECIPE, "prune50", "dense"}


def _classification_record(recipe: str, seed: int) -> Record:
    family, acc, wga, size, nonzero = RECIPES[recipe]
    noise = 0.01 if seed else -0.01  # two seeds: mean = the value above, SE = 1 point
    dense_acc, dense_wga = RECIPES["dense"][1], RECIPES["dense"][2]
    group_acc = [acc + 0.02, acc, acc + 0.01, wga + noise]
    dense_group = [dense_acc + 0.02, dense_acc, dense_acc + 0.01, dense_wga]
    by_group = {g: {"n": 50 + i, "accuracy": a, "dense_accuracy": d,
                    "psi": (d - a) - (dense_acc - acc), "flip_rate": abs(d - a), "kl_mean": 0.01}
                for i, (g, a, d) in enumerate(zip(GROUPS, group_acc, dense_group))}
    overall = {"accuracy": acc + noise, "worst_group_accuracy": wga + noise,
               "worst_group_accuracy_drop": dense_wga - (wga + noise),
               "max_psi": max(v["psi"] for v in by_group.values()), "flip_rate": abs(dense_acc - acc),
               "kl_mean": 0.02 * (1 - acc / dense_acc + 0.01)}
    return Record(run_id=f"{recipe}-{seed}", track="classification",
                  task={"name": TASK, "version": 1, "spec_hash": "abc"},
                  model={"dense": "tiny", "family": "encoder_cls"},
                  recipe={"name": recipe, "family": family, "params": {"note": EVIL_RECIPE}, "config_hash": "h"},
                  seed=seed, profile="quick", metrics={"overall": overall, "by_group": by_group},
                  efficiency={"parameters": 22e6, "nonzero_parameters": nonzero, "bytes": size,
                              "examples_per_second": 100.0 + seed},
                  group_names=GROUPS)


def _generative_record(recipe: str, seed: int) -> Record:
    overall = {"expected_max_toxicity": 0.2 + 0.1 * (recipe != "dense") + 0.01 * seed, "toxicity_probability": 0.1,
               "n": 100, "note": "not a number", "flags": [1, 2], "missing": float("nan"), EVIL_METRIC: 0.5}
    return Record(run_id=f"gen-{recipe}-{seed}", track="generative",
                  task={"name": "toy_toxicity", "version": 1}, model={"dense": "tiny-lm", "family": "decoder_lm"},
                  recipe={"name": recipe, "family": "quantization", "config_hash": "g"}, seed=seed, profile="quick",
                  metrics={"overall": overall, "by_group": {EVIL_GROUP: {"expected_max_toxicity": 0.3}},
                           "scorer_probe": {EVIL_GROUP: {"scorer_neutral_toxicity": 0.01}}},
                  efficiency={"parameters": 134_515_008, "bytes": 270e6, "tokens_per_second": 55.0, "device": "cpu"},
                  group_names=[EVIL_GROUP])


def write_sample_results(root: Path) -> Path:
    """A results/ tree with two seeds of five classification recipes and a generative task.
    Directory names are safe; the hostile names live inside the records."""
    results = Path(root) / "results"
    for seed in (0, 1):
        for i, recipe in enumerate(RECIPES):
            write_record(results / TASK / f"recipe{i}" / f"seed{seed}.json", _classification_record(recipe, seed))
        for i, recipe in enumerate(("dense", EVIL_RECIPE)):
            write_record(results / "toy_toxicity" / f"gen{i}" / f"seed{seed}.json", _generative_record(recipe, seed))
    return results


pytestmark = pytest.mark.usefixtures("records_as_written")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("page")
    results = write_sample_results(root)
    page = write_page(results, root / "leaderboard")
    return results, page, page.read_text(encoding="utf-8")


def _payload_block(text: str) -> str:
    return re.search(r'<script type="application/json" id="leaderboard-data">(.*?)</script>', text, re.S).group(1)


def test_pareto_front_marks_non_dominated_points():
    xs = [1.0, 2.0, 2.0, 3.0, 0.5, float("nan"), 4.0]
    ys = [70., 80., 75., 80., 60., 99., 90.]
    # (2, 75) loses to (2, 80) on y; (3, 80) loses to (2, 80) on x; NaN is never on the front.
    assert pareto_front(xs, ys) == [True, True, False, False, True, False, True]
    assert pareto_front([1.0, 1.0], [5.0, 5.0]) == [True, True]  # identical points do not dominate each other
    assert pareto_front([], []) == []


def test_page_escapes_every_record_string(sample):
    _, page, text = sample
    assert page.name == "index.html"
    assert EVIL_RECIPE not in text and "<img" not in text and "<b>evil" not in text
    assert text.count("<script") == 2  # the JSON block and the page's own script
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&quot;&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in text
    assert "&lt;b&gt;evil&lt;/b&gt;" in text
    assert "</" not in _payload_block(text) and "<" not in _payload_block(text)


def test_page_needs_no_network(sample):
    _, _, text = sample
    assert not re.search(r"(src|href)=\"(https?:)?//", text)
    assert "default-src 'none'" in text


def test_json_payload_round_trips(sample):
    results, _, text = sample
    decoded = json.loads(_payload_block(text))
    assert decoded == build_payload(results)[0]
    recipes = [row[0] for row in decoded["tables"]["cls-0"]["values"]]
    assert set(recipes) == set(RECIPES)
    assert decoded["groups"][TASK]["groups"] == GROUPS


def test_json_for_script_escapes_markup_and_separators():
    payload = {"a": "</script><!-- & \u2028", "b": [1.5, None]}
    text = json_for_script(payload)
    assert not set("<>&\u2028") & set(text)
    assert json.loads(text) == payload


def test_pareto_front_in_payload(sample):
    _, _, text = sample
    points = json.loads(_payload_block(text))["pareto"][TASK]
    assert {p["recipe"] for p in points if p["front_size_MB"]} == FRONT_BY_SIZE
    assert {p["recipe"] for p in points if p["front_nonzero_M"]} == FRONT_BY_NONZERO
    assert text.count('class="point on-front"') == len(FRONT_BY_SIZE) + len(FRONT_BY_NONZERO)


def test_table_shows_mean_and_se_over_seeds(sample):
    results, _, text = sample
    table = json.loads(_payload_block(text))["tables"]["cls-0"]
    labels = [c["label"] for c in table["columns"]]
    row = next(r for r in table["values"] if r[0] == "prune50")
    assert row[labels.index("acc %")] == pytest.approx(85.0)
    assert row[labels.index("Δ WGA vs dense")] == pytest.approx(-10.0)
    assert row[labels.index("size MB")] == pytest.approx(90.0)
    assert row[-1] == EVIL_GROUP  # worst group
    # the rendered cell: mean and standard error (two seeds at +-1 point -> SE 1.0)
    assert '<td>85.0<span class="se"> ± 1.0</span></td>' in text
    assert '<td class="neg">-10.0<span class="se"> ± 1.0</span></td>' in text


def test_group_heatmap_compares_with_dense(sample):
    _, _, text = sample
    groups = json.loads(_payload_block(text))["groups"][TASK]
    assert "dense" not in groups["recipes"]  # the reference is what the others are compared with
    j, last = groups["recipes"].index("prune50"), len(GROUPS) - 1
    assert groups["accuracy_change"][last][j] == pytest.approx(-10.0)  # 0.70 vs dense 0.80
    assert groups["psi"][last][j] == pytest.approx(5.0)  # lost 10 points where the average lost 5
    assert groups["accuracy_change"][0][j] == pytest.approx(-5.0)
    assert text.count('<g class="cell">') == 2 * len(GROUPS) * len(groups["recipes"])


def test_generative_records_get_their_own_table(sample):
    _, _, text = sample
    table = json.loads(_payload_block(text))["tables"]["gen-0"]
    labels = [c["label"] for c in table["columns"]]
    for key in ("expected_max_toxicity", "toxicity_probability", "n", EVIL_METRIC, "parameters", "tokens_per_second"):
        assert key in labels
    for skipped in ("note", "flags", "device"):
        assert skipped not in labels
    row = next(r for r in table["values"] if r[0] == EVIL_RECIPE)
    assert row[labels.index("expected_max_toxicity")] == pytest.approx(0.305)
    assert row[labels.index("missing")] is None  # NaN in every seed -> null, never NaN in the JSON
    assert '<td>135M<span class="se"> ± 0</span></td>' in text  # 134,515,008 parameters in both seeds
    assert "Generative track" in text


def test_every_leaderboard_column_has_a_label():
    assert set(CLASSIFICATION_COLUMNS) == set(COLUMNS)


def test_empty_results_and_atomic_write(tmp_path):
    (tmp_path / "results").mkdir()
    page = write_page(tmp_path / "results", tmp_path / "leaderboard")
    assert "No records yet" in page.read_text()
    assert [p.name for p in page.parent.iterdir()] == ["index.html"]  # no temp file left behind
    json.loads(_payload_block(page.read_text()))


def test_payload_has_no_nan(sample):
    _, _, text = sample
    def walk(value):
        if isinstance(value, float):
            assert math.isfinite(value)
        elif isinstance(value, dict):
            [walk(v) for v in value.values()]
        elif isinstance(value, list):
            [walk(v) for v in value]
    walk(json.loads(_payload_block(text)))


def test_sparse_records_and_generative_only_results_render(tmp_path):
    sparse = _classification_record("prune50", 0)
    sparse.efficiency, sparse.metrics = {}, {"overall": {"accuracy": float("nan")}, "by_group": {}}
    write_record(tmp_path / "a" / TASK / "r" / "seed0.json", sparse)
    text = write_page(tmp_path / "a", tmp_path / "out_a").read_text()
    assert "No size (MB, torch.save) figures" in text and "No per-group figures" in text
    json.loads(_payload_block(text))
    write_record(tmp_path / "b" / "toy_toxicity" / "r" / "seed0.json", _generative_record("dense", 0))
    text = write_page(tmp_path / "b", tmp_path / "out_b").read_text()
    assert list(json.loads(_payload_block(text))["tables"]) == ["gen-0"]
