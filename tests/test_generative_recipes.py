"""The decoder_lm family and the decoder recipes on a tiny random GPT-2 (tests/conftest.py's
tiny_context("decoder_lm"))."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from benchmark.errors import RecipeUnavailable
from benchmark.generative import recipes as decoder_recipes
from benchmark.generative.family import DECODER_LM
from benchmark.models.families import MODEL_FAMILIES
from benchmark.models.inference import predict_logits
from benchmark.recipes.sparsity import prunable_weights
from benchmark.recipes import RECIPES
from conftest import tiny_context

DECODER_RECIPES = [n for n in RECIPES.names() if "decoder_lm" in RECIPES.get(n).applies_to]


pytestmark = pytest.mark.usefixtures("one_thread")


def test_family_gives_next_token_logits_at_the_last_real_token():
    ctx = tiny_context("decoder_lm")
    assert MODEL_FAMILIES.get("decoder_lm") is DECODER_LM
    split = ctx.data.test
    logits = predict_logits(ctx.dense, split, ctx.inputs, batch_size=4, max_length=48)
    assert logits.shape == (len(split), ctx.data.spec.num_labels) == (len(split), ctx.dense.model.config.vocab_size)
    # row 0 alone, unpadded: its last position's logits
    ids = ctx.dense.processor(split.frame["text"][0], add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        alone = ctx.dense.model(input_ids=ids).logits[0, -1]
    assert np.allclose(logits[0], alone.numpy(), atol=1e-4)


def test_corpus_rows_are_text_then_its_next_token():
    ctx = tiny_context("decoder_lm")
    tokenizer = ctx.dense.processor
    frame = ctx.data.train.frame
    assert len(frame) > 20 and len(ctx.data.test) > 0
    for text, label, full in zip(frame["text"][:5], frame["label"][:5], frame["full_text"][:5]):
        assert tokenizer(full, add_special_tokens=False)["input_ids"] == \
            tokenizer(text, add_special_tokens=False)["input_ids"] + [label]
    train_topics = set(frame["topic"])
    assert train_topics.isdisjoint(set(ctx.data.test.frame["topic"]))   # KL is measured on unseen topics


@pytest.mark.parametrize("name", DECODER_RECIPES)
def test_decoder_recipe_gives_finite_next_token_logits(name):
    recipe = RECIPES.get(name)
    ctx = tiny_context("decoder_lm")
    before = [p.detach().clone() for p in ctx.dense.model.parameters()]
    reason = recipe.unavailable_reason()
    if reason:
        with pytest.raises(RecipeUnavailable):
            recipe.apply(ctx)
        pytest.skip(f"unavailable here: {reason}")
    compressed = recipe.apply(ctx)
    logits = predict_logits(compressed, ctx.data.test, ctx.inputs, batch_size=8, max_length=48)
    assert logits.shape == (len(ctx.data.test), ctx.data.spec.num_labels) and np.isfinite(logits).all()
    assert all(torch.equal(a, b.detach()) for a, b in zip(before, ctx.dense.model.parameters()))


def test_sequence_kd_objective_is_the_lm_loss_when_student_equals_teacher():
    ctx = tiny_context("decoder_lm")
    batch = next(DECODER_LM.batches(ctx.dense, ctx.train_split, ctx.inputs, 4, max_length=48))
    loss = decoder_recipes.sequence_kd_objective(ctx.dense.model, temperature=2.0, alpha=0.5)(ctx.dense.model, batch)
    with torch.no_grad():
        logits = ctx.dense.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    mask = batch["attention_mask"].bool()
    scored = mask[:, :-1] & mask[:, 1:]
    ce = F.cross_entropy(logits[:, :-1][scored], batch["input_ids"][:, 1:][scored])
    assert loss.item() == pytest.approx(0.5 * ce.item(), rel=1e-4)   # the KD term of identical models is 0


def test_layer_dropped_student_keeps_every_other_block():
    ctx = tiny_context("decoder_lm")
    student = RECIPES.get("distill-lm-keep50").apply(ctx)
    assert student.model.config.num_hidden_layers == 1 and len(student.model.transformer.h) == 1
    assert student.meta["kept_layers"] == [1]
    assert "distilled" in student.meta["notes"]


def test_layerwise_magnitude_prunes_each_linear_to_the_same_share():
    ctx = tiny_context("decoder_lm")
    pruned = RECIPES.get("prune-lm-magnitude-40").apply(ctx)
    for module, name in prunable_weights(pruned.model):
        assert float((getattr(module, name) == 0).float().mean()) == pytest.approx(0.4, abs=0.01)
    assert torch.equal(pruned.model.transformer.wte.weight, ctx.dense.model.transformer.wte.weight)


def test_gpt2_conv1d_becomes_an_equivalent_linear():
    from transformers import GPT2Config, GPT2LMHeadModel
    from benchmark.generative.models import conv1d_to_linear
    torch.manual_seed(0)
    original = GPT2LMHeadModel(GPT2Config(vocab_size=50, n_embd=16, n_layer=1, n_head=2)).eval()
    ids = torch.randint(0, 50, (2, 7))
    with torch.no_grad():
        before = original(input_ids=ids).logits
        converted = conv1d_to_linear(original)
        after = converted(input_ids=ids).logits
    assert torch.allclose(before, after, atol=1e-5)
    assert isinstance(converted.transformer.h[0].attn.c_attn, torch.nn.Linear)


def test_hub_student_needs_the_dense_tokenizer(tmp_path):
    from transformers import GPT2Config, GPT2LMHeadModel
    ctx = tiny_context("decoder_lm")
    same = tmp_path / "same-tokenizer"
    GPT2LMHeadModel(GPT2Config(vocab_size=len(ctx.dense.processor), n_embd=16, n_layer=1, n_head=2)).save_pretrained(same)
    ctx.dense.processor.save_pretrained(same)
    student = decoder_recipes.hub_decoder_student(ctx, str(same))
    assert student.meta["init"] == "pretrained" and student.family == "decoder_lm"
    other = tmp_path / "other-tokenizer"
    GPT2LMHeadModel(GPT2Config(vocab_size=500, n_embd=16, n_layer=1, n_head=2)).save_pretrained(other)
    from benchmark.generative.models import tiny_tokenizer
    tiny_tokenizer(vocab_size=300).save_pretrained(other)
    with pytest.raises(RecipeUnavailable, match="tokenizer"):
        decoder_recipes.hub_decoder_student(ctx, str(other))
    # offline and not cached: the registered setting says why instead of trying the network
    assert "HF_HUB_OFFLINE" in (RECIPES.get("distill-hub-distilgpt2").unavailable_reason() or "HF_HUB_OFFLINE")
