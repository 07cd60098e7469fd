"""Metrics against hand-worked cases and against fairlearn's MetricFrame (an independent implementation)."""
import numpy as np
import pytest
from fairlearn.metrics import MetricFrame
from sklearn.metrics import accuracy_score

from benchmark.metrics.agreement import decisive_flips, flip_counts, kl_divergence, top2_probability_gap
from benchmark.metrics.groups import GroupMetrics, excess_accuracy_gaps


def test_group_accuracy_hand_worked():
    # group a: 2/3 right, group b: 1/2 right, overall 3/5
    gm = GroupMetrics(y_true=[0, 1, 1, 0, 1], y_pred=[0, 1, 0, 0, 0], groups=[0, 0, 0, 1, 1], group_names=["a", "b"])
    assert gm.overall == pytest.approx(3 / 5)
    assert gm.by_group["a"] == pytest.approx(2 / 3) and gm.by_group["b"] == pytest.approx(1 / 2)
    assert gm.group_min() == pytest.approx(0.5) and gm.worst_group() == "b"
    assert gm.difference() == pytest.approx(2 / 3 - 1 / 2)


def test_empty_groups_are_left_out():
    gm = GroupMetrics(y_true=[1, 1], y_pred=[1, 0], groups=[0, 2], group_names=["a", "b", "c"])
    assert list(gm.by_group.index) == ["a", "c"] and gm.group_min() == 0.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_fairlearn_metricframe(seed):
    rng = np.random.default_rng(seed)
    y, p, g = rng.integers(0, 3, 500), rng.integers(0, 3, 500), rng.integers(0, 7, 500)
    names = [f"g{i}" for i in range(7)]
    ours = GroupMetrics(y_true=y, y_pred=p, groups=g, group_names=names)
    theirs = MetricFrame(metrics=accuracy_score, y_true=y, y_pred=p, sensitive_features=np.array(names)[g])
    assert ours.overall == pytest.approx(theirs.overall)
    assert ours.group_min() == pytest.approx(theirs.group_min())
    assert ours.difference() == pytest.approx(theirs.difference())
    for name, value in theirs.by_group.items():
        assert ours.by_group[name] == pytest.approx(value)


def test_bootstrap_interval_brackets_the_estimate_and_is_deterministic():
    rng = np.random.default_rng(0)
    y, g = rng.integers(0, 2, 400), rng.integers(0, 4, 400)
    p = np.where(rng.random(400) < 0.8, y, 1 - y)
    gm = GroupMetrics(y_true=y, y_pred=p, groups=g, group_names=list("abcd"))
    low, high = gm.bootstrap("group_min", n_boot=300, seed=3)
    assert low <= gm.group_min() + 0.02 and gm.group_min() - 0.1 <= high and low < high
    assert gm.bootstrap("group_min", n_boot=300, seed=3) == (low, high)


def test_excess_accuracy_gap_hand_worked():
    # dense: a 1.0, b 0.5, overall 0.75; compressed: a 1.0, b 0.0, overall 0.5
    y = [1, 1, 1, 1]
    dense = GroupMetrics(y_true=y, y_pred=[1, 1, 1, 0], groups=[0, 0, 1, 1], group_names=["a", "b"])
    comp = GroupMetrics(y_true=y, y_pred=[1, 1, 0, 0], groups=[0, 0, 1, 1], group_names=["a", "b"])
    psi = excess_accuracy_gaps(dense, comp)
    # overall gap 0.25; a: 0 - 0.25 = -0.25; b: 0.5 - 0.25 = 0.25
    assert psi["a"] == pytest.approx(-0.25) and psi["b"] == pytest.approx(0.25)


def test_flips_hand_worked():
    labels = [0, 0, 1, 1, 2]
    dense = [0, 1, 1, 0, 2]     # right, wrong, right, wrong, right
    comp = [0, 0, 0, 2, 1]      # right, right(I->C), wrong(C->I), wrong->other wrong, wrong(C->I)
    out = flip_counts(labels, dense, comp)
    assert out["correct_to_incorrect"] == pytest.approx(2 / 5)
    assert out["incorrect_to_correct"] == pytest.approx(1 / 5)
    assert out["flip_rate"] == pytest.approx(3 / 5)
    assert out["disagreement"] == pytest.approx(4 / 5)


def test_decisive_flips_hand_worked():
    labels = [0, 0, 1, 1]
    dense_probs = np.array([[0.500, 0.495, 0.005],   # near-tie (gap 0.005), right
                            [0.40, 0.60, 0.00],      # decisive (gap 0.2), wrong
                            [0.10, 0.80, 0.10],      # decisive, right
                            [0.34, 0.335, 0.325]])   # near-tie, wrong
    comp = [1, 0, 1, 1]          # flips: tie C->I, decisive I->C, none, tie I->C
    out = decisive_flips(labels, np.log(dense_probs + 1e-12), comp)
    assert out["dense_near_tie_rate"] == pytest.approx(2 / 4)
    assert out["flip_rate_decisive"] == pytest.approx(1 / 2)   # of the two decisive rows, one flipped
    assert top2_probability_gap(np.log(dense_probs + 1e-12)) == pytest.approx([0.005, 0.2, 0.7, 0.005], abs=1e-9)


def test_kl_divergence_hand_worked():
    p = np.log(np.array([[0.5, 0.5], [0.9, 0.1]]))
    q = np.log(np.array([[0.5, 0.5], [0.5, 0.5]]))
    kl = kl_divergence(p, q)
    assert kl[0] == pytest.approx(0.0)
    assert kl[1] == pytest.approx(0.9 * np.log(0.9 / 0.5) + 0.1 * np.log(0.1 / 0.5))
    assert kl_divergence(p, p + 3.0) == pytest.approx([0, 0])   # softmax is shift-invariant
