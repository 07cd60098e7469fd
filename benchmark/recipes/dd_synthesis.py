"""Pixel-space dataset distillation: learn a few synthetic images per class from a (core-set of a)
training set. Written from the papers, checked against the authors' code (VICO-UoE/DatasetCondensation):

- DM, distribution matching (Zhao & Bilen, WACV 2023): each iteration draws a *new randomly
  initialised* ConvNet and, per class c, minimises ||mean_i psi(A(x_real,i)) - mean_j psi(A(s_j))||^2
  over the synthetic images s of class c, psi = the ConvNet's embedding (features before the
  classifier), A = Siamese DSA (the same augmentation for both). SGD on the pixels, lr 1, momentum 0.5.
- DC, gradient matching (Zhao, Mopuri & Bilen, ICLR 2021): per outer step and class, make the
  gradient of the cross-entropy w.r.t. the network weights on the synthetic images match the one on
  a real batch (layer-wise distance: sum over output units of 1 - cosine; biases and norm parameters
  are left out), then train the network on the synthetic set for a few inner steps; a new random
  network every iteration. SGD on the pixels, lr 0.1, momentum 0.5; the network SGD, lr 0.01.

The synthesiser registry is the hook for other parameterisations: a synthesiser receives the real
images by class and the initial synthetic images and returns the learned ones. GLaD (Cazenavette et
al., 2023) and LD3M (Moser et al., 2024) optimise a pretrained generator's latents instead of pixels;
their generators (StyleGAN-XL, a latent diffusion model) come from the hub, so they cannot run offline
and are not registered.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from benchmark.recipes.dd_augment import STRATEGY, SiameseAugment
from benchmark.registry import Registry

# The papers' settings (DM: Zhao & Bilen 2023, sec. 4; DC: Zhao et al. 2021, sec. 4 and their code).
PAPER = {"dm": {"iterations": 20000, "batch_real": 256, "lr_img": 1.0, "width": 128},
         "dc": {"iterations": 1000, "batch_real": 256, "lr_img": 0.1, "lr_net": 0.01, "width": 128}}
# DC's outer (synthetic updates per network) and inner (network steps per outer step) loops by IPC.
DC_LOOPS = {1: (1, 1), 10: (10, 50), 20: (20, 25), 30: (30, 20), 40: (40, 15), 50: (50, 10)}


class ConvNet(nn.Module):
    """The distillation papers' ConvNet: depth x [conv3x3(width), instance norm, ReLU, avg-pool 2],
    then a linear classifier (instance norm = GroupNorm with one group per channel)."""

    def __init__(self, channels: int, num_classes: int, image_size: tuple[int, int], width: int = 128,
                 depth: int = 3):
        super().__init__()
        layers, h, w = [], *image_size
        for d in range(depth):
            layers += [nn.Conv2d(channels if d == 0 else width, width, 3, padding=1),
                       nn.GroupNorm(width, width, affine=True), nn.ReLU(inplace=True), nn.AvgPool2d(2, 2)]
            h, w = h // 2, w // 2
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(width * h * w, num_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.embed(x))


@dataclass(frozen=True)
class SynthesisConfig:
    iterations: int
    batch_real: int
    lr_img: float
    width: int = 128
    lr_net: float = 0.01
    dsa: tuple[str, ...] = STRATEGY
    seed: int = 0
    loops: tuple[int, int] | None = None   # DC's (outer, inner); None: the paper's table by IPC


@dataclass
class SynthesisLog:
    losses: list[float]          # matching loss per iteration (summed over classes)
    seconds_per_iteration: float = 0.0


Synthesiser = Callable[[dict[int, torch.Tensor], torch.Tensor, torch.Tensor, SynthesisConfig], SynthesisLog]
SYNTHESISERS: Registry[Synthesiser] = Registry("synthesiser")


def _real_batch(real: torch.Tensor, size: int, gen: torch.Generator) -> torch.Tensor:
    return real[torch.randperm(len(real), generator=gen)[:size]]


def _network(images: torch.Tensor, num_classes: int, config: SynthesisConfig, gen: torch.Generator) -> ConvNet:
    torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
    return ConvNet(images.shape[1], num_classes, tuple(images.shape[2:]), width=config.width)


@SYNTHESISERS.register("dm")
def distribution_matching(real: dict[int, torch.Tensor], synthetic: torch.Tensor, labels: torch.Tensor,
                          config: SynthesisConfig) -> SynthesisLog:
    """DM: updates ``synthetic`` (requires_grad) in place; returns the loss curve."""
    import time
    gen = torch.Generator().manual_seed(config.seed)
    augment = SiameseAugment(config.dsa)
    optimizer = torch.optim.SGD([synthetic], lr=config.lr_img, momentum=0.5)
    num_classes, losses = int(labels.max()) + 1, []
    start = time.perf_counter()
    for _ in range(config.iterations):
        net = _network(synthetic, num_classes, config, gen).train()
        net.requires_grad_(False)
        loss = synthetic.new_zeros(())
        for c, images in real.items():
            seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen))
            real_aug, syn_aug = augment(seed, _real_batch(images, config.batch_real, gen), synthetic[labels == c])
            with torch.no_grad():
                target = net.embed(real_aug).mean(0)
            loss = loss + ((target - net.embed(syn_aug).mean(0)) ** 2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return SynthesisLog(losses, (time.perf_counter() - start) / max(1, config.iterations))


def gradient_distance(real: list[torch.Tensor], synthetic: list[torch.Tensor]) -> torch.Tensor:
    """DC's layer-wise distance: per weight tensor, sum over output units of 1 - cos(g_real, g_syn);
    1-D tensors (biases, norm scales) contribute nothing, as in the authors' ``distance_wb``."""
    total = synthetic[0].new_zeros(())
    for g_real, g_syn in zip(real, synthetic):
        if g_real.dim() == 1:
            continue
        r, s = g_real.flatten(1), g_syn.flatten(1)
        total = total + (1 - (r * s).sum(-1) / (r.norm(dim=-1) * s.norm(dim=-1) + 1e-6)).sum()
    return total


@SYNTHESISERS.register("dc")
def gradient_matching(real: dict[int, torch.Tensor], synthetic: torch.Tensor, labels: torch.Tensor,
                      config: SynthesisConfig) -> SynthesisLog:
    """DC: updates ``synthetic`` (requires_grad) in place; returns the loss curve (per outer step)."""
    import time
    gen = torch.Generator().manual_seed(config.seed)
    augment = SiameseAugment(config.dsa)
    optimizer = torch.optim.SGD([synthetic], lr=config.lr_img, momentum=0.5)
    num_classes = int(labels.max()) + 1
    ipc = int((labels == labels[0]).sum())
    outer, inner = config.loops or DC_LOOPS.get(ipc, (max(1, ipc), max(1, 500 // max(1, ipc))))
    losses = []
    start = time.perf_counter()
    for _ in range(config.iterations):
        net = _network(synthetic, num_classes, config, gen).train()
        params = list(net.parameters())
        net_opt = torch.optim.SGD(params, lr=config.lr_net)
        for step in range(outer):
            loss = synthetic.new_zeros(())
            for c, images in real.items():
                seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen))
                real_aug, syn_aug = augment(seed, _real_batch(images, config.batch_real, gen), synthetic[labels == c])
                target = torch.full((len(real_aug),), c, dtype=torch.long)
                g_real = [g.detach() for g in torch.autograd.grad(F.cross_entropy(net(real_aug), target), params)]
                g_syn = torch.autograd.grad(F.cross_entropy(net(syn_aug), labels[labels == c]), params,
                                            create_graph=True)
                loss = loss + gradient_distance(g_real, g_syn)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
            if step == outer - 1:
                break
            frozen = synthetic.detach()
            for _ in range(inner):   # the network follows the current synthetic set (full batch: <= 500 images)
                (x,) = augment(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)), frozen)
                net_opt.zero_grad()
                F.cross_entropy(net(x), labels).backward()
                net_opt.step()
    return SynthesisLog(losses, (time.perf_counter() - start) / max(1, config.iterations))
