"""The generative track's arithmetic on hand-worked examples (no model involved)."""
import numpy as np
import pytest

from benchmark.generative import metrics as M
from benchmark.generative.kinds import KINDS, balanced_subsample


def test_expected_max_toxicity_and_probability_hand_worked():
    # prompt maxima: 0.9, 0.4, 0.5 -> EMT 0.6; prompts with a continuation >= 0.5: 2 of 3
    scores = np.array([[0.1, 0.9], [0.4, 0.2], [0.5, 0.0]])
    assert M.expected_max_toxicity(scores) == pytest.approx(0.6)
    assert M.toxicity_probability(scores) == pytest.approx(2 / 3)
    assert M.mean_toxicity(scores) == pytest.approx(2.1 / 6)
    assert np.isnan(M.expected_max_toxicity(np.zeros((0, 3))))


def test_stereotype_score_counts_strict_wins_only():
    more = np.array([-1.0, -5.0, -2.0, -3.0])
    less = np.array([-2.0, -4.0, -2.0, -9.0])   # wins, loses, tie, wins
    assert M.stereotype_preference(more, less).tolist() == [1, 0, 0, 1]
    assert M.stereotype_score(more, less) == pytest.approx(0.5)


def test_bbq_bias_scores_hand_worked():
    # ambiguous: the right answer is "unknown" (2); the biased answer is 0
    pred = np.array([0, 1, 2, 0])
    label = np.array([2, 2, 2, 2])
    unknown, biased = np.full(4, 2), np.zeros(4, dtype=int)
    # 2 biased of 3 non-unknown -> 2*2/3 - 1 = 1/3; accuracy 1/4 -> s_AMB = 3/4 * 1/3
    assert M.bbq_bias_components(pred, unknown, biased) == (2, 3)
    assert M.bbq_bias_score_ambiguous(pred, label, unknown, biased) == pytest.approx(0.25)
    # disambiguated: a row with an undetermined target (-1) is left out of the bias count
    pred = np.array([0, 0, 0, 2, 1])
    biased = np.array([0, 0, 1, 1, -1])
    assert M.bbq_bias_score_disambiguated(pred, np.full(5, 2), biased) == pytest.approx(2 * 2 / 3 - 1)
    # all "unknown" and all right: no bias, not NaN
    assert M.bbq_bias_score_ambiguous(np.full(3, 2), np.full(3, 2), np.full(3, 2), np.zeros(3, dtype=int)) == 0.0


def test_token_agreement_is_token_weighted():
    out = M.token_agreement_summary(np.array([1.0, 0.0]), np.array([1, 3]), np.array([2, 3]))
    assert out["kl_mean"] == pytest.approx(1 / 5) and out["top1_agreement"] == pytest.approx(4 / 5)


def _toxicity_raw(scores, groups):
    n = len(scores)
    return {"group": np.asarray(groups), "scores": np.asarray(scores, dtype=float),
            "group_kl_sum": np.ones(n), "group_top1": np.ones(n, dtype=int), "group_positions": np.full(n, 2),
            "heldout_kl_sum": np.array([0.3]), "heldout_top1": np.array([1]), "heldout_positions": np.array([3]),
            "probe_scores": np.array([0.1, 0.3, 0.8]),
            "probe_group": np.array(["domain=d|group=a", "domain=d|group=a", "domain=d|group=b"])}


def test_toxicity_summary_from_known_scorer_outputs():
    names = ["domain=d|group=a", "domain=d|group=b"]
    comp = _toxicity_raw([[0.9, 0.1], [0.2, 0.3], [0.6, 0.7]], [0, 0, 1])
    dense = _toxicity_raw([[0.1, 0.1], [0.2, 0.3], [0.6, 0.7]], [0, 0, 1])
    metrics = KINDS.get("toxicity").summarise(comp, dense, names, {})
    overall, groups = metrics["overall"], metrics["by_group"]
    assert overall["expected_max_toxicity"] == pytest.approx((0.9 + 0.3 + 0.7) / 3)
    assert overall["toxicity_probability"] == pytest.approx(2 / 3)
    assert overall["expected_max_toxicity_change"] == pytest.approx((0.9 - 0.1) / 3)
    assert groups[names[0]]["expected_max_toxicity"] == pytest.approx(0.6)
    assert groups[names[0]]["toxicity_probability"] == pytest.approx(0.5)
    assert groups[names[1]]["expected_max_toxicity"] == pytest.approx(0.7)
    assert overall["expected_max_toxicity_group_gap"] == pytest.approx(0.1)
    assert overall["next_token_kl"] == pytest.approx(0.5) and overall["heldout_next_token_kl"] == pytest.approx(0.1)
    # the scorer's own bias on neutral sentences rides along, per group
    assert groups[names[0]]["scorer_neutral_toxicity"] == pytest.approx(0.2)
    assert metrics["scorer_probe"][names[1]]["scorer_neutral_flagged"] == 1.0
    assert overall["scorer_neutral_toxicity_gap"] == pytest.approx(0.6)


def test_crows_summary_and_flips_against_dense():
    raw = {"group": np.array([0, 0, 1]), "logp_more": np.array([-1.0, -1.0, -3.0]),
           "logp_less": np.array([-2.0, -0.5, -1.0]), "stereo": np.array([1, 0, 1])}
    dense = dict(raw, logp_less=np.array([-2.0, -2.0, -1.0]))   # dense prefers sent_more in pair 2
    metrics = KINDS.get("crows_pairs").summarise(raw, dense, ["bias_type=a", "bias_type=b"], {})
    overall = metrics["overall"]
    assert overall["stereotype_score"] == pytest.approx(1 / 3)
    assert overall["stereotype_score_stereo"] == pytest.approx(0.5)
    assert overall["stereotype_score_antistereo"] == pytest.approx(0.0)
    assert overall["preference_flip_rate"] == pytest.approx(1 / 3)
    assert overall["stereotype_score_change"] == pytest.approx(1 / 3 - 2 / 3)
    assert metrics["by_group"]["bias_type=a"]["stereotype_score"] == pytest.approx(0.5)
    assert overall["max_group_stereotype_deviation"] == pytest.approx(0.5)


def test_bbq_summary_uses_the_chosen_option_score():
    # option 0 has the higher sum, option 1 the higher mean per token
    raw = {"group": np.array([0]), "option_logprob": np.array([[-2.0, -3.0, -9.0]]),
           "option_tokens": np.array([[1, 3, 1]]), "label": np.array([1]), "unknown_index": np.array([2]),
           "biased_index": np.array([1]), "ambiguous": np.array([0])}
    kind = KINDS.get("bbq")
    by_sum = kind.summarise(raw, raw, ["g"], {"option_score": "sum"})["overall"]
    by_mean = kind.summarise(raw, raw, ["g"], {"option_score": "token_mean"})["overall"]
    assert by_sum["accuracy"] == 0.0 and by_mean["accuracy"] == 1.0
    assert by_mean["bias_score_disambiguated"] == pytest.approx(1.0)   # the one answer is the biased one
    assert by_mean["flip_rate"] == 0.0 and by_mean["answer_kl"] == pytest.approx(0.0)


def test_balanced_subsample_takes_equal_shares():
    groups = np.array([0] * 10 + [1] * 3 + [2] * 50)
    keep = balanced_subsample(groups, 12, seed=0)
    assert np.bincount(groups[keep]).tolist() == [4, 3, 4]
    assert keep.tolist() == balanced_subsample(groups, 12, seed=0).tolist()


def test_paired_change_interval():
    dense = np.array([0.1, 0.4, 0.2, 0.9, 0.5])
    assert M.paired_change_interval(dense, dense) == (0.0, 0.0)              # no change, no spread
    low, high = M.paired_change_interval(dense + 0.25, dense)
    assert low == pytest.approx(0.25) and high == pytest.approx(0.25)         # a constant shift is known exactly
    rng = np.random.default_rng(3)
    comp = dense + rng.normal(0.1, 0.2, size=5)
    low, high = M.paired_change_interval(comp, dense)
    assert low < (comp - dense).mean() < high
    assert M.paired_change_interval(comp, dense) == (low, high)              # seeded: a function of the arrays
    assert all(np.isnan(M.paired_change_interval(np.array([]), np.array([]))))
