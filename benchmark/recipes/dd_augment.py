"""Differentiable Siamese Augmentation (DSA; Zhao & Bilen, ICML 2021) for dataset distillation.

Every transform is differentiable in the pixels, so the synthetic images receive gradients through
it. "Siamese": one draw of the transform parameters is applied to the real and the synthetic batch
alike (and, as in the authors' batch mode, to every image of a batch), so the two embeddings or
gradients being matched see the same augmentation. As in their ``aug_mode='S'``, each call applies
one transform family, drawn uniformly from the strategy ``color_crop_cutout_flip_scale_rotate``.

Ranges are the authors' ``ParamDiffAug``: flip p=0.5, scale in [1/1.2, 1.2], rotation within
±15°, translation up to 12.5% of the side, a cutout of half the side, brightness ±0.5,
saturation x[0, 2], contrast x[0.5, 1.5].
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

STRATEGY = ("color", "crop", "cutout", "flip", "scale", "rotate")


@dataclass(frozen=True)
class DSAParams:
    prob_flip: float = 0.5
    ratio_scale: float = 1.2
    ratio_rotate: float = 15.0
    ratio_crop_pad: float = 0.125
    ratio_cutout: float = 0.5
    brightness: float = 1.0
    saturation: float = 2.0
    contrast: float = 0.5


def _affine(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    grid = F.affine_grid(theta.expand(x.shape[0], 2, 3).to(x.dtype), list(x.shape), align_corners=True)
    return F.grid_sample(x, grid, align_corners=True)


def _scale(x, r, p):
    sx, sy = (r(2) * (p.ratio_scale - 1 / p.ratio_scale) + 1 / p.ratio_scale).tolist()
    return _affine(x, torch.tensor([[[sx, 0.0, 0.0], [0.0, sy, 0.0]]]))


def _rotate(x, r, p):
    angle = (r(1).item() - 0.5) * 2 * p.ratio_rotate / 180 * math.pi
    c, s = math.cos(angle), math.sin(angle)
    return _affine(x, torch.tensor([[[c, s, 0.0], [-s, c, 0.0]]]))


def _flip(x, r, p):
    return x.flip(3) if r(1).item() < p.prob_flip else x


def _color(x, r, p):
    x = x + (r(1).item() - 0.5) * p.brightness
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (r(1).item() * p.saturation) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (r(1).item() + p.contrast) + mean


def _crop(x, r, p):
    """Translate by up to ``ratio_crop_pad`` of each side, zero-filling what enters the frame."""
    h, w = x.shape[2:]
    sh, sw = int(h * p.ratio_crop_pad + 0.5), int(w * p.ratio_crop_pad + 0.5)
    dy = int(r(1).item() * (2 * sh + 1)) - sh
    dx = int(r(1).item() * (2 * sw + 1)) - sw
    padded = F.pad(x, (sw, sw, sh, sh))
    return padded[:, :, sh + dy:sh + dy + h, sw + dx:sw + dx + w]


def _cutout(x, r, p):
    h, w = x.shape[2:]
    ch, cw = int(h * p.ratio_cutout + 0.5), int(w * p.ratio_cutout + 0.5)
    cy = int(r(1).item() * (h + (1 - ch % 2)))
    cx = int(r(1).item() * (w + (1 - cw % 2)))
    mask = torch.ones(h, w, dtype=x.dtype, device=x.device)
    mask[max(0, cy - ch // 2):max(0, cy - ch // 2 + ch), max(0, cx - cw // 2):max(0, cx - cw // 2 + cw)] = 0
    return x * mask


TRANSFORMS = {"color": _color, "crop": _crop, "cutout": _cutout, "flip": _flip, "scale": _scale, "rotate": _rotate}


class SiameseAugment:
    """``augment(seed, real, synthetic)``: the same random transform applied to each batch.

    ``seed`` fixes the draw, so a run is reproducible and the real and synthetic batches share it.
    """

    def __init__(self, strategy: tuple[str, ...] = STRATEGY, params: DSAParams = DSAParams()):
        unknown = set(strategy) - set(TRANSFORMS)
        if unknown:
            raise ValueError(f"unknown DSA transform(s) {sorted(unknown)}; known: {sorted(TRANSFORMS)}")
        self.strategy, self.params = tuple(strategy), params

    def __call__(self, seed: int, *batches: torch.Tensor) -> list[torch.Tensor]:
        if not self.strategy:
            return list(batches)
        out = []
        for x in batches:
            gen = torch.Generator().manual_seed(int(seed))   # restart per batch: identical draws
            draw = lambda n: torch.rand(n, generator=gen)   # noqa: E731
            name = self.strategy[int(draw(1).item() * len(self.strategy)) % len(self.strategy)]
            out.append(TRANSFORMS[name](x, draw, self.params).contiguous())
        return out
