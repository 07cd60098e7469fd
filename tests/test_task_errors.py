"""The malformed-input corpus of issue 13: task files, --set overrides and data files that users get
wrong, each of which must end in one line naming the file (or flag) and the field, and exit 2 --
never a traceback, never a silent default. Run in-process through the CLI's own main()."""
from __future__ import annotations

import copy

import pytest
import yaml

from benchmark.cli.main import main

VALID = {
    "name": "t", "version": 1, "source": {"loader": "synthetic_text", "params": {"train": 40, "test": 20}},
    "family": "encoder_cls", "dense_model": "tiny-bert",
    "columns": {"inputs": ["text"], "label": "label", "num_labels": 2},
    "groups": {"by": ["identity_any"]}, "splits": {"train": "train", "test": "test"},
    "profiles": {"quick": {"epochs": 1}, "full": {"epochs": 2}},
}
DELETE = object()


def changed(path: str, value) -> dict:
    raw = copy.deepcopy(VALID)
    *parents, key = path.split(".")
    target = raw
    for part in parents:
        target = target.setdefault(part, {})
    if value is DELETE:
        del target[key]
    else:
        target[key] = value
    return raw


def run_cli(capsys, *argv) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.err.strip()


def assert_one_line(code: int, err: str, *expected: str) -> None:
    assert code == 2, err
    assert err.startswith("csbench: error: ") and "\n" not in err and "Traceback" not in err, err
    for text in expected:
        assert text in err, err


# (dotted field, bad value, words the error must contain)
TASK_FILE_CASES = [
    ("traning", {"lr": 1e-3}, ["unknown field 'traning'", "did you mean 'training'"]),
    ("epoch", 1, ["unknown field 'epoch'", "did you mean 'epochs'", "training: or profiles"]),
    ("profiles.quick.train_sise", 10, ["'profiles.quick.train_sise'", "did you mean 'train_size'"]),
    ("profiles.quick.epochs", "two", ["'profiles.quick.epochs'", "must be a number, got 'two'"]),
    ("profiles.quick.epochs", -1, ["'profiles.quick.epochs'", "greater than 0"]),
    ("profiles.quick.batch_size", 0, ["'profiles.quick.batch_size'", "greater than or equal to 1"]),
    ("profiles.quick.lr", "fast", ["'profiles.quick.lr'", "must be a number, got 'fast'"]),
    ("profiles.quick.train_size", -5, ["'profiles.quick.train_size'", "greater than or equal to 1"]),
    ("profiles.quick.warmup", 1.5, ["'profiles.quick.warmup'", "less than 1"]),
    ("profiles.quick.mixed_precision", "bf17", ["'profiles.quick.mixed_precision'", "did you mean 'bf16'"]),
    ("profiles.quick.train_size", 2.5, ["'profiles.quick.train_size' must be int"]),
    ("training.max_length", True, ["'training.max_length' must be int, got bool"]),
    ("version", True, ["field 'version' must be int, got bool"]),
    ("version", 0, ["field 'version'", "greater than or equal to 1"]),
    ("version", "one", ["field 'version' must be int, got str"]),
    ("name", DELETE, ["missing field 'name'"]),
    ("profiles.full", DELETE, ["profiles: missing field 'full'"]),
    ("profiles.fast", {}, ["'profiles.fast'", "not one of 'quick' or 'full'"]),
    ("splits.test", DELETE, ["splits: missing field 'test'"]),
    ("splits.valid", "validation", ["'splits.valid'", "did you mean 'validation'"]),
    ("family", "encoder_cl", ["field 'family'", "Did you mean: encoder_cls"]),
    ("dense_model", "tiny-bertt", ["field 'dense_model'", "Did you mean: tiny-bert"]),
    ("dense_model", "resnet-small", ["field 'dense_model'", "does not serve family 'encoder_cls'"]),
    ("source.loader", "synthetic_txt", ["field 'source.loader'", "Did you mean: synthetic_text"]),
    ("source.loader", DELETE, ["source: missing field 'loader'"]),
    ("source.params.trian", 3, ["unknown parameter 'trian'", "did you mean 'train'"]),
    ("source.paramz", {}, ["unknown field 'source.paramz'", "did you mean 'params'"]),
    ("columns.inputs", "text", ["'columns.inputs' must be a list"]),
    ("columns.inputs", [], ["'columns.inputs'", "at least 1 item"]),
    ("columns.num_labels", 2.5, ["'columns.num_labels' must be int"]),
    ("columns.num_labels", 1, ["'columns.num_labels'", "greater than or equal to 2"]),
    ("columns.num_labels", DELETE, ["missing field 'num_labels' (or 'classes'"]),
    ("columns.classes", ["a", "a"], ["'columns.classes' names a class twice"]),
    ("columns.classes", ["a", "b", "c"], ["'columns.num_labels' is 2 but columns.classes names 3"]),
    ("columns.lable", "label", ["unknown field 'columns.lable'", "did you mean 'label'"]),
    ("groups.by", [], ["'groups.by'", "at least 1 item"]),
    ("groups.include_label", "yes", ["'groups.include_label' must be true or false"]),
    ("groups.min_size", 0, ["'groups.min_size'", "greater than or equal to 1"]),
    ("groups.min_size", "thirty", ["'groups.min_size' must be int"]),
    ("training", [1], ["field 'training' must be a mapping"]),
    ("track", "clasification", ["field 'track'"]),
]


@pytest.mark.parametrize("field, value, expected", TASK_FILE_CASES,
                         ids=[f"{f}={v!r}"[:60] for f, v, _ in TASK_FILE_CASES])
def test_malformed_task_file_is_one_line_from_plain_validate(tmp_path, capsys, field, value, expected):
    path = tmp_path / "task.yaml"
    path.write_text(yaml.safe_dump(changed(field, value)))
    code, err = run_cli(capsys, "validate", path)
    assert_one_line(code, err, str(path), *expected)


def test_the_valid_task_passes_plain_validate(tmp_path, capsys):
    path = tmp_path / "task.yaml"
    path.write_text(yaml.safe_dump(VALID))
    assert run_cli(capsys, "validate", path)[0] == 0


@pytest.mark.parametrize("text, expected", [
    ("name: t\nversion: 1\nsource: {loader: x\n", ["not valid YAML", "(line "]),
    ("- a\n- b\n", ["must be a mapping, got list"]),
    ("", ["must be a mapping, got NoneType"]),
])
def test_unreadable_task_file(tmp_path, capsys, text, expected):
    path = tmp_path / "task.yaml"
    path.write_text(text)
    assert_one_line(*run_cli(capsys, "validate", path), str(path), *expected)


@pytest.mark.parametrize("pair, expected", [
    ("train_sise=10", ["--set: unknown key 'train_sise'", "did you mean 'train_size'"]),
    ("data_files=x.csv", ["--set: unknown key 'data_files'"]),
    ("epochs=two", ["--set: field 'epochs'", "must be a number, got 'two'"]),
    ("batch_size=0", ["--set: field 'batch_size'", "greater than or equal to 1"]),
    ("train_size=-5", ["--set: field 'train_size'", "greater than or equal to 1"]),
    ("lr=fast", ["--set: field 'lr'", "must be a number"]),
    ("max_length=true", ["--set: field 'max_length' must be int, got bool"]),
    ("epochs", ["--set expects KEY=VALUE"]),
])
def test_bad_override_is_rejected_before_anything_runs(tmp_path, capsys, pair, expected):
    code, err = run_cli(capsys, "run", "--tasks", "synthetic", "--recipes", "dense", "--set", pair,
                        "--results", tmp_path / "r", "--leaderboard", tmp_path / "l")
    assert_one_line(code, err, *expected)
    assert not (tmp_path / "r").exists()


def test_generative_settings_are_checked_by_type(tmp_path, capsys):
    code, err = run_cli(capsys, "run", "--tasks", "crows_pairs", "--recipes", "dense", "--set", "pairs=many",
                        "--results", tmp_path / "r", "--leaderboard", tmp_path / "l")
    assert_one_line(code, err, "--set: field 'pairs'")


@pytest.mark.parametrize("argv", [["run", "--tasks", "synthetic", "--recipes", "dense", "--seeds", "-1"],
                                  ["eval", "--task", "synthetic", "--model", "x", "--seed", "-3"]])
def test_negative_seed_is_a_usage_error(capsys, argv):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "a seed is a whole number >= 0" in err and "Traceback" not in err


def test_override_values_keep_their_checked_types():
    from benchmark.data.spec import check_overrides
    assert check_overrides({"lr": "1e-5", "epochs": 2, "train_size": 10}) == {"lr": 1e-5, "epochs": 2,
                                                                            "train_size": 10}


# ---------------------------------------------------------------- data files (the table source)

GOOD_ROWS = "text,label,group\n" + "".join(f"row {i},{'hate' if i % 2 else 'neutral'},{'ab'[i % 3 == 0]}\n"
                                           for i in range(24))


def table_task(tmp_path, csv: str = GOOD_ROWS, params: dict | None = None, columns: dict | None = None,
               name: str = "posts.csv") -> object:
    (tmp_path / name).write_text(csv)
    raw = changed("source", {"loader": "table", "params": {
        "data_files": name, "split": {"test_fraction": 0.5, "seed": 0}, **(params or {})}})
    raw["columns"] = {"inputs": ["text"], "label": "label", "classes": ["neutral", "hate"], **(columns or {})}
    raw["groups"] = {"by": ["group"]}
    path = tmp_path / "task.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def with_cell(row: int, column: str, value: str) -> str:
    lines = GOOD_ROWS.splitlines()
    header = lines[0].split(",")
    cells = lines[row + 1].split(",")
    cells[header.index(column)] = value
    lines[row + 1] = ",".join(cells)
    return "\n".join(lines) + "\n"


# (csv text, source params, columns, words the error must contain); all found only when the data loads
DATA_CASES = {
    "text labels without class names": (GOOD_ROWS, None, {"classes": None, "num_labels": 2},
                                        ["label column 'label' holds text labels", "columns.classes"]),
    "a blank label": (with_cell(3, "label", ""), None, None, ["label column 'label' is blank or missing",
                                                              "data row 3 (0-based"]),
    "a blank group": (with_cell(5, "group", ""), None, None, ["group column 'group' is blank or missing",
                                                              "data row 5 (0-based"]),
    "a group of spaces": (with_cell(7, "group", "  "), None, None, ["group column 'group' is blank"]),
    "a label the classes do not list": (with_cell(2, "label", "Hate"), None, None,
                                        ["'Hate'", "did you mean 'hate'", "columns.classes does not list"]),
    "fractional label ids": (GOOD_ROWS.replace(",hate,", ",0.5,").replace(",neutral,", ",1,"), None,
                             {"classes": None, "num_labels": 2}, ["non-integer values"]),
    "label ids beyond num_labels": (GOOD_ROWS.replace(",hate,", ",7,").replace(",neutral,", ",1,"), None,
                                    {"classes": None, "num_labels": 2}, ["num_labels is 2", "[1, 7]"]),
    "an empty test split": (GOOD_ROWS, {"split": None, "split_column": "group"}, None,
                            ["splits: source 'table' has no split 'test'"]),
    "a header-only file": ("text,label,group\n", None, None, ["posts.csv: the file has no data rows"]),
    "a cut that leaves test empty": (GOOD_ROWS, {"split": {"test_fraction": 0.01}}, None,
                                     ["split 'test'", "the split has no rows"]),
    "an empty file": ("", None, None, ["posts.csv: cannot read as csv"]),
    "a renamed column that is not there": (GOOD_ROWS, {"columns": {"text": "tweet"}}, None,
                                           ["posts.csv", "names column(s) tweet"]),
    "a split column that is not there": (GOOD_ROWS, {"split": None, "split_column": "fold"}, None,
                                         ["split_column 'fold' is not a column"]),
    "a blank split value": (GOOD_ROWS.replace("row 4,", "row 4,").replace(",b\n", ",\n", 1),
                            {"split": None, "split_column": "group"}, None, ["split column 'group' is blank"]),
    "stratifying by a missing column": (GOOD_ROWS, {"split": {"test_fraction": 0.5, "stratify_by": ["grp"]}}, None,
                                        ["stratify_by names column(s) grp"]),
    "an input column the data lacks": (GOOD_ROWS, None, {"inputs": ["body"]}, ["has no column(s) body"]),
    "a missing data file": (GOOD_ROWS, {"data_files": "nope.csv"}, None, ["nope.csv: no such data file"]),
    "an image column naming missing files": (GOOD_ROWS, {"image_column": "text"}, None, ["no such image file"]),
}


@pytest.mark.parametrize("case", list(DATA_CASES))
def test_malformed_data_is_one_line_from_validate_load_data(tmp_path, capsys, case):
    csv, params, columns, expected = DATA_CASES[case]
    path = table_task(tmp_path, csv, params, columns)
    assert run_cli(capsys, "validate", path)[0] == 0          # the file itself is fine: the data is not
    code, err = run_cli(capsys, "validate", path, "--load-data")
    assert_one_line(code, err, *expected)


# found from the task file alone, before any data is read
TABLE_PARAM_CASES = {
    "data_files and hub_id": ({"hub_id": "org/posts"}, ["exactly one of data_files (local files) or hub_id"]),
    "an unsupported extension": ({"data_files": "posts.txt"}, ["has an unsupported extension"]),
    "a test fraction of 1.5": ({"split": {"test_fraction": 1.5}}, ["split.test_fraction must be a number in (0, 1)"]),
    "split and split_column": ({"split_column": "group"}, ["give split_column", "not both"]),
    "a renaming that is not a mapping": ({"columns": ["text"]}, ["columns must map task column names"]),
    "an unknown table parameter": ({"split_colum": "group"}, ["unknown parameter 'split_colum'",
                                                              "did you mean 'split_column'"]),
    "a bad format": ({"format": "xlsx"}, ["format must be one of"]),
}


@pytest.mark.parametrize("case", list(TABLE_PARAM_CASES))
def test_bad_table_parameters_fail_plain_validate(tmp_path, capsys, case):
    params, expected = TABLE_PARAM_CASES[case]
    code, err = run_cli(capsys, "validate", table_task(tmp_path, params=params))
    assert_one_line(code, err, "task.yaml", *expected)


def test_multinli_rejects_a_label_it_does_not_know_and_reads_any_case(tmp_path):
    from benchmark.data.sources.multinli import to_sagawa_labels
    from benchmark.errors import BenchmarkError
    import pandas as pd
    assert to_sagawa_labels(pd.Series(["Neutral", "entailment", "-", 2])).tolist()[:2] == [2.0, 1.0]
    with pytest.raises(BenchmarkError, match="label 'maybe' \\(1 row\\(s\\)\\) is not one of"):
        to_sagawa_labels(pd.Series(["neutral", "maybe"]))


def test_a_named_recipe_that_does_not_apply_says_so(tmp_path, capsys):
    code = main(["run", "--tasks", "synthetic", "--recipes", "distill-kd-resnet-w50",
                 "--results", str(tmp_path / "r"), "--leaderboard", str(tmp_path / "l")])
    out = capsys.readouterr().out
    assert code == 0
    assert "distill-kd-resnet-w50" in out and "not applicable (it applies to resnet models; this task has " \
                                             "encoder_cls models)" in out
