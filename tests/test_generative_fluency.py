"""The fluency guard: perplexity arithmetic by hand, and a randomly re-initialised tiny GPT-2 marked
as collapsed against a fluent dense one, while a slightly perturbed copy is not."""
from dataclasses import replace

import numpy as np
import pytest
import torch

from benchmark.generative import fluency as F
from benchmark.generative.generation import Decoding, sample_continuations
from benchmark.generative.kinds import KINDS, Env
from benchmark.generative.models import tiny_gpt2_bundle
from benchmark.generative.scorers import create_scorer

pytestmark = pytest.mark.usefixtures("one_thread")


def test_perplexity_is_token_weighted_and_the_rule_is_a_ratio():
    # two texts: NLL sums 2 and 4 over 1 and 3 tokens -> exp(6 / 4)
    assert F.perplexity(np.array([2.0, 4.0]), np.array([1, 3])) == pytest.approx(np.exp(1.5))
    assert F.collapsed([1.9, np.nan], 2.0) == 0.0 and F.collapsed([1.2, 2.5], 2.0) == 1.0
    gap = F.group_perplexity_gap(np.array([3.0]), np.array([1.0]), np.array([2]))
    assert gap["perplexity_gap"] == pytest.approx(1.0)     # (3 - 1) / 2 nats per token


def reinitialised(bundle, std: float = 1.0, seed: int = 7):
    """The same architecture with every weight matrix drawn afresh from N(0, std^2): a model that is
    confidently random, as broken compressed decoders are (GPT-2's own init, std 0.02, is near uniform)."""
    broken = bundle.clone()
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in broken.model.parameters():
            if p.dim() >= 2:
                p.normal_(0.0, std)
    return broken


@pytest.fixture(scope="module")
def guarded():
    dense = tiny_gpt2_bundle()
    kind = KINDS.get("toxicity_groups")
    settings = {**kind.settings, "samples": 2, "max_new_tokens": 8, "batch_size": 16}
    data = kind.load("group_swap_prompts", {"domains": ["age"]}, "test", settings, "<test>")
    openings = ["The weather", "In the kitchen, the"]
    heldout = sample_continuations(dense, openings, Decoding(samples=2, max_new_tokens=16), seed=1)
    env = Env(seed=0, dense=dense, heldout_texts=[o + t for o, row in zip(openings, heldout) for t in row],
              scorer=create_scorer("profanity-check"))
    dense_raw = kind.run(dense, data, settings, env)

    def summary(bundle):
        raw = kind.run(bundle, data, settings, replace(env, dense_raw=dense_raw))
        return kind.summarise(raw, dense_raw, data.group_names, settings)
    return dense, kind, data, settings, dense_raw, summary


def test_the_dense_model_is_not_collapsed(guarded):
    _, kind, data, settings, dense_raw, _ = guarded
    overall = kind.summarise(dense_raw, dense_raw, data.group_names, settings)["overall"]
    assert overall["fluency_collapsed"] == 0.0 and overall["heldout_perplexity_ratio"] == pytest.approx(1.0)


def test_a_randomly_reinitialised_model_is_marked(guarded):
    dense, *_, summary = guarded
    metrics = summary(reinitialised(dense))
    overall = metrics["overall"]
    assert overall["heldout_perplexity_ratio"] > F.DEFAULT_MAX_RATIO
    assert overall["fluency_collapsed"] == 1.0
    assert all(v["perplexity_gap"] > np.log(F.DEFAULT_MAX_RATIO) for v in metrics["by_group"].values())


def test_a_slightly_perturbed_model_is_not_marked(guarded):
    dense, *_, summary = guarded
    nudged = dense.clone()
    torch.manual_seed(0)
    with torch.no_grad():
        for p in nudged.model.parameters():
            p.add_(1e-3 * torch.randn_like(p))
    overall = summary(nudged)["overall"]
    assert overall["fluency_collapsed"] == 0.0 and overall["heldout_perplexity_ratio"] < 1.5


def test_collapsed_rows_are_marked_and_listed_last():
    import pandas as pd
    from benchmark.report.generative_table import headline_markdown
    summary = pd.DataFrame({"dense": ["m", "m", "m"], "recipe": ["broken", "dense", "int8"], "family": ["x"] * 3,
                            "seeds": [1, 1, 1], "t.expected_max_toxicity": [0.01, 0.2, 0.21],
                            "t.fluency_collapsed": [1.0, 0.0, 0.0]})
    markdown = headline_markdown(summary, {"t": "toxicity_groups"})
    lines = [line for line in markdown.splitlines() if line.startswith("| ") and "recipe" not in line]
    assert [line.split(" | ")[0] for line in lines] == ["| dense", "| int8", "| broken †"]
    assert "fluency collapsed" in markdown
