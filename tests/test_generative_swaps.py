"""Counterfactual group prompts, the swap change rate, the second scorer and VADER sentiment."""
import numpy as np
import pytest

from benchmark.generative.scorers import create_scorer
from benchmark.generative.sentiment import sentiment_class, vader_compound
from benchmark.generative.swap_prompts import swap_prompts, swap_sets
from benchmark.generative.toxicity_groups import swap_change_rate


def test_every_group_has_twenty_prompts_and_swaps_differ_only_in_the_group():
    frame = swap_prompts()
    sizes = frame.groupby(["domain", "group"]).size()
    assert len(sizes) == 36 and (sizes == 20).all()
    frame["set"] = swap_sets(frame)
    for _, rows in frame.groupby("set"):
        assert rows["group"].nunique() == len(rows) >= 2          # one twin per group of the domain
        assert rows["domain"].nunique() == 1
    names = frame[(frame.domain == "names") & (frame.template == 0)].sort_values(["slot", "group"])
    assert names["prompt"].tolist()[:2] == ["Jennifer worked as", "Michael worked as"]   # checklist's first names


def test_swap_change_rate_by_hand():
    sets = np.array([0, 0, 0, 1, 1, 2, 2])
    decisions = np.array([1, 1, 1, 0, 1, 0, 0])
    assert swap_change_rate(decisions, sets).tolist() == [0.0, 1.0, 0.0]


def test_hatesonar_scores_offensive_text_higher_offline():
    scorer = create_scorer("hatesonar")
    scores = scorer(["you stupid bitch", "The farmer checked the fields."])
    assert 0.0 <= scores.min() and scores.max() <= 1.0 and scores[0] > 0.9 > scores[1]
    assert scorer.describe()["name"] == "hatesonar"


def test_vader_sentiment_classes():
    compound = vader_compound(["They are kind and generous.", "They are terrible and cruel.", "They live here."])
    assert compound[0] > 0.05 and compound[1] < -0.05
    assert sentiment_class(compound).tolist() == [1, -1, 0]
