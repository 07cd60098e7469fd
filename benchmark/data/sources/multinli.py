"""MultiNLI with the negation attribute, as in Sagawa et al. (2020) and Gee et al. (2023).

- Labels: contradiction=0, entailment=1, neutral=2 (the hub's nyu-mll/multi_nli numbers them
  entailment=0, neutral=1, contradiction=2, so they are remapped by name).
- Attribute ``sentence2_has_negation``: the hypothesis, with punctuation stripped and lowercased,
  contains one of the words nobody/no/never/nothing (Gururangan et al. 2018), exactly as Sagawa
  et al.'s generate_multinli.py computes it. 3 labels x 2 = 6 groups.

Online the data comes from the hub; offline, ``data_files`` names local files in the hub's schema.
The helpers for local tables and hub loading are shared with the CivilComments loader.
"""
from __future__ import annotations

import string

import numpy as np
import pandas as pd

from benchmark.data.sources.tables import load_hub, read_data_files
from benchmark.errors import BenchmarkError

HUB_ID = "nyu-mll/multi_nli"
HUB_LABELS = ("entailment", "neutral", "contradiction")          # the hub's ids 0, 1, 2
LABELS = {"contradiction": 0, "entailment": 1, "neutral": 2}     # Sagawa et al.'s ids
NEGATION_WORDS = frozenset({"nobody", "no", "never", "nothing"})
COLUMNS = ["premise", "hypothesis", "label", "sentence2_has_negation", "genre"]

def has_negation(sentences: pd.Series) -> np.ndarray:
    """Sagawa et al.'s test: strip punctuation, lowercase, split on spaces, look for a negation word."""
    table = str.maketrans("", "", string.punctuation)
    words = sentences.fillna("").astype(str).str.translate(table).str.lower().str.split(" ")
    return np.array([not NEGATION_WORDS.isdisjoint(w) for w in words], dtype=np.int64)


NO_GOLD_LABEL = ("-", "", "-1")      # MultiNLI's own marks for pairs whose annotators disagreed


def _label_name(value) -> str | None:
    """A label name, None for a pair without a gold label, or the value itself when it is not a label."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str):
        name = value.strip().lower()
        return None if name in NO_GOLD_LABEL else name
    if isinstance(value, (int, np.integer, float)) and float(value) == int(value):
        if int(value) == -1:
            return None
        return HUB_LABELS[int(value)] if 0 <= int(value) < len(HUB_LABELS) else str(value)
    return str(value)


def to_sagawa_labels(labels: pd.Series) -> pd.Series:
    """Hub ids (or label names, any case) -> Sagawa ids; rows without a gold label (-1, "-") become NaN.
    Any other value is an error, never a silently dropped row."""
    names = labels.map(_label_name)
    unknown = names.notna() & ~names.isin(list(LABELS))
    if unknown.any():
        value = labels[unknown].iloc[0]
        raise BenchmarkError(f"source multinli: label {value!r} ({int(unknown.sum())} row(s)) is not one of "
                             f"{', '.join(LABELS)} or the hub's ids 0-2 (-1 or '-' mark pairs without a gold label)")
    return names.map(LABELS)


def standardise(frame: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("premise", "hypothesis", "label") if c not in frame.columns]
    if missing:
        raise BenchmarkError(f"source multinli: data has no column(s) {', '.join(missing)} "
                             f"(expected the {HUB_ID} schema: premise, hypothesis, label)")
    labels = to_sagawa_labels(frame["label"])
    frame = frame.loc[labels.notna()].copy()  # the rows without a gold label
    frame["label"] = labels.loc[frame.index].astype(np.int64)
    frame["sentence2_has_negation"] = has_negation(frame["hypothesis"])
    if "genre" not in frame.columns:
        frame["genre"] = ""
    return frame[COLUMNS].reset_index(drop=True)


def random_resplit(splits: dict[str, pd.DataFrame], fractions: list[float], seed: int) -> dict[str, pd.DataFrame]:
    """Sagawa et al.'s "random" scheme: pool every split, shuffle, cut into train / val / test."""
    if len(fractions) != 3 or not np.isclose(sum(fractions), 1.0):
        raise BenchmarkError(f"source params: random_split needs 3 fractions summing to 1, got {fractions}")
    pooled = pd.concat(list(splits.values()), ignore_index=True)
    order = np.random.default_rng(seed).permutation(len(pooled))
    n = len(pooled)
    n_val, n_test = int(fractions[1] * n), int(fractions[2] * n)
    cuts = {"train": order[:n - n_val - n_test], "val": order[n - n_val - n_test:n - n_test], "test": order[n - n_test:]}
    return {name: pooled.iloc[np.sort(index)].reset_index(drop=True) for name, index in cuts.items()}


def load_multinli(params: dict, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Splits train / validation_matched / validation_mismatched (the hub's names).

    Params: ``hub_id`` (default nyu-mll/multi_nli), ``data_files`` ({split: local files in the hub's
    schema}, used instead of the hub), ``random_split`` ([train, val, test] fractions: pool all
    splits and re-split as Sagawa et al.'s metadata_random.csv, which Gee et al. used; [0.5, 0.2, 0.3]).
    """
    if params.get("data_files"):
        raw = read_data_files(params["data_files"])
    else:
        raw = load_hub(params.get("hub_id", HUB_ID), columns=["premise", "hypothesis", "label", "genre"])
    splits = {name: standardise(frame) for name, frame in raw.items()}
    if params.get("random_split"):
        splits = random_resplit(splits, list(params["random_split"]), int(params.get("seed", seed)))
    return splits
