"""Train a fresh model on a synthetic image set, as the distillation papers evaluate one: SGD with
momentum 0.9, weight decay 5e-4, lr 0.01 divided by 10 at half the epochs, batches of 256, DSA
augmentation on every batch (DM and DSA evaluate this way; the draw is per batch here, per image in
the authors' code)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from benchmark.models.bundle import Bundle
from benchmark.models.families import MODEL_FAMILIES
from benchmark.recipes.dd_augment import STRATEGY, SiameseAugment


@dataclass(frozen=True)
class EvalTrainConfig:
    epochs: int = 1000
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    batch_size: int = 256
    dsa: tuple[str, ...] = STRATEGY


def train_on_images(bundle: Bundle, images: torch.Tensor, labels: torch.Tensor, config: EvalTrainConfig,
                    seed: int) -> int:
    """Train ``bundle.model`` in place on (images, labels) only; returns the optimiser steps taken."""
    family = MODEL_FAMILIES.get(bundle.family)
    model = bundle.model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.MultiStepLR(optimizer, [config.epochs // 2], gamma=0.1)
    augment = SiameseAugment(config.dsa)
    gen = torch.Generator().manual_seed(seed)
    steps = 0
    for _ in range(config.epochs):
        for batch in torch.randperm(len(images), generator=gen).split(config.batch_size):
            (x,) = augment(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)), images[batch])
            loss = F.cross_entropy(family.logits(model, {"pixel_values": x}), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            steps += 1
        schedule.step()
    model.eval()
    return steps
