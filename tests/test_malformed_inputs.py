"""A corpus of malformed inputs through the real CLI, in this process (`benchmark.cli.main.main`).

Every case asserts its exit code, one error line on stderr that names the file or field (or, for a
record whose claims fail validation, the documented REJECTED report), no traceback, and nothing written:
the files under the case's folder are byte-identical afterwards. Every case fails before any model is
built (the run cases before any data is loaded).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from benchmark.cli.main import main
from benchmark.records import file_sha256, predictions_path
from record_factory import valid_record

REPO = Path(__file__).resolve().parents[1]
SYNTHETIC = (REPO / "tasks" / "synthetic.yaml").read_text()
TOXICITY = (REPO / "tasks" / "toxicity_prompts.yaml").read_text()
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))


# ------------------------------------------------------------------ builders (each returns the path it made)

def text_file(name: str, content: str | bytes):
    def build(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return path
    return build


def task(edit, name: str = "task.yaml", base: str = SYNTHETIC, tail: str = ""):
    """A shipped task file, parsed, changed by ``edit(mapping)`` and written back (plus raw ``tail`` text)."""
    def build(tmp: Path) -> Path:
        mapping = yaml.safe_load(base)
        edit(mapping)
        return text_file(name, yaml.safe_dump(mapping) + tail)(tmp)
    return build


def setting(*keys_and_value):
    *keys, value = keys_and_value
    def edit(mapping):
        for key in keys[:-1]:
            mapping = mapping[key]
        mapping[keys[-1]] = value
    return edit


def delete(*keys):
    def edit(mapping):
        for key in keys[:-1]:
            mapping = mapping[key]
        del mapping[keys[-1]]
    return edit


def folder(name: str):
    def build(tmp: Path) -> Path:
        (tmp / name).mkdir()
        return tmp / name
    return build


def missing(name: str):
    return lambda tmp: tmp / name


def record(change=None, npz=None):
    """A valid record under tmp/results, then ``change(raw_json)`` and ``npz(npz_path, record_path)``."""
    def build(tmp: Path) -> Path:
        path = valid_record(tmp / "results")
        if change is not None:
            raw = json.loads(path.read_text())
            change(raw)
            path.write_text(json.dumps(raw))
        if npz is not None:
            npz(predictions_path(path), path)
        return path
    return build


def drop(key):
    return lambda raw: raw.pop(key)


def put(section, key, value):
    def change(raw):
        (raw if section is None else raw[section])[key] = value
    return change


def arrays_edit(edit):
    """Rewrite the predictions with ``edit(arrays)`` applied, and make the record name the new hash (so the
    check reaches the arrays themselves)."""
    def rewrite(npz_path: Path, record_path: Path):
        with np.load(npz_path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        edit(arrays)
        np.savez_compressed(npz_path, **arrays)
        _rehash(npz_path, record_path)
    return rewrite


def _rehash(npz_path: Path, record_path: Path):
    raw = json.loads(record_path.read_text())
    raw["predictions"]["sha256"] = file_sha256(npz_path)
    record_path.write_text(json.dumps(raw))


def npz_bytes(content: bytes):
    def rewrite(npz_path: Path, record_path: Path):
        npz_path.write_bytes(content)
        _rehash(npz_path, record_path)
    return rewrite


def npz_object_array(npz_path: Path, record_path: Path):
    with np.load(npz_path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["label"] = np.array([{"pickled": 1}] * 3, dtype=object)
    np.savez(npz_path, **arrays)   # a pickled array: np.load without allow_pickle refuses it
    _rehash(npz_path, record_path)


def npz_folder(npz_path: Path, record_path: Path):
    npz_path.unlink()
    npz_path.mkdir()


def set_array(name, value_fn):
    def edit(arrays):
        arrays[name] = value_fn(arrays)
    return edit


def recipe_file(name: str, body: str):
    return text_file(name, body)


def FILE_AS_DIR(tmp: Path) -> Path:   # a plain file where a folder is expected
    (tmp / "plain-file").write_text("x")
    return tmp / "plain-file"


# ------------------------------------------------------------------ the corpus
# (id, build(tmp) -> path, argv template ({p}: the built path, {tmp}: the case folder), exit code, needles)

VALIDATE = ["validate", "{p}"]
CASES = [
    # task files
    ("task-binary-garbage", text_file("g.yaml", bytes(range(256)) * 4), VALIDATE, 2, ["g.yaml", "UTF-8"]),
    ("task-nul-bytes", text_file("n.yaml", "name: x\x00\n"), VALIDATE, 2, ["n.yaml"]),
    ("task-empty", text_file("e.yaml", ""), VALIDATE, 2, ["e.yaml", "mapping"]),
    ("task-list", text_file("l.yaml", "- 1\n- 2\n"), VALIDATE, 2, ["l.yaml", "mapping"]),
    ("task-scalar", text_file("s.yaml", "42\n"), VALIDATE, 2, ["s.yaml", "mapping"]),
    ("task-alias-bomb", text_file("bomb.yaml", ALIAS_BOMB), VALIDATE, 2, ["bomb.yaml", "aliases"]),
    ("task-one-alias", task(lambda t: None, tail="extra: &v 1\nmore: *v\n"), VALIDATE, 2, ["task.yaml", "aliases"]),
    ("task-oversized", text_file("big.yaml", "# " + "x" * (1 << 20) + "\n"), VALIDATE, 2, ["big.yaml", "limit"]),
    ("task-is-folder", folder("dir.yaml"), VALIDATE, 2, ["dir.yaml", "folder"]),
    ("task-missing", missing("absent.yaml"), VALIDATE, 2, ["absent.yaml", "no such"]),
    ("task-bad-syntax", text_file("b.yaml", "name: [unclosed\n"), VALIDATE, 2, ["b.yaml", "not valid YAML"]),
    ("task-tab-indent", text_file("t.yaml", "name: x\n\tversion: 1\n"), VALIDATE, 2, ["t.yaml", "not valid YAML"]),
    ("task-python-tag", text_file("p.yaml", "name: !!python/object/apply:os.system ['echo hi']\n"), VALIDATE, 2,
     ["p.yaml", "not valid YAML"]),
    ("task-deep-nesting", text_file("d.yaml", "a: " + "[" * 20000 + "]" * 20000 + "\n"), VALIDATE, 2, ["d.yaml"]),
    ("task-name-dotdot", task(setting("name", "../../x")), VALIDATE, 2, ["task.yaml", "name"]),
    ("task-name-slash", task(setting("name", "a/b")), VALIDATE, 2, ["task.yaml", "name"]),
    ("task-name-space", task(setting("name", "a b")), VALIDATE, 2, ["task.yaml", "name"]),
    ("task-name-hidden", task(setting("name", ".hidden")), VALIDATE, 2, ["task.yaml", "name"]),
    ("task-name-int", task(setting("name", 123)), VALIDATE, 2, ["task.yaml", "name"]),
    ("task-name-html", task(setting("name", "</script>")), VALIDATE, 2, ["task.yaml", "name"]),
    ("task-version-text", task(setting("version", "one")), VALIDATE, 2, ["task.yaml", "version"]),
    ("task-unknown-key", task(setting("verison", 2)), VALIDATE, 2, ["task.yaml", "verison"]),
    ("task-family-unknown", task(setting("family", "quantum")), VALIDATE, 2, ["task.yaml", "family"]),
    ("task-no-columns", task(delete("columns")), VALIDATE, 2,
     ["task.yaml", "columns"]),
    ("task-groups-empty", task(setting("groups", "by", [])), VALIDATE, 2, ["task.yaml", "by"]),
    ("task-include-label-text", task(setting("groups", "include_label", "maybe")), VALIDATE, 2,
     ["task.yaml", "include_label"]),
    ("task-no-test-split", task(delete("splits", "test")), VALIDATE, 2,
     ["task.yaml", "test"]),
    ("task-no-quick-profile", task(delete("profiles", "quick")), VALIDATE, 2,
     ["task.yaml", "quick"]),
    ("task-track-list", task(setting("track", ["a", "b"])), VALIDATE, 2, ["task.yaml", "track"]),
    ("task-track-unknown", task(setting("track", "audio")), VALIDATE, 2, ["task.yaml", "track"]),
    ("task-loader-unknown", task(setting("source", "loader", "nope_loader")), VALIDATE, 2,
     ["task.yaml", "nope_loader"]),
    ("task-dense-model-unknown", task(setting("dense_model", "no-such-model")), VALIDATE, 2,
     ["task.yaml", "no-such-model"]),
    ("task-training-list", task(setting("training", [1, 2])), VALIDATE, 2, ["task.yaml", "training"]),
    ("task-negative-epochs", task(setting("profiles", "quick", "epochs", -2)), VALIDATE, 2, ["task.yaml", "epochs"]),
    ("task-zero-labels", task(setting("columns", "num_labels", 0)), VALIDATE, 2, ["task.yaml", "num_labels"]),
    ("generative-kind-unknown", task(setting("kind", "telepathy"), base=TOXICITY), VALIDATE, 2,
     ["task.yaml", "telepathy"]),
    ("generative-name-dotdot", task(setting("name", "../tox"), base=TOXICITY), VALIDATE, 2,
     ["task.yaml", "name"]),
    # record files that cannot be read as records (exit 2, one line)
    ("record-binary-garbage", text_file("seed0.json", bytes(range(256))), VALIDATE, 2, ["seed0.json", "UTF-8"]),
    ("record-empty", text_file("seed0.json", ""), VALIDATE, 2, ["seed0.json", "not valid JSON"]),
    ("record-truncated", text_file("seed0.json", '{"run_id": '), VALIDATE, 2, ["seed0.json", "not valid JSON"]),
    ("record-list", text_file("seed0.json", "[1, 2]"), VALIDATE, 2, ["seed0.json", "JSON object"]),
    ("record-null", text_file("seed0.json", "null"), VALIDATE, 2, ["seed0.json", "JSON object"]),
    ("record-string", text_file("seed0.json", '"hello"'), VALIDATE, 2, ["seed0.json", "JSON object"]),
    ("record-deep-nesting", text_file("seed0.json", "[" * 100000 + "]" * 100000), VALIDATE, 2, ["seed0.json"]),
    ("record-is-folder", folder("seed0.json"), VALIDATE, 2, ["seed0.json", "folder"]),
    ("record-missing", missing("seed0.json"), VALIDATE, 2, ["seed0.json", "no such file"]),
    *[(f"record-missing-{key}", record(drop(key)), VALIDATE, 2, ["seed0.json", key])
      for key in ("run_id", "track", "task", "model", "recipe", "seed", "profile", "metrics", "efficiency",
                  "group_names", "predictions", "provenance", "schema_version")],
    ("record-run-id-int", record(put(None, "run_id", 7)), VALIDATE, 2, ["seed0.json", "run_id"]),
    ("record-run-id-path", record(put(None, "run_id", "../../x")), VALIDATE, 2, ["seed0.json", "run_id"]),
    ("record-track-bogus", record(put(None, "track", "audio")), VALIDATE, 2, ["seed0.json", "track"]),
    ("record-profile-bogus", record(put(None, "profile", "medium")), VALIDATE, 2, ["seed0.json", "profile"]),
    ("record-seed-negative", record(put(None, "seed", -1)), VALIDATE, 2, ["seed0.json", "seed"]),
    ("record-seed-text", record(put(None, "seed", "0")), VALIDATE, 2, ["seed0.json", "seed"]),
    ("record-seed-bool", record(put(None, "seed", True)), VALIDATE, 2, ["seed0.json", "seed"]),
    ("record-schema-future", record(put(None, "schema_version", 3)), VALIDATE, 2, ["seed0.json", "schema_version"]),
    ("record-schema-old", record(put(None, "schema_version", 1)), VALIDATE, 2, ["seed0.json", "--migrate"]),
    ("record-unknown-field", record(put(None, "comment", "hi")), VALIDATE, 2, ["seed0.json", "comment"]),
    ("record-task-name-path", record(put("task", "name", "../x")), VALIDATE, 2, ["seed0.json", "task.name"]),
    ("record-recipe-name-slash", record(put("recipe", "name", "a/b")), VALIDATE, 2, ["seed0.json", "recipe.name"]),
    ("record-recipe-name-html", record(put("recipe", "name", "<script>x</script>")), VALIDATE, 2,
     ["seed0.json", "recipe.name"]),
    ("record-task-version-text", record(put("task", "version", "1")), VALIDATE, 2, ["seed0.json", "task.version"]),
    ("record-no-config-hash", record(lambda r: r["recipe"].pop("config_hash")), VALIDATE, 2,
     ["seed0.json", "config_hash"]),
    ("record-overall-list", record(lambda r: r["metrics"].update(overall=[])), VALIDATE, 2,
     ["seed0.json", "metrics.overall"]),
    ("record-group-names-ints", record(put(None, "group_names", [1, 2])), VALIDATE, 2,
     ["seed0.json", "group_names"]),
    ("record-predictions-file-int", record(lambda r: r["predictions"].update(file=5)), VALIDATE, 2,
     ["seed0.json", "predictions.file"]),
    ("record-predictions-file-empty", record(lambda r: r["predictions"].update(file="")), VALIDATE, 2,
     ["seed0.json", "predictions.file"]),
    ("record-predictions-sha-missing", record(lambda r: r["predictions"].pop("sha256")), VALIDATE, 2,
     ["seed0.json", "predictions.sha256"]),
    # predictions that are not this record's readable arrays (exit 2, one line)
    ("predictions-file-parent", record(lambda r: r["predictions"].update(file="../seed0.predictions.npz")), VALIDATE,
     2, ["seed0.json", "predictions.file"]),
    ("predictions-file-absolute", record(lambda r: r["predictions"].update(file="/etc/passwd")), VALIDATE, 2,
     ["seed0.json", "predictions.file"]),
    ("predictions-file-sibling", record(lambda r: r["predictions"].update(file="seed1.predictions.npz")), VALIDATE,
     2, ["seed0.json", "predictions.file"]),
    ("predictions-missing", record(npz=lambda n, r: n.unlink()), VALIDATE, 2, ["predictions.npz", "missing"]),
    ("predictions-garbage", record(npz=npz_bytes(b"PK\x03\x04 not a zip at all" * 10)), VALIDATE, 2,
     ["predictions.npz", "not a readable"]),
    ("predictions-folder", record(npz=npz_folder), VALIDATE, 2, ["predictions.npz", "plain file"]),
    ("predictions-pickled", record(npz=npz_object_array), VALIDATE, 2, ["predictions.npz", "not a readable"]),
    ("predictions-edited", record(npz=lambda n, r: n.write_bytes(n.read_bytes() + b"x")), VALIDATE, 2,
     ["predictions.npz", "hash"]),
    ("predictions-no-run-id", record(npz=arrays_edit(lambda a: a.pop("run_id"))), VALIDATE, 2,
     ["predictions.npz", "run id"]),
    ("predictions-other-run", record(npz=arrays_edit(set_array("run_id", lambda a: np.array("someoneelse")))),
     VALIDATE, 2, ["predictions.npz", "someoneelse"]),
    ("predictions-no-labels", record(npz=arrays_edit(lambda a: a.pop("label"))), VALIDATE, 2,
     ["seed0.json", "label"]),
    ("predictions-group-out-of-range", record(npz=arrays_edit(set_array("group", lambda a: a["group"] + 10))),
     VALIDATE, 2, ["seed0.json", "group ids"]),
    ("predictions-negative-group", record(npz=arrays_edit(set_array("group", lambda a: a["group"] - 5))),
     VALIDATE, 2, ["seed0.json", "group ids"]),
    ("predictions-short-logits", record(npz=arrays_edit(set_array("logits", lambda a: a["logits"][:-3]))),
     VALIDATE, 2, ["seed0.json", "logits"]),
    ("predictions-dense-shape", record(npz=arrays_edit(set_array("dense_logits", lambda a: a["dense_logits"][:, :1]))),
     VALIDATE, 2, ["seed0.json", "dense_logits"]),
    ("predictions-nan-logits", record(npz=arrays_edit(set_array("logits", lambda a: a["logits"] * np.nan))),
     VALIDATE, 2, ["seed0.json", "finite"]),
    ("predictions-label-out-of-range", record(npz=arrays_edit(set_array("label", lambda a: a["label"] + 7))),
     VALIDATE, 2, ["seed0.json", "labels"]),
    ("predictions-1d-logits", record(npz=arrays_edit(set_array("logits", lambda a: a["logits"][:, 0]))),
     VALIDATE, 2, ["seed0.json", "logits"]),
    ("predictions-text-labels", record(npz=arrays_edit(set_array("label", lambda a: a["label"].astype(str)))),
     VALIDATE, 2, ["seed0.json", "label"]),
    ("predictions-empty", record(npz=arrays_edit(lambda a: a.update({k: v[:0] for k, v in a.items() if v.ndim}))),
     VALIDATE, 2, ["seed0.json", "labels"]),
    # readable records whose claims are not what their predictions or task give (exit 1, REJECTED)
    ("claim-accuracy", record(lambda r: r["metrics"]["overall"].update(accuracy=0.999)), VALIDATE, 1,
     ["metrics.overall.accuracy"]),
    ("claim-tiny-edit", record(lambda r: r["metrics"]["overall"].update(
        accuracy=r["metrics"]["overall"]["accuracy"] * (1 + 1e-7))), VALIDATE, 1, ["metrics.overall.accuracy"]),
    ("claim-unknown-metric", record(lambda r: r["metrics"]["overall"].update(bonus=1.0)), VALIDATE, 1,
     ["metrics.overall.bonus"]),
    ("claim-metric-text", record(lambda r: r["metrics"]["overall"].update(accuracy="0.5")), VALIDATE, 1,
     ["metrics.overall.accuracy"]),
    ("claim-metric-null", record(lambda r: r["metrics"]["overall"].update(kl_mean=None)), VALIDATE, 1,
     ["metrics.overall.kl_mean"]),
    ("claim-group-not-object", record(lambda r: r["metrics"]["by_group"].update(
        {next(iter(r["metrics"]["by_group"])): 3})), VALIDATE, 1, ["metrics.by_group"]),
    ("claim-extra-section", record(lambda r: r["metrics"].update(bonus={})), VALIDATE, 1, ["metrics.bonus"]),
    ("claim-sparsity", record(lambda r: r["efficiency"].update(sparsity=0.99)), VALIDATE, 1, ["efficiency.sparsity"]),
    ("claim-parameters-float", record(lambda r: r["efficiency"].update(parameters=1000.5)), VALIDATE, 1,
     ["efficiency.parameters"]),
    ("claim-unknown-efficiency", record(lambda r: r["efficiency"].update(speedup=9.0)), VALIDATE, 1,
     ["efficiency.speedup"]),
    ("claim-throughput-negative", record(lambda r: r["efficiency"].update(examples_per_second=-3.0)), VALIDATE, 1,
     ["efficiency.examples_per_second"]),
    ("claim-unknown-task", record(put("task", "name", "no_such_task")), VALIDATE, 1, ["no_such_task"]),
    ("claim-task-version", record(put("task", "version", 9)), VALIDATE, 1, ["task.version"]),
    ("claim-floor", record(put("task", "group_min_size", 2)), VALIDATE, 1, ["group_min_size"]),
    # csbench run: flags and output folders, all refused before any data is loaded
    *[(f"run-bootstrap-{label}", lambda tmp: tmp, ["run", "--tasks", "synthetic", "--recipes", "dense",
                                                  "--bootstrap", value, "--results", "{tmp}/r", "--leaderboard",
                                                  "{tmp}/lb"], 2, ["--bootstrap"])
      for label, value in (("negative", "-5"), ("zero", "0"), ("huge", "1000000000"), ("text", "x"))],
    ("run-results-is-file", FILE_AS_DIR, ["run", "--tasks", "synthetic", "--recipes", "dense", "--results", "{p}",
                                          "--leaderboard", "{tmp}/lb"], 2, ["--results", "plain-file"]),
    ("run-results-under-file", FILE_AS_DIR, ["run", "--tasks", "synthetic", "--recipes", "dense", "--results",
                                             "{p}/sub", "--leaderboard", "{tmp}/lb"], 2, ["--results", "plain-file"]),
    ("run-leaderboard-is-file", FILE_AS_DIR, ["run", "--tasks", "synthetic", "--recipes", "dense", "--results",
                                              "{tmp}/r", "--leaderboard", "{p}"], 2, ["--leaderboard", "plain-file"]),
    ("run-task-garbage", text_file("g.yaml", bytes(range(256))), ["run", "--tasks", "{p}", "--recipes", "dense",
                                                                   "--results", "{tmp}/r", "--leaderboard", "{tmp}/lb"],
     2, ["g.yaml"]),
    ("run-task-alias-bomb", text_file("bomb.yaml", ALIAS_BOMB), ["run", "--tasks", "{p}", "--recipes", "dense",
                                                                 "--results", "{tmp}/r", "--leaderboard", "{tmp}/lb"],
     2, ["bomb.yaml", "aliases"]),
    ("run-task-name-escapes", task(setting("name", "../../escaped")),
     ["run", "--tasks", "{p}", "--recipes", "dense", "--results", "{tmp}/r", "--leaderboard", "{tmp}/lb"], 2,
     ["task.yaml", "name"]),
    ("run-task-unknown", lambda tmp: tmp, ["run", "--tasks", "bbqq", "--recipes", "dense", "--results", "{tmp}/r",
                                           "--leaderboard", "{tmp}/lb"], 2, ["bbqq"]),
    ("run-recipe-unknown", lambda tmp: tmp, ["run", "--tasks", "synthetic", "--recipes", "dens", "--results",
                                             "{tmp}/r", "--leaderboard", "{tmp}/lb"], 2, ["dens"]),
    ("run-recipe-file-missing", lambda tmp: tmp / "nope.py", ["run", "--tasks", "synthetic", "--recipes", "dense",
                                                              "--recipe-file", "{p}", "--results", "{tmp}/r",
                                                              "--leaderboard", "{tmp}/lb"], 2, ["nope.py"]),
    *[(f"run-recipe-file-{label}", recipe_file(f"corpus_{label.replace('-', '_')}.py", body),
       ["run", "--tasks", "synthetic", "--recipes", "dense", "--recipe-file", "{p}", "--results", "{tmp}/r",
        "--leaderboard", "{tmp}/lb"], 2, [f"corpus_{label.replace('-', '_')}.py"] + extra)
      for label, body, extra in (
          ("system-exit", "raise SystemExit(3)\n", ["SystemExit"]),
          ("runtime-error", "raise RuntimeError('boom')\n", ["boom"]),
          ("syntax-error", "def (:\n", ["SyntaxError"]),
          ("slash-name", "from benchmark.recipes import register_recipe\n"
                         "register_recipe('evil/x', family='pruning', applies_to=('encoder_cls',))(lambda ctx: ctx)\n",
           ["evil/x"]),
          ("duplicate-name", "from benchmark.recipes import register_recipe\n"
                             "register_recipe('dense', family='pruning', applies_to=('encoder_cls',))(lambda c: c)\n",
           ["already registered"]))],
    ("run-set-no-value", lambda tmp: tmp, ["run", "--tasks", "synthetic", "--recipes", "dense", "--set", "novalue",
                                           "--results", "{tmp}/r", "--leaderboard", "{tmp}/lb"], 2, ["--set"]),
    ("run-set-unknown-key", lambda tmp: tmp, ["run", "--tasks", "synthetic", "--recipes", "dense", "--set",
                                              "warp=9", "--results", "{tmp}/r", "--leaderboard", "{tmp}/lb"], 2,
     ["warp"]),
    ("run-seed-negative", lambda tmp: tmp, ["run", "--tasks", "synthetic", "--recipes", "dense", "--seeds", "-1",
                                            "--results", "{tmp}/r", "--leaderboard", "{tmp}/lb"], 2, ["seed"]),
    ("run-seed-text", lambda tmp: tmp, ["run", "--tasks", "synthetic", "--recipes", "dense", "--seeds", "one",
                                        "--results", "{tmp}/r", "--leaderboard", "{tmp}/lb"], 2, ["seed"]),
    ("run-profile-bogus", lambda tmp: tmp, ["run", "--tasks", "synthetic", "--recipes", "dense", "--profile", "huge",
                                            "--results", "{tmp}/r", "--leaderboard", "{tmp}/lb"], 2, ["--profile"]),
    ("run-nothing-named", lambda tmp: tmp, ["run", "--results", "{tmp}/r", "--leaderboard", "{tmp}/lb"], 2,
     ["--suite"]),
    ("run-suite-unknown", lambda tmp: tmp, ["run", "--suite", "galactic", "--results", "{tmp}/r", "--leaderboard",
                                            "{tmp}/lb"], 2, ["galactic"]),
    # csbench eval: names, checkpoints and folders, refused before a model is loaded or run
    *[(f"eval-name-{label}", lambda tmp: tmp, ["eval", "--task", "synthetic", "--model", "tiny-bert", "--name",
                                               value, "--results", "{tmp}/r"], 2, ["--name"])
      for label, value in (("dotdot", "../../x"), ("slash", "a/b"), ("empty", ""), ("html", "<b>x</b>"))],
    ("eval-hostile-checkpoint", lambda tmp: _hostile(tmp), ["eval", "--task", "synthetic", "--model", "{p}",
                                                            "--name", "evil", "--results", "{tmp}/r"], 2,
     ["config.json", "auto_map"]),
    ("eval-pickle-refused", text_file("model.pt", b"\x80\x04not really a pickle"),
     ["eval", "--task", "synthetic", "--model", "{p}", "--name", "m", "--results", "{tmp}/r"], 2,
     ["model.pt", "--trust-pickle"]),
    ("eval-results-is-file", FILE_AS_DIR, ["eval", "--task", "synthetic", "--model", "tiny-bert", "--name", "m",
                                           "--results", "{p}"], 2, ["--results", "plain-file"]),
    ("eval-seed-negative", lambda tmp: tmp, ["eval", "--task", "synthetic", "--model", "tiny-bert", "--name", "m",
                                             "--seed", "-1", "--results", "{tmp}/r"], 2, ["--seed"]),
    ("eval-task-garbage", text_file("g.yaml", b"\xff\xfe\x00"), ["eval", "--task", "{p}", "--model", "tiny-bert",
                                                                 "--name", "m", "--results", "{tmp}/r"], 2, ["g.yaml"]),
    ("eval-default-name-unsafe", folder("my checkpoint"), ["eval", "--task", "synthetic", "--model", "{p}",
                                                           "--results", "{tmp}/r"], 2, ["--name"]),
    # csbench leaderboard and validate usage
    ("leaderboard-out-is-file", FILE_AS_DIR, ["leaderboard", "--results", "{tmp}/r", "--out", "{p}"], 2,
     ["plain-file"]),
    ("validate-no-files", lambda tmp: tmp, ["validate"], 2, ["files"]),
    ("validate-text-file", text_file("notes.txt", "hello"), VALIDATE, 2, ["notes.txt", "not valid JSON"]),
]


def _hostile(tmp: Path) -> Path:
    checkpoint = tmp / "hostile"
    checkpoint.mkdir()
    (checkpoint / "hostile.py").write_text(f"open({str(tmp / 'marker')!r}, 'w').write('ran')\n")
    (checkpoint / "config.json").write_text(json.dumps({"model_type": "hostile", "auto_map": {
        "AutoConfig": "hostile.C", "AutoModelForSequenceClassification": "hostile.M"}}))
    return checkpoint


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir")
            for p in sorted(folder.rglob("*")) if "__pycache__" not in p.parts}


def test_the_corpus_is_large():
    assert len(CASES) >= 100 and len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("name, build, argv, code, needles", CASES, ids=[c[0] for c in CASES])
def test_malformed_input_gets_one_line_and_changes_nothing(tmp_path, capsys, monkeypatch, name, build, argv, code,
                                                           needles):
    made = build(tmp_path)
    before = _snapshot(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))   # a prompt, if anything asked, would get "yes"
    try:
        exit_code = main([part.format(p=made, tmp=tmp_path) for part in argv])
    except SystemExit as exc:
        exit_code = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert exit_code == code, (out, err)
    if code == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("csbench"), err
        report = lines[0]
    else:
        assert err == "" and "REJECTED" in out, (out, err)
        report = out
    for needle in needles:
        assert needle in report, (needle, report)
    assert _snapshot(tmp_path) == before        # nothing partial written, nothing cleaned up that was there
    assert not (tmp_path / "marker").exists()   # and no checkpoint code ran


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders; the check is for everyone else")
def test_read_only_results_is_refused_before_training(tmp_path, capsys):
    results = tmp_path / "ro"
    results.mkdir()
    results.chmod(0o555)
    try:
        code = main(["run", "--tasks", "synthetic", "--recipes", "dense", "--results", str(results),
                     "--leaderboard", str(tmp_path / "lb")])
    finally:
        results.chmod(0o755)
    err = capsys.readouterr().err
    assert code == 2 and "--results" in err and "not writable" in err and len(err.strip().splitlines()) == 1


def test_one_garbage_record_never_fails_the_leaderboard(tmp_path, capsys):
    results = tmp_path / "results"
    valid_record(results, recipe="good")
    (results / "synthetic" / "broken").mkdir()
    (results / "synthetic" / "broken" / "seed0.json").write_bytes(bytes(range(256)))
    shutil.copytree(results / "synthetic" / "good", results / "synthetic" / "copy")   # predictions of another run
    code = main(["leaderboard", "--results", str(results), "--out", str(tmp_path / "lb")])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in out + err
    board = (tmp_path / "lb" / "LEADERBOARD.md").read_text()
    assert "| good |" in board and "Rejected records" in board and "broken" in board
