"""Paired intervals, McNemar and the group-size floor, against hand-worked cases and independent code."""
import numpy as np
import pytest
from scipy.stats import binomtest

from benchmark.data.dataset import per_group_subsample, subsample_split
from benchmark.errors import BenchmarkError
from benchmark.evaluator import evaluate
from benchmark.metrics.paired import (combine_seeds, headline_groups, mcnemar_exact, paired_statistics,
                                      resampled_statistics, within_group_resamples)

# 6 items: group 0 = items 0-3, group 1 = items 4-5
GROUPS = np.array([0, 0, 0, 0, 1, 1])
DENSE_OK = np.array([1, 1, 0, 1, 1, 0])
COMP_OK = np.array([1, 0, 0, 1, 1, 1])


def test_paired_statistics_hand_worked():
    stats = paired_statistics(DENSE_OK, COMP_OK, GROUPS, np.array([True, True]))
    # dense: acc 4/6, group accs 3/4, 1/2 -> WGA 1/2; comp: acc 4/6, groups 2/4, 2/2 -> WGA 1/2
    assert stats["accuracy_change"] == pytest.approx(0.0)
    assert stats["worst_group_accuracy_change"] == pytest.approx(0.0)
    # psi_0 = (3/4 - 2/4) - 0 = 1/4, psi_1 = (1/2 - 1) - 0 = -1/2
    assert stats["max_psi"] == pytest.approx(0.25)
    assert stats["flip_rate"] == pytest.approx(2 / 6)


def test_paired_statistics_on_fixed_resamples_match_a_loop():
    """Two hand-chosen resamples (each position keeps its group) against a plain per-resample loop."""
    resamples = np.array([[0, 0, 1, 1, 5, 5],
                          [2, 3, 3, 1, 4, 4]])
    headline = np.array([True, True])
    got = resampled_statistics(DENSE_OK, COMP_OK, GROUPS, resamples, headline)
    # resample 0: dense ok = [1,1,1,1,0,0] comp = [1,1,0,0,1,1]
    #   dense acc 4/6, groups 1, 0 -> WGA 0; comp acc 4/6, groups 1/2, 1 -> WGA 1/2; dWGA +1/2
    #   psi_0 = (1 - 1/2) - 0 = 1/2, psi_1 = (0 - 1) = -1; flips 4/6
    # resample 1: dense ok = [0,1,1,1,1,1] comp = [0,1,1,0,1,1]
    #   dense acc 5/6, groups 3/4, 1 -> 3/4; comp acc 4/6, groups 2/4, 1 -> 1/2; dWGA -1/4
    #   overall gap 1/6; psi_0 = 1/4 - 1/6 = 1/12, psi_1 = 0 - 1/6; flips 1/6
    np.testing.assert_allclose(got["accuracy_change"], [0.0, 4 / 6 - 5 / 6])
    np.testing.assert_allclose(got["worst_group_accuracy_change"], [0.5, -0.25])
    np.testing.assert_allclose(got["max_psi"], [0.5, 1 / 12])
    np.testing.assert_allclose(got["flip_rate"], [4 / 6, 1 / 6])
    np.testing.assert_allclose(got["worst_group_accuracy"], [0.5, 0.5])
    for b, rows in enumerate(resamples):   # independent: the statistics of each resample as its own sample
        again = paired_statistics(DENSE_OK[rows], COMP_OK[rows], GROUPS, headline)
        for key, value in again.items():
            assert got[key][b] == pytest.approx(value)


def test_resamples_stay_within_groups_and_are_seeded():
    groups = np.array([0, 1, 0, 2, 1, 0, 2, 2])
    rows = within_group_resamples(groups, n_boot=50, seed=4)
    assert rows.shape == (50, 8)
    assert (groups[rows] == groups[None, :]).all()            # every position keeps its group's size
    np.testing.assert_array_equal(rows, within_group_resamples(groups, n_boot=50, seed=4))
    assert not np.array_equal(rows, within_group_resamples(groups, n_boot=50, seed=5))


@pytest.mark.parametrize("b,c", [(0, 0), (3, 0), (7, 2), (12, 11), (40, 18)])
def test_mcnemar_exact_matches_scipy_binomtest(b, c):
    dense = np.array([1] * b + [0] * c + [1] * 5 + [0] * 4, bool)
    comp = np.array([0] * b + [1] * c + [1] * 5 + [0] * 4, bool)
    expected = 1.0 if b + c == 0 else binomtest(min(b, c), b + c, 0.5, alternative="two-sided").pvalue
    assert mcnemar_exact(dense, comp) == pytest.approx(expected, rel=1e-12)


def test_mcnemar_hand_worked():
    # b=3, c=0: p = 2 * (1/2)^3 = 0.25
    assert mcnemar_exact([1, 1, 1, 0], [0, 0, 0, 0]) == pytest.approx(0.25)


def test_combine_seeds_one_seed_is_its_own_distribution_and_many_average_resamples():
    one = np.array([0.1, 0.2, 0.3])
    np.testing.assert_array_equal(combine_seeds([one]), one)
    same = combine_seeds([one, one, one], seed=1)
    np.testing.assert_allclose(same, one)                     # identical seeds: nothing to add
    a, b = np.zeros(400), np.ones(400)
    mixed = combine_seeds([a, b], seed=2)
    assert set(np.unique(mixed)) <= {0.0, 0.5, 1.0} and 0.3 < mixed.mean() < 0.7


def test_floor_excludes_small_groups_from_headline_figures_and_marks_them():
    # group 0: 40 items all right; group 1: 40 items, 30 right; group 2: 5 items, all wrong
    groups = np.array([0] * 40 + [1] * 40 + [2] * 5)
    labels = np.zeros(len(groups), int)
    right = np.array([1] * 40 + [1] * 30 + [0] * 10 + [0] * 5, bool)
    logits = np.stack([right.astype(float), (~right).astype(float)], 1)
    result = evaluate(labels=labels, groups=groups, group_names=["a", "b", "c"], logits=logits,
                      dense_logits=logits, n_boot=20, min_group_size=30)
    assert result.overall["worst_group_accuracy"] == pytest.approx(0.75)       # not group c's 0.0
    assert result.overall["groups_at_floor"] == 2 and result.overall["groups_below_floor"] == 1
    assert result.by_group["c"]["below_floor"] == 1.0 and result.by_group["c"]["accuracy"] == 0.0
    assert result.by_group["a"]["below_floor"] == 0.0
    no_floor = evaluate(labels=labels, groups=groups, group_names=["a", "b", "c"], logits=logits,
                        dense_logits=logits, n_boot=20, min_group_size=None)
    assert no_floor.overall["worst_group_accuracy"] == 0.0
    # identical models: every paired interval collapses to 0, McNemar p = 1
    assert result.overall["worst_group_accuracy_change_ci_low"] == 0.0 == result.overall["flip_rate_ci_high"]
    assert result.overall["mcnemar_p"] == 1.0


def test_floor_above_every_group_falls_back_to_all_groups():
    mask = headline_groups(np.array([0, 0, 1]), min_size=30)
    np.testing.assert_array_equal(mask, [True, True])
    np.testing.assert_array_equal(headline_groups(np.array([0, 0, 2]), min_size=2), [True, False, False])


def test_per_group_sampling_takes_equal_numbers_and_all_of_small_groups():
    groups = np.array([0] * 500 + [1] * 50 + [2] * 3000)
    keep = per_group_subsample(groups, 100, seed=0)
    assert np.bincount(groups[keep]).tolist() == [100, 50, 100]
    np.testing.assert_array_equal(keep, subsample_split(groups, {"test_per_group": 100, "test_size": 7}, "test"))
    assert len(subsample_split(groups, {"test_size": 7}, "test")) == 7
    with pytest.raises(BenchmarkError, match="test_per_group"):
        subsample_split(groups, {"test_per_group": 0}, "test")
