"""CivilComments in the WILDS form (Koh et al. 2021), as used by Gee et al. (2023).

The data is WILDS's ``all_data_with_identities.csv``: one row per comment with ``comment_text``,
a ``split`` column (train / val / test), ``toxicity`` and per-identity scores in [0, 1]
(fractions of annotators). As in WILDS:

- label ``y = 1[toxicity >= 0.5]``;
- an identity is mentioned when its score is >= 0.5; ``identity_any`` is true when any of
  WILDS's eight identity columns is (male, female, LGBTQ, christian, muslim, other_religions,
  black, white). 2 labels x 2 = 4 groups.

Gee et al. grouped by the CSV's own ``identity_any`` column, which covers every annotated
identity (e.g. jewish, asian); ``identity_columns: [identity_any]`` reproduces that.

Sources, in order: ``data_files`` (local CSV/parquet in that schema) or ``hub_file``. The default
hub file is shlomihod/civil-comments-wilds, a copy of WILDS's CSV: google/civil_comments has no
identity columns and google/jigsaw_unintended_bias needs a manual Kaggle download.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.data.sources.tables import data_file_groups, load_hub, read_table
from benchmark.errors import BenchmarkError

HUB_FILE = "hf://datasets/shlomihod/civil-comments-wilds/all_data_with_identities.csv"
WILDS_IDENTITIES = ("male", "female", "LGBTQ", "christian", "muslim", "other_religions", "black", "white")
THRESHOLD = 0.5


def read_wilds_table(params: dict) -> pd.DataFrame:
    files = params.get("data_files")
    if files:
        # one table with WILDS's split column, or {split: file(s)} whose keys fill a missing split column
        parts = [read_table(f).pipe(lambda t, s=split: t if "split" in t.columns or not isinstance(files, dict)
                                    else t.assign(split=s))
                 for split, paths in data_file_groups(files).items() for f in paths]
        return pd.concat(parts, ignore_index=True)
    hub_file = params.get("hub_file", HUB_FILE)
    return next(iter(load_hub("csv", data_files=hub_file).values()))


def wilds_frame(table: pd.DataFrame, identity_columns: tuple[str, ...]) -> pd.DataFrame:
    """Raw WILDS columns -> text, label, identity_any, one boolean per identity, toxicity, split."""
    needed = ["comment_text", "split", "toxicity", *identity_columns]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise BenchmarkError(f"source civilcomments: data has no column(s) {', '.join(missing)} "
                             f"(expected WILDS's all_data_with_identities.csv schema)")
    scores = table[list(identity_columns)].astype(float).fillna(0.0)
    frame = pd.DataFrame({
        "text": table["comment_text"].fillna("").astype(str),
        "label": (table["toxicity"].astype(float) >= THRESHOLD).astype(np.int64),
        "identity_any": (scores >= THRESHOLD).any(axis=1),
        "toxicity": table["toxicity"].astype(float),
        "split": table["split"].astype(str),
    })
    for column in WILDS_IDENTITIES:  # per-identity flags, for finer groupings (WILDS evaluates each)
        if column in table.columns:
            frame[column] = table[column].astype(float).fillna(0.0) >= THRESHOLD
    return frame


def load_civilcomments(params: dict, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Splits train / val / test, as WILDS names them.

    Params: ``data_files`` (local file(s) in the WILDS schema), ``hub_file`` (an ``hf://`` path to
    such a CSV), ``identity_columns`` (the columns behind ``identity_any``; default WILDS's eight).
    """
    identity_columns = tuple(params.get("identity_columns") or WILDS_IDENTITIES)
    frame = wilds_frame(read_wilds_table(params), identity_columns)
    return {name: part.drop(columns="split").reset_index(drop=True)
            for name, part in frame.groupby("split", sort=False)}
