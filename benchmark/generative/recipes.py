"""Decoder-specific recipes (``applies_to=("decoder_lm",)``).

- ``distill-lm-keep{50,33}``: a DistilGPT2-style student, the dense decoder with {50,33}% of its
  blocks (every k-th, weights copied; the shared ``layer_dropped``), distilled on the decoder
  corpus with token-level KD at every position plus the language-modelling loss
  (alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE(next token)), DistilGPT2's
  soft-target + LM objective without its hidden-state cosine term.
- ``distill-hub-distilgpt2``: the published DistilGPT2 as the compressed version of a ``gpt2``
  dense model (Xu & Hu's comparison); needs the hub or a local copy, and the dense tokenizer.
- ``prune-lm-magnitude-{20,40,60}``: one-shot magnitude pruning with the same sparsity in every
  Linear of the decoder blocks (each layer by its own L1 threshold). This is the magnitude
  baseline of the LLM pruning literature (Sun et al., 2023, "Wanda"; Frantar & Alistarh, 2023):
  a single global threshold, as the encoder recipes use, empties whole low-norm projections of a
  deep decoder. Embeddings and the tied LM head stay dense (the shared ``prunable_weights``:
  every Linear of the backbone, i.e. of the decoder blocks).

Quantization (int8, int4) and global magnitude pruning come from the shared recipe modules.
"""
from __future__ import annotations

import functools

import torch

from benchmark.errors import RecipeUnavailable
from benchmark.generative.family import DECODER_LM, NAME as FAMILY
from benchmark.models.bundle import Bundle
from benchmark.recipes.base import RecipeContext, register_recipe
from benchmark.recipes.distill_losses import kd_loss
from benchmark.recipes.distill_students import encoder_layers, hub_unavailable_reason, layer_dropped
from benchmark.recipes.sparsity import layerwise_magnitude_prune, make_permanent, sparsity_report

KD_DEFAULTS = {"temperature": 2.0, "alpha": 0.5}


def sequence_kd_objective(teacher: torch.nn.Module, *, temperature: float, alpha: float):
    """``loss_fn(model, batch)``: KD + LM loss at every position whose next token is real."""
    teacher.eval()

    def loss(model, batch):
        student_logits = DECODER_LM.token_logits(model, batch)
        with torch.no_grad():
            teacher_logits = DECODER_LM.token_logits(teacher, batch)
        mask = batch["attention_mask"].bool()
        scored = mask[:, :-1] & mask[:, 1:]            # position t predicts token t + 1
        targets = batch["input_ids"][:, 1:][scored]
        return kd_loss(student_logits[:, :-1][scored], teacher_logits[:, :-1][scored].float(), targets,
                       temperature=temperature, alpha=alpha)
    return loss


def student_layers(teacher_layers: int, keep_percent: int) -> int:
    return max(1, round(teacher_layers * keep_percent / 100))


@register_recipe("distill-lm-keep{keep_percent}", family="distillation", applies_to=(FAMILY,), params=KD_DEFAULTS,
                 sweep={"keep_percent": [50, 33]})
def layer_dropped_lm(ctx: RecipeContext, keep_percent: int, temperature: float, alpha: float) -> Bundle:
    """Decoder with {keep_percent}% of its blocks (every k-th, DistilGPT2-style), distilled: token KD + LM loss."""
    teacher = ctx.dense.model
    total = len(encoder_layers(teacher))
    student = layer_dropped(ctx.dense, student_layers(total, keep_percent))
    objective = sequence_kd_objective(teacher, temperature=temperature, alpha=alpha)
    ctx.fine_tune(student, loss_fn=objective, desc=f"distill-lm-keep{keep_percent}")
    student.meta["notes"] = (f"kept teacher blocks {student.meta['kept_layers']} of {total}; distilled "
                             f"{ctx.budget.get('recipe_epochs')} epochs on {len(ctx.train_split)} corpus texts")
    return student


def hub_decoder_student(ctx: RecipeContext, model_id: str) -> Bundle:
    """A published student decoder, used as is (it must share the dense model's tokenizer)."""
    from benchmark.generative.models import load_pretrained
    reason = hub_unavailable_reason(model_id)
    if reason:
        raise RecipeUnavailable(reason)
    student = load_pretrained(model_id, model_id)
    if student.processor.get_vocab() != ctx.dense.processor.get_vocab():
        raise RecipeUnavailable(f"{model_id} does not share the dense model's tokenizer "
                                f"(dense: {ctx.dense.meta.get('base_model')}); use it with a gpt2 dense model")
    student.meta.update(init="pretrained", notes=f"published student {model_id}, not distilled here")
    return student


HUB_DECODER_STUDENTS = {"distilgpt2": "distilgpt2"}
for _slug, _hub_id in HUB_DECODER_STUDENTS.items():
    register_recipe(f"distill-hub-{_slug}", family="distillation", applies_to=(FAMILY,), params={"model_id": _hub_id},
                    description=f"the published {_hub_id} as the compressed gpt2 (Xu & Hu); needs the hub or a cache",
                    check=functools.partial(hub_unavailable_reason, _hub_id))(hub_decoder_student)


@register_recipe("prune-lm-magnitude-{sparsity}", family="pruning", applies_to=(FAMILY,),
                 sweep={"sparsity": [20, 40, 60]})
def layerwise_magnitude_lm(ctx: RecipeContext, sparsity: int) -> Bundle:
    """{sparsity}% of every decoder-block Linear weight zeroed by its own L1 threshold (one-shot, no recovery)."""
    bundle = ctx.dense.clone()
    layerwise_magnitude_prune(bundle.model, sparsity / 100)
    make_permanent(bundle.model)
    measured = sparsity_report(bundle.model).sparsity
    bundle.meta["notes"] = f"layer-wise magnitude, {measured:.1%} of decoder-block Linear weights zero, one-shot"
    return bundle


# llm-compressor's GPTQ / SmoothQuant / SparseGPT / Wanda settings (unavailable without the package).
from benchmark.generative import llmc_recipes as _llmc_recipes  # noqa: E402,F401
# bitsandbytes LLM.int8() and NF4 on its CPU backend (unavailable without the package).
from benchmark.generative import bnb_recipes as _bnb_recipes  # noqa: E402,F401
