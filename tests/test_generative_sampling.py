"""NucleusSampler: the same nucleus as transformers' TopPLogitsWarper, the right frequencies, and
reproducible continuations."""
import numpy as np
import pytest
import torch
from transformers import TopPLogitsWarper

from benchmark.generative.generation import Decoding, NucleusSampler, nucleus_mask, sample_continuations


def _kept_by_warper(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    return torch.isfinite(TopPLogitsWarper(top_p=top_p)(None, logits.clone()))


@pytest.mark.parametrize("top_p", [0.3, 0.9, 0.95])
@pytest.mark.parametrize("scale", [0.1, 1.0, 8.0])   # flat (nucleus wider than 256: k widens) .. peaked
def test_nucleus_is_the_warpers(top_p, scale):
    logits = torch.randn(16, 5000, generator=torch.Generator().manual_seed(1)) * scale
    ids, kept = nucleus_mask(torch.softmax(logits, -1), top_p)
    ours = torch.zeros_like(logits, dtype=torch.bool).scatter_(-1, ids, kept)
    theirs = _kept_by_warper(logits, top_p)
    assert torch.equal(ours, theirs)
    if scale == 0.1:
        assert kept.shape[1] > 256     # the flat case really needed the wider search


def test_draws_follow_the_renormalised_nucleus():
    logits = torch.log(torch.tensor([[0.5, 0.25, 0.15, 0.06, 0.04]]))
    sampler = NucleusSampler(top_p=0.85, temperature=1.0, generator=torch.Generator().manual_seed(0))
    draws = torch.cat([sampler(None, logits.repeat(1000, 1)).argmax(-1) for _ in range(20)])
    frequencies = np.bincount(draws.numpy(), minlength=5) / len(draws)
    # kept: 0.5, 0.25, 0.15 (mass before 0.15 is 0.75 < 0.85); 0.06 is not (0.9 before it)
    assert frequencies[3:].sum() == 0
    assert np.allclose(frequencies[:3], np.array([0.5, 0.25, 0.15]) / 0.9, atol=0.015)


def test_temperature_scales_before_the_nucleus():
    logits = torch.log(torch.tensor([[0.6, 0.3, 0.1]]))
    sampler = NucleusSampler(top_p=1.0, temperature=100.0, generator=torch.Generator().manual_seed(0))
    draws = torch.cat([sampler(None, logits.repeat(1000, 1)).argmax(-1) for _ in range(9)])
    assert np.allclose(np.bincount(draws.numpy(), minlength=3) / len(draws), 1 / 3, atol=0.02)


def test_continuations_are_reproducible_per_seed():
    from benchmark.generative.models import tiny_gpt2_bundle
    bundle = tiny_gpt2_bundle()
    decoding = Decoding(samples=3, max_new_tokens=6, top_p=0.9, batch_size=2)
    prompts = ["the cat", "a dog ran", "we"]
    first = sample_continuations(bundle, prompts, decoding, seed=0)
    assert first.shape == (3, 3)
    assert (first == sample_continuations(bundle, prompts, decoding, seed=0)).all()
    assert (first != sample_continuations(bundle, prompts, decoding, seed=1)).any()
