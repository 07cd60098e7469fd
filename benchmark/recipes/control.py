"""Noise-floor controls, registered and scored exactly like recipes.

They change nothing a compression would: what they flip is what a compressed row must exceed
before its flips or its worst-group change mean anything.

- ``dense-reseed``: the dense model trained again from another seed (Gee et al.: models of one
  size differ by initialisation alone), scored against this seed's dense model.
- ``dense-rebatch``: this seed's dense weights evaluated at another batch size and thread count
  (padding and reduction order change the floating-point sums).
"""
from __future__ import annotations

import torch

from benchmark.recipes.base import CLASSIFIERS, RecipeContext, register_recipe


def partner_seed(seed: int) -> int:
    """The seed whose dense model stands in for another initialisation: seeds cycle in threes
    (0->1, 1->2, 2->0, 3->4, ...), so a run over seeds 0, 1, 2 trains no extra dense model."""
    return seed - 2 if seed % 3 == 2 else seed + 1


@register_recipe("dense-reseed", family="control", applies_to=CLASSIFIERS)
def dense_reseed(ctx: RecipeContext):
    """The dense model of another seed (the cached one when it exists), scored against this seed's."""
    from benchmark.dense import get_dense   # the dense cache; imported late (it imports the trainer)
    other = partner_seed(ctx.seed)
    bundle = get_dense(ctx.data, ctx.data.spec.dense_model, ctx.budget, other).bundle
    bundle.meta["notes"] = f"dense model of seed {other}, scored against the dense model of seed {ctx.seed}"
    bundle.meta["unchanged_dense"] = True   # its cached test logits are its predictions
    return bundle


def rebatch_settings(budget: dict, threads: int) -> dict:
    """Another batch size (an odd one, so batches and their padding differ) and thread count."""
    batch = int(budget.get("eval_batch_size", 64))
    return {"batch_size": max(1, batch // 4) | 1, "threads": 1 if threads > 1 else 2}


@register_recipe("dense-rebatch", family="control", applies_to=CLASSIFIERS)
def dense_rebatch(ctx: RecipeContext):
    """The same dense weights, evaluated at another batch size and thread count."""
    settings = rebatch_settings(ctx.budget, torch.get_num_threads())
    ctx.dense.meta["eval_settings"] = settings
    ctx.dense.meta["notes"] = (f"the dense weights evaluated at batch size {settings['batch_size']} with "
                               f"{settings['threads']} thread(s)")
    return ctx.dense
