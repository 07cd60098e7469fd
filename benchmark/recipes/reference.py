"""The dense reference: every task's baseline row, scored by the same path as the recipes."""
from benchmark.recipes.base import CLASSIFIERS, RecipeContext, register_recipe


@register_recipe("dense", family="reference", applies_to=CLASSIFIERS + ("decoder_lm",))
def dense(ctx: RecipeContext):
    """The uncompressed, fine-tuned dense model (the reference for gaps, flips and KL)."""
    ctx.dense.meta["unchanged_dense"] = True   # its cached test logits are its predictions
    return ctx.dense
