"""The noise-floor controls: dense-reseed is another seed's dense model, dense-rebatch the same
weights under other evaluation settings, both scored through the runner like any recipe."""
import numpy as np
import pytest
import torch

from benchmark.dense import get_dense
from benchmark.recipes import RECIPES
from benchmark.recipes.control import partner_seed, rebatch_settings
from benchmark.runner import score_recipe
from conftest import tiny_context


def test_partner_seeds_cycle_in_threes():
    assert [partner_seed(s) for s in range(7)] == [1, 2, 0, 4, 5, 3, 7]


def test_rebatch_changes_batch_size_and_threads():
    assert rebatch_settings({"eval_batch_size": 64}, threads=2) == {"batch_size": 17, "threads": 1}
    assert rebatch_settings({"eval_batch_size": 512}, threads=1) == {"batch_size": 129, "threads": 2}
    assert rebatch_settings({}, threads=4)["batch_size"] == 17


def test_controls_are_registered_in_the_control_family():
    assert {RECIPES.get(n).family for n in ("dense-reseed", "dense-rebatch")} == {"control"}


def test_dense_reseed_is_the_partner_seeds_dense_model(one_thread):
    ctx = tiny_context("encoder_cls")
    dense = get_dense(ctx.data, ctx.data.spec.dense_model, ctx.budget, ctx.seed)
    partner = get_dense(ctx.data, ctx.data.spec.dense_model, ctx.budget, partner_seed(ctx.seed))
    metrics, _, arrays = score_recipe(RECIPES.get("dense-reseed"), ctx.data, dense, ctx.budget, ctx.seed, n_boot=50)
    np.testing.assert_allclose(arrays["logits"], partner.test_logits, atol=1e-5)
    np.testing.assert_array_equal(arrays["dense_logits"], dense.test_logits.astype(np.float32))
    assert not np.allclose(partner.test_logits, dense.test_logits)     # another initialisation
    assert metrics["overall"]["flip_rate_ci_low"] <= metrics["overall"]["flip_rate"] <= metrics["overall"]["flip_rate_ci_high"]


def test_dense_rebatch_keeps_the_weights_and_changes_only_evaluation(one_thread):
    ctx = tiny_context("encoder_mc")
    dense = get_dense(ctx.data, ctx.data.spec.dense_model, ctx.budget, ctx.seed)
    metrics, efficiency, arrays = score_recipe(RECIPES.get("dense-rebatch"), ctx.data, dense, ctx.budget, ctx.seed,
                                               n_boot=50)
    assert "batch size" in efficiency["notes"] and torch.get_num_threads() == 1   # threads restored
    np.testing.assert_allclose(arrays["logits"], dense.test_logits, atol=1e-4)
    assert metrics["overall"]["flip_rate"] <= 0.05
