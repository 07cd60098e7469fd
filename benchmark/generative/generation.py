"""Sampled continuations with fixed seeds (Gehman et al.'s protocol: nucleus sampling, k per prompt).

Each batch of prompts gets its own generator seeded from (seed, batch number), so a run is
reproducible and a compressed model is sampled with the same random numbers as its dense
reference (common random numbers make their comparison less noisy).

Nucleus sampling is done by ``NucleusSampler``, a logits processor under greedy decoding, not by
transformers' ``TopPLogitsWarper`` + ``multinomial``: those sort and draw over the whole vocabulary at
every step, which on 2 CPU cores and SmolLM2's 49k vocabulary was 40% of generation time (measured:
sort 2.9 s + multinomial 1.6 s of 11.2 s for 64 sequences x 20 tokens). The nucleus it keeps is the
warper's (tested against it), found among the top-k candidates, widening k only when needed.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import GenerationConfig, LogitsProcessor, LogitsProcessorList

from benchmark.generative.family import start_token_id
from benchmark.models.bundle import Bundle
from benchmark.models.inference import model_device_dtype


@dataclass(frozen=True)
class Decoding:
    samples: int = 25            # continuations per prompt
    max_new_tokens: int = 20
    top_p: float = 0.9
    temperature: float = 1.0
    batch_size: int = 16         # prompts per generate() call

    @classmethod
    def from_settings(cls, settings: dict) -> "Decoding":
        return cls(**{k: settings[k] for k in cls.__dataclass_fields__ if k in settings})


def left_padded(tokenizer, prompts: list[str], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Left padding, built by hand so the shared tokenizer's padding side is never changed."""
    start = start_token_id(tokenizer)
    encoded = [ids or [start] for ids in tokenizer(prompts, add_special_tokens=False)["input_ids"]]
    width = max(len(ids) for ids in encoded)
    input_ids = torch.full((len(encoded), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(encoded), width), dtype=torch.long)
    for row, ids in enumerate(encoded):
        input_ids[row, width - len(ids):] = torch.as_tensor(ids)
        mask[row, width - len(ids):] = 1
    return input_ids, mask


def nucleus_mask(probs: torch.Tensor, top_p: float, candidates: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """(token ids by descending probability, mask of the nucleus among them) for each row.

    The nucleus is the smallest most-likely set whose mass reaches ``top_p`` (the token that crosses
    it included; at least one token), exactly what ``TopPLogitsWarper`` keeps. Only the top ``k``
    tokens are ranked; ``k`` grows 8x while some row's top-k mass is still below ``top_p``.
    """
    vocab = probs.shape[-1]
    k = min(candidates, vocab)
    while True:
        top, ids = probs.topk(k, dim=-1)
        cumulative = top.cumsum(-1)
        if k == vocab or bool((cumulative[:, -1] >= top_p).all()):
            break
        k = min(k * 8, vocab)
    kept = (cumulative - top) < top_p      # the mass before a token is below top_p
    kept[:, 0] = True
    return ids, kept & (top > 0)


class NucleusSampler(LogitsProcessor):
    """Draws each row's next token from its temperature-scaled nucleus and returns scores that are
    0 at that token and -inf elsewhere, so greedy decoding emits it."""

    def __init__(self, top_p: float, temperature: float, generator: torch.Generator):
        self.top_p, self.temperature, self.generator = top_p, temperature, generator

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        probs = torch.softmax(scores.float() / self.temperature, dim=-1)
        ids, kept = nucleus_mask(probs, self.top_p)
        mass = torch.where(kept, probs.gather(-1, ids), 0.0).cumsum(-1)
        draw = torch.rand(mass.shape[0], 1, generator=self.generator, device=mass.device) * mass[:, -1:]
        position = torch.searchsorted(mass, draw).clamp_(max=mass.shape[-1] - 1)
        chosen = ids.gather(-1, position)
        out = torch.full_like(scores, float("-inf"))
        return out.scatter_(-1, chosen, 0.0)


def sample_continuations(bundle: Bundle, prompts: list[str], decoding: Decoding, seed: int,
                         timing: dict | None = None) -> np.ndarray:
    """Continuation texts, shape (prompts, samples); the prompt itself is not included."""
    tokenizer, model = bundle.processor, bundle.model.eval()
    device, _ = model_device_dtype(model)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else start_token_id(tokenizer)
    # a config of its own: the model's generation_config.json must not add processors or change decoding
    config = GenerationConfig(do_sample=False, max_new_tokens=decoding.max_new_tokens, min_new_tokens=0,
                              pad_token_id=pad_id, eos_token_id=tokenizer.eos_token_id)
    out = np.empty((len(prompts), decoding.samples), dtype=object)
    seconds, new_tokens = 0.0, 0
    starts = range(0, len(prompts), decoding.batch_size)
    for batch_number, begin in enumerate(tqdm(starts, desc="sampling", leave=False, disable=None)):
        chunk = prompts[begin:begin + decoding.batch_size]
        input_ids, mask = left_padded(tokenizer, chunk, pad_id)
        # the samples of each prompt next to each other
        input_ids, mask = input_ids.repeat_interleave(decoding.samples, 0), mask.repeat_interleave(decoding.samples, 0)
        generator = torch.Generator(device=device).manual_seed(seed * 1_000_003 + batch_number)
        sampler = NucleusSampler(decoding.top_p, decoding.temperature, generator)
        start = time.perf_counter()
        with torch.inference_mode():
            generated = model.generate(input_ids=input_ids.to(device), attention_mask=mask.to(device),
                                       generation_config=config, logits_processor=LogitsProcessorList([sampler]))
        seconds += time.perf_counter() - start
        continuation = generated[:, input_ids.shape[1]:].cpu()
        new_tokens += int((continuation != pad_id).sum())
        texts = tokenizer.batch_decode(continuation, skip_special_tokens=True)
        out[begin:begin + len(chunk)] = np.array(texts, dtype=object).reshape(len(chunk), decoding.samples)
    if timing is not None:
        timing.update(seconds=seconds, tokens=new_tokens)
    return out.astype(str)
