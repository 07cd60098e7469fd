"""Issue 13's done-when: a CSV with string labels and a group column becomes a task with one YAML
file and no Python (validated with counts, then dense + recipes run), and a changed label in the
data file makes the next run recompute and `validate` reject the old record."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from benchmark.cli.main import main
from benchmark.records import read_record

GROUPS = ("women", "men", "muslims", "immigrants")
TASK = """\
name: posts
version: 1
description: hate / neutral posts about four target groups, from one CSV
source:
  loader: table
  params:
    data_files: data/posts.csv            # relative to this file
    columns: {text: post}                 # task column <- CSV column
    split: {test_fraction: 0.4, seed: 0, stratify_by: [label, target_group]}
family: encoder_cls
dense_model: tiny-bert
columns: {inputs: [text], label: label, classes: [neutral, hate]}
groups: {by: [target_group], include_label: true, min_size: 8}
splits: {train: train, test: test}
training: {lr: 1.0e-3, batch_size: 32, max_length: 24, eval_batch_size: 64}
profiles:
  quick: {epochs: 1, recipe_epochs: 1}
  full: {epochs: 2}
"""
RECIPES = ("dense", "prune-magnitude-40", "quant-int8-dynamic-fbgemm")


def write_task(folder) -> tuple:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(160):
        group = GROUPS[i % len(GROUPS)]
        label = "hate" if rng.random() < 0.5 else "neutral"
        word = rng.choice(["awful", "vile"]) if label == "hate" else rng.choice(["kind", "nice"])
        rows.append({"post": f"the {group} are {word} ({i})", "label": label, "target_group": group})
    (folder / "data").mkdir(parents=True)
    csv = folder / "data" / "posts.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    task = folder / "posts.yaml"
    task.write_text(TASK)
    return task, csv


def cli(capsys, *argv) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.fixture
def posts(tmp_path, monkeypatch, one_thread):
    monkeypatch.setenv("CSBENCH_CACHE", str(tmp_path / "cache"))   # a fresh dense cache: the test counts entries
    monkeypatch.chdir(tmp_path)    # relative paths must resolve against the task file, not the cwd
    task, csv = write_task(tmp_path / "mine")
    return task, csv, tmp_path


def run(capsys, task, tmp_path, *recipes):
    return cli(capsys, "run", "--tasks", task, "--recipes", *recipes, "--bootstrap", 50,
               "--results", tmp_path / "results", "--leaderboard", tmp_path / "board")


def test_a_csv_with_string_labels_becomes_a_task_and_runs(posts, capsys):
    task, csv, tmp_path = posts
    code, out = cli(capsys, "validate", task, "--load-data")
    assert code == 0, out
    assert "label=hate|target_group=women" in out and "label=neutral|target_group=men" in out
    counts = {line.split()[0]: line.split()[1:] for line in out.splitlines() if "|target_group=" in line
              and not line.strip().startswith("warning")}
    frame = pd.read_csv(csv)
    women_hate = int(((frame.target_group == "women") & (frame.label == "hate")).sum())
    assert sum(int(n) for n in counts["label=hate|target_group=women"]) == women_hate   # train + test
    # 40% of every label x group stratum goes to test (rounded)
    assert int(counts["label=hate|target_group=women"][1]) == round(0.4 * women_hate)

    code, out = run(capsys, task, tmp_path, *RECIPES)
    assert code == 0, out
    for recipe in RECIPES:
        record = read_record(tmp_path / "results" / "posts" / recipe / "seed0.json")
        assert record.group_names == sorted(f"label={c}|target_group={g}" for c in ("hate", "neutral") for g in GROUPS)
        assert len(record.task["data_fingerprint"]) == 16 and set(record.task["split_fingerprints"]) == {"train", "test"}
    assert cli(capsys, "validate", *(tmp_path / "results" / "posts").glob("*/seed0.json"))[0] == 0


def test_a_changed_label_means_recomputation_and_the_old_record_is_rejected(posts, capsys):
    task, csv, tmp_path = posts
    assert run(capsys, task, tmp_path, "dense")[0] == 0
    record_file = tmp_path / "results" / "posts" / "dense" / "seed0.json"
    old = read_record(record_file)
    kept = tmp_path / "old" / "seed0.json"     # the old record with its predictions, kept aside
    shutil.copytree(record_file.parent, kept.parent)
    dense_models = lambda: sorted(p.name for p in (tmp_path / "cache" / "dense").iterdir() if not p.name.startswith("."))
    assert len(dense_models()) == 1

    # unchanged data: the record is skipped
    code, out = run(capsys, task, tmp_path, "dense")
    assert code == 0 and "finished before" in out

    frame = pd.read_csv(csv)
    frame.loc[0, "label"] = "neutral" if frame.loc[0, "label"] == "hate" else "hate"   # one label, same path
    frame.to_csv(csv, index=False)

    code, out = cli(capsys, "validate", kept)
    assert code == 1 and "REJECTED" in out and "task.data_fingerprint is" in out, out
    assert read_record(kept).task["data_fingerprint"] == old.task["data_fingerprint"]

    code, out = run(capsys, task, tmp_path, "dense")
    assert code == 0 and "finished before" not in out, out
    new = read_record(record_file)
    assert new.run_id != old.run_id and new.task["data_fingerprint"] != old.task["data_fingerprint"]
    assert len(dense_models()) == 2            # the dense model was trained again, not taken from the cache
    assert new.model["dense_key"] != old.model["dense_key"]
    assert cli(capsys, "validate", record_file)[0] == 0


def test_validate_record_against_a_given_task_file(posts, capsys):
    task, csv, tmp_path = posts
    assert run(capsys, task, tmp_path, "dense")[0] == 0
    record_file = tmp_path / "results" / "posts" / "dense" / "seed0.json"
    copy = tmp_path / "copy.yaml"       # a copy that keeps the name but trains longer: another task
    copy.write_text(TASK.replace("quick: {epochs: 1", "quick: {epochs: 3").replace("data/posts.csv",
                                                                                  "mine/data/posts.csv"))
    code, out = cli(capsys, "validate", record_file, "--task", copy)
    assert code == 1 and "spec_hash does not match" in out
    assert cli(capsys, "validate", record_file, "--task", task)[0] == 0
    raw = json.loads(record_file.read_text())
    assert raw["task"]["file"] == str(task)


def test_image_paths_in_a_table_become_an_image_task_whose_fingerprint_follows_the_files(tmp_path, monkeypatch):
    from PIL import Image

    from benchmark.data.catalog import load_task
    from benchmark.data.dataset import load_task_data
    monkeypatch.setenv("CSBENCH_CACHE", str(tmp_path / "cache"))
    (tmp_path / "img").mkdir()
    rows = []
    for i in range(24):
        colour = ("red", "blue")[i % 2]
        Image.new("RGB", (12, 12), (200 * (i % 2), 40, i * 8)).save(tmp_path / "img" / f"{i}.png")
        rows.append({"path": f"{i}.png", "label": ("cat", "dog")[i % 3 == 0], "colour": colour})
    pd.DataFrame(rows).to_csv(tmp_path / "images.csv", index=False)
    (tmp_path / "images.yaml").write_text(
        "name: images\nversion: 1\nsource:\n  loader: table\n  params:\n    data_files: images.csv\n"
        "    image_column: path\n    image_root: img\n    image_size: 8\n"
        "    split: {test_fraction: 0.5, seed: 0, stratify_by: [label, colour]}\n"
        "family: resnet\ndense_model: tiny-resnet\n"
        "columns: {inputs: [path], label: label, classes: [cat, dog]}\n"
        "groups: {by: [colour], include_label: true}\nsplits: {train: train, test: test}\n"
        "profiles: {quick: {epochs: 1}, full: {epochs: 1}}\n")
    spec = load_task(str(tmp_path / "images.yaml"))
    data = load_task_data(spec)
    pixels = np.asarray(data.test.frame["path"].iloc[0])
    assert pixels.shape == (8, 8, 3) and pixels.dtype == np.uint8
    assert "label=dog|colour=red" in data.group_names
    assert load_task_data(spec).fingerprint == data.fingerprint          # the same files: the same hash
    name = next(p for p in data.train.frame["path"]).path                  # change one training image's pixels
    Image.new("RGB", (12, 12), (1, 2, 3)).save(name)
    again = load_task_data(spec)
    assert again.split_fingerprints["train"] != data.split_fingerprints["train"]
    assert again.split_fingerprints["test"] == data.split_fingerprints["test"]
