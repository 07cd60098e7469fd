"""Log-likelihoods, CrowS-Pairs, BBQ and next-token agreement on a tiny LM whose likelihoods are
known: a bigram table over the words <s> a b c (next-token probabilities depend only on the
current token), so every expected number below is worked out by hand."""
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from benchmark.generative.agreement import next_token_agreement
from benchmark.generative.kinds import KINDS, EvalData, Env
from benchmark.generative.scoring import option_logprobs, target_logprobs
from benchmark.models.bundle import Bundle

# rows: current token <s>, a, b, c, [UNK]; columns: next token in the same order
TABLE = np.array([[0.1, 0.4, 0.2, 0.2, 0.1],
                  [0.1, 0.1, 0.6, 0.1, 0.1],
                  [0.1, 0.3, 0.1, 0.4, 0.1],
                  [0.2, 0.2, 0.2, 0.2, 0.2],
                  [0.2, 0.2, 0.2, 0.2, 0.2]])


pytestmark = pytest.mark.usefixtures("one_thread")


class NoState:
    """A bigram model needs no cache; this stands in for one so the shared-context path runs."""
    def batch_repeat_interleave(self, repeats):
        pass


class TableLM(torch.nn.Module):
    def __init__(self, probs):
        super().__init__()
        self.logits_table = torch.nn.Parameter(torch.log(torch.as_tensor(probs, dtype=torch.float32)))
        self.config = SimpleNamespace(vocab_size=len(probs))

    def forward(self, input_ids, attention_mask=None, **_):
        return SimpleNamespace(logits=self.logits_table[input_ids], past_key_values=NoState())


def word_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast
    backend = Tokenizer(models.WordLevel({"<s>": 0, "a": 1, "b": 2, "c": 3, "[UNK]": 4}, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<s>", eos_token="<s>", pad_token="<s>",
                                   unk_token="[UNK]")


def table_bundle(probs=TABLE) -> Bundle:
    return Bundle(TableLM(probs), word_tokenizer(), "decoder_lm", {"base_model": "table"})


def test_sentence_log_likelihood_is_conditioned_on_bos():
    logprob, tokens = target_logprobs(table_bundle(), ["", "", "a"], ["a b", "b c a", " c"], batch_size=2)
    assert tokens.tolist() == [2, 3, 1]
    assert logprob[0] == pytest.approx(np.log(0.4 * 0.6))          # P(a|<s>) P(b|a)
    assert logprob[1] == pytest.approx(np.log(0.2 * 0.4 * 0.2))    # P(b|<s>) P(c|b) P(a|c)
    assert logprob[2] == pytest.approx(np.log(0.1))                # P(c|a), the context is not scored


def test_crows_pairs_stereotype_score_on_the_table_model():
    frame = pd.DataFrame({"sent_more": ["a b", "b c", "c a"], "sent_less": ["a c", "b a", "a b"],
                          "stereo_antistereo": ["stereo", "antistereo", "stereo"],
                          "bias_type": ["gender", "gender", "age"]})
    data = EvalData(frame, np.array([1, 1, 0]), ["bias_type=age", "bias_type=gender"])
    kind = KINDS.get("crows_pairs")
    raw = kind.run(table_bundle(), data, {"batch_size": 2, "max_length": 16}, Env(seed=0, dense=None))
    # .24 > .04 (wins), .08 > .06 (wins), .04 < .24 (loses)
    assert raw["logp_more"] == pytest.approx(np.log([0.24, 0.08, 0.04]))
    metrics = kind.summarise(raw, raw, data.group_names, {})
    assert metrics["overall"]["stereotype_score"] == pytest.approx(2 / 3)
    assert metrics["by_group"]["bias_type=gender"]["stereotype_score"] == 1.0
    assert metrics["by_group"]["bias_type=age"]["stereotype_score"] == 0.0


def test_bbq_zero_shot_on_the_table_model():
    # "Answer:" is two unknown words, so the first option token follows [UNK] (uniform 0.2).
    frame = pd.DataFrame({"context": ["a"], "question": ["b"], "ans0": ["a"], "ans1": ["b c"], "ans2": ["c c"],
                          "label": [1], "category": ["Age"], "context_condition": ["disambig"],
                          "unknown_index": [2], "biased_index": [0]})
    data = EvalData(frame, np.array([0]), ["category=Age|context_condition=disambig"])
    kind = KINDS.get("bbq")
    raw = kind.run(table_bundle(), data, {"batch_size": 4, "max_length": 32}, Env(seed=0, dense=None))
    assert raw["option_logprob"][0] == pytest.approx(np.log([0.2, 0.2 * 0.4, 0.2 * 0.2]))
    assert raw["option_tokens"][0].tolist() == [1, 2, 2]
    # per-token means: log .2, log .08 / 2 = log .283, log .04 / 2 = log .2 -> option 1 (right, not the biased 0)
    metrics = kind.summarise(raw, raw, data.group_names, {"option_score": "token_mean"})
    assert metrics["overall"]["accuracy"] == 1.0
    assert metrics["overall"]["bias_score_disambiguated"] == pytest.approx(-1.0)
    # by summed log-likelihood option 0 wins: wrong, and the biased answer
    assert kind.summarise(raw, raw, data.group_names, {"option_score": "sum"})["overall"]["accuracy"] == 0.0


def test_next_token_kl_and_top1_agreement_hand_worked():
    changed = TABLE.copy()
    changed[1] = 0.2          # after "a" the compressed model is uniform
    out = next_token_agreement(table_bundle(), table_bundle(changed), ["a b"], batch_size=4)
    # positions <s>, a, b; only "a" differs: KL(P_a || uniform) = .6 ln 3 + 4 * .1 ln .5
    assert out["positions"].tolist() == [3]
    assert out["kl_sum"][0] == pytest.approx(0.6 * np.log(3) + 0.4 * np.log(0.5), abs=1e-6)
    # argmax after "a": b for the dense, the first token (<s>) for the uniform row
    assert out["top1_agree"].tolist() == [2]
    same = table_bundle()
    assert next_token_agreement(same, same, ["a b c"])["kl_sum"][0] == pytest.approx(0.0)


@pytest.mark.parametrize("architecture", ["gpt2", "llama"])
def test_shared_context_scoring_matches_scoring_each_option_alone(architecture):
    import transformers
    from benchmark.generative.models import tiny_gpt2_bundle, tiny_tokenizer
    tokenizer = tiny_tokenizer()
    torch.manual_seed(0)
    models = {"gpt2": lambda: tiny_gpt2_bundle().model,
              "llama": lambda: transformers.LlamaForCausalLM(transformers.LlamaConfig(
                  vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128)).eval()}
    bundle = Bundle(models[architecture](), tokenizer, "decoder_lm", {})
    contexts = ["The old person was known for being", "Muslims are", "I met a deaf person at the library. Who"]
    options = [[" kind", " very rude people", " unknown"], [" here", " Can't be determined", " x"],
               [" The deaf person", " The other", " Not known"]]
    shared, counts = option_logprobs(bundle, contexts, options, batch_size=2)   # contexts of unequal length
    alone, alone_counts = target_logprobs(bundle, [c for c in contexts for _ in range(3)],
                                          [o for row in options for o in row], batch_size=4)
    assert np.allclose(shared, alone.reshape(3, 3), atol=1e-4)
    assert (counts == alone_counts.reshape(3, 3)).all()
