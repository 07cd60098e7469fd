"""The one training loop, built on accelerate so that `accelerate launch` spreads it over GPUs
unchanged; on this CPU it runs in-process. Recipes pass their own loss (KD, constraints)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from tqdm.auto import tqdm

from benchmark.data.dataset import Split
from benchmark.models.bundle import Bundle
from benchmark.models.families import MODEL_FAMILIES

LossFn = Callable[[torch.nn.Module, dict], torch.Tensor]


@dataclass(frozen=True)
class TrainConfig:
    epochs: float = 1.0
    lr: float = 5e-5
    batch_size: int = 16
    weight_decay: float = 0.01
    warmup: float = 0.1
    max_length: int = 128
    mixed_precision: str = "no"     # "bf16"/"fp16" on GPUs; accelerate handles the autocast
    max_grad_norm: float = 1.0
    length_buckets: int = 50        # batches per length-sorted chunk (0: plain shuffle); see ModelFamily.batches

    @classmethod
    def from_budget(cls, budget: dict, **overrides) -> "TrainConfig":
        fields = cls.__dataclass_fields__
        values = {k: budget[k] for k in fields if k in budget}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def training_steps(n_examples: int, batch_size: int, epochs: float) -> int:
    """Optimiser steps ``train`` takes: fractional epochs allowed, at least one step."""
    return max(1, math.ceil(math.ceil(n_examples / batch_size) * epochs))


def cross_entropy(family_name: str) -> LossFn:
    family = MODEL_FAMILIES.get(family_name)

    def loss(model, batch):
        return F.cross_entropy(family.logits(model, batch), batch["labels"])
    return loss


def make_accelerator(config: TrainConfig) -> Accelerator:
    mixed = config.mixed_precision if torch.cuda.is_available() else "no"
    return Accelerator(cpu=not torch.cuda.is_available(), mixed_precision=mixed)


def train(bundle: Bundle, split: Split, inputs: tuple[str, ...], config: TrainConfig, *, seed: int,
          loss_fn: LossFn | None = None, params: list | None = None, desc: str = "train",
          on_step: Callable[[int], None] | None = None) -> Bundle:
    """Fine-tune ``bundle.model`` in place on ``split`` and return the bundle.

    ``params`` restricts what is optimised; ``on_step(step)`` runs after each optimiser step
    (pruning schedules use it to re-apply masks).
    """
    set_seed(seed)
    family = MODEL_FAMILIES.get(bundle.family)
    loss_fn = loss_fn or cross_entropy(bundle.family)
    accelerator = make_accelerator(config)
    model = bundle.model
    model.train()
    trainable = params if params is not None else [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.lr, weight_decay=config.weight_decay)
    encoded = family.encoded(bundle, split, inputs, config.max_length)
    total = training_steps(len(split), config.batch_size, config.epochs)
    warmup = int(total * config.warmup)
    # Linear warm-up, then linear decay to zero.
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (s + 1) / warmup if s < warmup else max(0.0, (total - s) / max(1, total - warmup)))
    model, optimizer = accelerator.prepare(model, optimizer)
    step = 0
    progress = tqdm(total=total, desc=desc, leave=False, disable=None)
    epoch = 0
    while step < total:
        for batch in family.batches(bundle, split, inputs, config.batch_size, shuffle=True,
                                    seed=seed * 1000 + epoch, encoded=encoded,
                                    length_buckets=config.length_buckets):
            batch = {k: v.to(accelerator.device) for k, v in batch.items()}
            with accelerator.autocast():
                loss = loss_fn(model, batch)
            accelerator.backward(loss)
            if config.max_grad_norm:
                accelerator.clip_grad_norm_(trainable, config.max_grad_norm)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            if on_step is not None:
                on_step(step)
            progress.update(1)
            progress.set_postfix(loss=f"{loss.item():.3f}")
            if step >= total:
                break
        epoch += 1
    progress.close()
    bundle.model = accelerator.unwrap_model(model)
    bundle.model.eval()
    return bundle
