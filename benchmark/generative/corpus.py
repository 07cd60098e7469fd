"""The decoder corpus: the offline text decoder recipes train on and next-token KL is measured on.

No general English corpus ships offline, and CrowS-Pairs / BBQ are evaluation data, so the
corpus is *sampled from the dense model itself*: continuations of group-free topic openings
(``prompts.TOPIC_PROMPTS``). Distilling on it is sequence-level KD (Kim & Rush, 2016) plus
token-level KD, and the mean next-token KL on held-out samples estimates
E_{x ~ p_dense} [KL(p_dense(. | x_<t) || p_comp(. | x_<t))], the sequence-level divergence.
Every 4th topic is held out, so KL is measured on topics no recipe trained on.

As a task for the shared code, every text becomes one row: ``text`` = the text minus its last
token, ``label`` = that last token's id (``num_labels`` = vocabulary size), group = its topic.
The generated texts are cached per dense model and corpus settings.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from benchmark.cache import get_or_create
from benchmark.data.dataset import Split, TaskData
from benchmark.data.spec import GroupSpec, TaskSpec
from benchmark.generative.family import NAME as FAMILY
from benchmark.generative.prompts import TOPIC_PROMPTS
from benchmark.models.bundle import Bundle
from benchmark.records import stable_hash

CORPUS_VERSION = 2   # 2: NucleusSampler (generation.py)
CORPUS_SEED = 0          # part of the corpus definition, not of the model seed

# Per profile: corpus size and the training budget decoder recipes get (ctx.budget).
DECODER_PROFILES: dict[str, dict] = {
    "quick": {"corpus_samples": 8, "corpus_new_tokens": 48, "recipe_epochs": 3, "lr": 2e-4, "batch_size": 8,
              "max_length": 96, "eval_batch_size": 16, "warmup": 0.1, "weight_decay": 0.0},
    "full": {"corpus_samples": 32, "corpus_new_tokens": 96, "recipe_epochs": 3, "lr": 1e-4, "batch_size": 8,
             "max_length": 160, "eval_batch_size": 16, "warmup": 0.1, "weight_decay": 0.0},
    # tests: a tiny model on a few dozen short texts
    "tiny": {"corpus_samples": 2, "corpus_new_tokens": 12, "recipe_epochs": 1, "lr": 1e-3, "batch_size": 8,
             "max_length": 48, "eval_batch_size": 16, "warmup": 0.0, "weight_decay": 0.0},
}


@dataclass(frozen=True)
class CorpusConfig:
    samples: int            # continuations per topic opening
    new_tokens: int
    top_p: float = 0.95
    heldout_every: int = 4  # topics 3, 7, 11, ... are held out

    @classmethod
    def from_budget(cls, budget: dict) -> "CorpusConfig":
        return cls(samples=int(budget["corpus_samples"]), new_tokens=int(budget["corpus_new_tokens"]))


@dataclass
class CorpusTexts:
    texts: list[str]
    topics: list[str]
    heldout: list[bool]

    def split(self, heldout: bool) -> list[str]:
        return [t for t, h in zip(self.texts, self.heldout) if h == heldout]


def sample_corpus(dense: Bundle, config: CorpusConfig) -> CorpusTexts:
    from benchmark.generative.generation import Decoding, sample_continuations
    decoding = Decoding(samples=config.samples, max_new_tokens=config.new_tokens, top_p=config.top_p, batch_size=8)
    continuations = sample_continuations(dense, list(TOPIC_PROMPTS), decoding, seed=CORPUS_SEED)
    texts, topics, heldout = [], [], []
    for index, (topic, row) in enumerate(zip(TOPIC_PROMPTS, continuations)):
        for continuation in row:
            texts.append(topic + continuation)
            topics.append(topic)
            heldout.append(index % config.heldout_every == config.heldout_every - 1)
    return CorpusTexts(texts, topics, heldout)


def corpus_key(dense: Bundle, config: CorpusConfig) -> str:
    return stable_hash({"dense": dense.meta.get("dense_key", dense.meta.get("base_model")), "config": asdict(config),
                        "version": CORPUS_VERSION, "seed": CORPUS_SEED})


def cached_corpus(dense: Bundle, config: CorpusConfig) -> CorpusTexts:
    def create(folder):
        corpus = sample_corpus(dense, config)
        (folder / "corpus.json").write_text(json.dumps(
            {"texts": corpus.texts, "topics": corpus.topics, "heldout": corpus.heldout}))
    folder = get_or_create("decoder-corpus", corpus_key(dense, config), create)
    return CorpusTexts(**json.loads((folder / "corpus.json").read_text()))


def next_token_rows(tokenizer, texts: list[str], topics: list[str], max_length: int) -> pd.DataFrame:
    """(text minus its last token, that token's id, topic, full text). A row whose shortened text
    would not re-tokenise to the same ids (a token boundary inside a character) is left out."""
    rows = []
    for text, topic in zip(texts, topics):
        ids = tokenizer(text, add_special_tokens=False)["input_ids"][:max_length + 1]
        if len(ids) < 2:
            continue
        prefix = tokenizer.decode(ids[:-1])
        if tokenizer(prefix, add_special_tokens=False)["input_ids"] != ids[:-1]:
            continue
        rows.append((prefix, int(ids[-1]), topic, tokenizer.decode(ids)))
    return pd.DataFrame(rows, columns=["text", "label", "topic", "full_text"])


def corpus_task_data(dense: Bundle, corpus: CorpusTexts, budget: dict, profile: str) -> TaskData:
    """The corpus as a TaskData (train = training topics, test = held-out topics)."""
    vocab = int(dense.model.config.vocab_size)
    max_length = int(budget["max_length"])
    frames = {role: next_token_rows(dense.processor, [t for t, h in zip(corpus.texts, corpus.heldout) if h == held],
                                    [c for c, h in zip(corpus.topics, corpus.heldout) if h == held], max_length)
              for role, held in (("train", False), ("test", True))}
    names = sorted(set(corpus.topics))
    index = {n: i for i, n in enumerate(names)}
    spec = TaskSpec(
        name="decoder_corpus", version=CORPUS_VERSION,
        description="continuations sampled from the dense decoder on group-free topic openings",
        source="dense_samples", source_params=asdict(CorpusConfig.from_budget(budget)), family=FAMILY,
        dense_model=str(dense.meta.get("base_model", "")), inputs=("text",), label="label", num_labels=vocab,
        groups=GroupSpec(by=("topic",), include_label=False), splits={"train": "train", "test": "heldout"},
        profiles={profile: dict(budget)}, training={}, path="<decoder corpus>")
    splits = {role: Split(frame, frame["label"].to_numpy(dtype=np.int64),
                          frame["topic"].map(index).to_numpy(dtype=np.int64))
              for role, frame in frames.items()}
    return TaskData(spec=spec, splits=splits, group_names=[f"topic={n}" for n in names])
