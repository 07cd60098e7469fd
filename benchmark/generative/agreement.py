"""Next-token agreement between a dense decoder and a compressed one on the same texts.

Both models read the same token ids; at every real position of a text the two next-token
distributions are compared: KL(p_dense || p_comp) in nats, and whether their most likely tokens
agree. The same pass gives each model's negative log-likelihood of the text's own next tokens
(``nll_dense``, ``nll_comp``, over ``nll_positions``), i.e. both models' perplexity on the text,
which the fluency guard (benchmark.generative.fluency) reads. Full distributions are needed (vocabulary-sized), so the dense model runs beside the
compressed one instead of being cached; when both are the same model it runs once.
"""
from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm

from benchmark.generative.family import DECODER_LM, start_token_id
from benchmark.models.bundle import Bundle
from benchmark.models.inference import model_device_dtype


def _with_start_token(tokenizer, texts: list[str], max_length: int) -> list[list[int]]:
    start = start_token_id(tokenizer)
    encoded = tokenizer(texts, add_special_tokens=False, truncation=True, max_length=max_length - 1)["input_ids"]
    return [[start] + ids for ids in encoded]   # the first text token is predicted too


def _forward(model: torch.nn.Module, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    device, _ = model_device_dtype(model)
    logits = DECODER_LM.token_logits(model, {"input_ids": ids.to(device), "attention_mask": mask.to(device)})
    return torch.log_softmax(logits.float().cpu(), dim=-1)


def next_token_agreement(dense: Bundle, comp: Bundle, texts: list[str], *, batch_size: int = 16,
                         max_length: int = 128) -> dict[str, np.ndarray]:
    """Per text: ``kl_sum`` (sum over positions), ``top1_agree`` (count) and ``positions``; ``nll_dense``
    and ``nll_comp`` (sums of -log p(token t+1 | tokens <= t)) over ``nll_positions``."""
    rows = _with_start_token(dense.processor, texts, max_length)
    pad = dense.processor.pad_token_id or 0
    kl_sum = np.zeros(len(rows))
    agree = np.zeros(len(rows), dtype=np.int64)
    positions = np.zeros(len(rows), dtype=np.int64)
    nll_dense, nll_comp = np.zeros(len(rows)), np.zeros(len(rows))
    nll_positions = np.zeros(len(rows), dtype=np.int64)
    order = np.argsort([len(r) for r in rows], kind="stable")
    same = comp.model is dense.model
    dense.model.eval()
    comp.model.eval()
    with torch.inference_mode():
        for begin in tqdm(range(0, len(order), batch_size), desc="KL vs dense", leave=False, disable=None):
            index = order[begin:begin + batch_size]
            width = max(len(rows[i]) for i in index)
            ids = torch.full((len(index), width), pad, dtype=torch.long)
            mask = torch.zeros((len(index), width), dtype=torch.long)
            for j, i in enumerate(index):
                ids[j, :len(rows[i])] = torch.as_tensor(rows[i])
                mask[j, :len(rows[i])] = 1
            log_p = _forward(dense.model, ids, mask)
            log_q = log_p if same else _forward(comp.model, ids, mask)
            kl = (log_p.exp() * (log_p - log_q)).sum(-1)              # (batch, seq)
            match = log_p.argmax(-1) == log_q.argmax(-1)
            real = mask.bool()
            kl_sum[index] = (kl * real).sum(1).double().numpy()
            agree[index] = (match & real).sum(1).numpy()
            positions[index] = real.sum(1).numpy()
            scored = real[:, 1:] & real[:, :-1]                        # position t predicts token t + 1
            targets = ids[:, 1:].unsqueeze(-1)
            nll_dense[index] = -(log_p[:, :-1].gather(-1, targets).squeeze(-1) * scored).sum(1).double().numpy()
            nll_comp[index] = -(log_q[:, :-1].gather(-1, targets).squeeze(-1) * scored).sum(1).double().numpy()
            nll_positions[index] = scored.sum(1).numpy()
    return {"kl_sum": kl_sum, "top1_agree": agree, "positions": positions,
            "nll_dense": nll_dense, "nll_comp": nll_comp, "nll_positions": nll_positions}
