"""The guarantees of BENCHMARK.md §5, one test each: no checkpoint code runs; names and paths stay inside
results/; a record is finished only when its predictions and claims check out (run recomputes it otherwise,
the leaderboard lists it as rejected); no kill point of a --force rewrite leaves a record that looks
finished; everything that changes the numbers is in the run id; temp leftovers are removed; files honour
the umask; every committed record validates."""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmark.cli.main import main
from benchmark.data.catalog import load_task
from benchmark.errors import BenchmarkError
from benchmark.names import check_name, inside
from benchmark import records
from benchmark.records import predictions_path, read_record, record_path, sweep_results, write_record
from benchmark.validation import check_record, is_finished, load_verified, verify
from record_factory import prediction_arrays, valid_record

REPO = Path(__file__).resolve().parents[1]


def cli(argv, capsys, stdin: str | None = None):
    """csbench in this process: (exit code, stdout, stderr)."""
    old_stdin = sys.stdin
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:   # argparse's own exits
        code = exc.code
    finally:
        sys.stdin = old_stdin
    out, err = capsys.readouterr()
    return code, out, err


def edit(path: Path, change) -> None:
    raw = json.loads(path.read_text())
    change(raw)
    path.write_text(json.dumps(raw))


# ------------------------------------------------------------------ 1. no checkpoint code, ever

HOSTILE_MODULE = '''
from pathlib import Path
Path({marker!r}).write_text("custom code ran")
from transformers import PretrainedConfig
class HostileConfig(PretrainedConfig):
    model_type = "hostile"
'''


def hostile_checkpoint(folder: Path, marker: Path, config_file: str = "config.json") -> Path:
    folder.mkdir(parents=True)
    (folder / "hostile.py").write_text(HOSTILE_MODULE.format(marker=str(marker)))
    auto_map = {"AutoConfig": "hostile.HostileConfig", "AutoModelForSequenceClassification": "hostile.HostileModel",
                "AutoTokenizer": ["hostile.HostileTokenizer", None]}
    (folder / "config.json").write_text(json.dumps({"model_type": "hostile", "num_labels": 2}))
    existing = json.loads((folder / config_file).read_text()) if (folder / config_file).exists() else {}
    (folder / config_file).write_text(json.dumps({**existing, "auto_map": auto_map}))
    return folder


@pytest.mark.parametrize("config_file", ["config.json", "tokenizer_config.json"])
def test_hostile_checkpoint_runs_nothing_even_when_the_user_says_yes(tmp_path, capsys, config_file):
    marker = tmp_path / "marker"
    model = hostile_checkpoint(tmp_path / "evil", marker, config_file)
    code, out, err = cli(["eval", "--task", "synthetic", "--model", model, "--name", "evil",
                          "--results", tmp_path / "results"], capsys, stdin="y\ny\ny\n")
    assert code == 2 and not marker.exists()
    assert err.count("\n") == 1 and config_file in err and "auto_map" in err and "Traceback" not in err
    assert not (tmp_path / "results").exists()


def test_transformers_itself_refuses_the_hostile_config_without_prompting(tmp_path, monkeypatch):
    """Every load passes trust_remote_code=False: transformers then refuses instead of asking."""
    import transformers
    from benchmark.models.remote_code import NO_REMOTE_CODE
    marker = tmp_path / "marker"
    model = hostile_checkpoint(tmp_path / "evil", marker)
    monkeypatch.setattr("builtins.input", lambda *a: pytest.fail("transformers prompted"))
    with pytest.raises(ValueError):
        transformers.AutoConfig.from_pretrained(str(model), **NO_REMOTE_CODE)
    assert not marker.exists()


def test_every_pretrained_load_in_the_package_passes_trust_remote_code_false():
    """A source check: each from_pretrained call names NO_REMOTE_CODE or trust_remote_code=False within
    its call (the line and the next)."""
    offenders = []
    for path in (REPO / "benchmark").rglob("*.py"):
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines, 1):
            if ".from_pretrained(" in line and "def " not in line:
                call = line + (lines[number] if number < len(lines) else "")
                if "NO_REMOTE_CODE" not in call and "trust_remote_code=False" not in call:
                    offenders.append(f"{path.relative_to(REPO)}:{number}")
    assert offenders == []


# ------------------------------------------------------------------ 2. names and paths

@pytest.mark.parametrize("name", ["../../x", "a/b", "..", ".hidden", "a b", "</script>", "x\ny", "", "a\\b",
                                  "ok..no", "-flag", "é"])
def test_unsafe_names_are_refused(name):
    with pytest.raises(BenchmarkError, match="not a valid name"):
        check_name(name, "recipe name")


def test_safe_names_pass():
    for name in ("dense", "prune-magnitude-40", "quant-int8_x", "gpt2+lora", "v1.2"):
        assert check_name(name, "name") == name


def test_recipe_name_with_slash_cannot_be_registered():
    from benchmark.recipes import register_recipe
    with pytest.raises(BenchmarkError, match="not a valid name"):
        register_recipe("evil/../../x", family="pruning", applies_to=("encoder_cls",))(lambda ctx: ctx.dense)


def test_task_named_outside_results_is_refused(tmp_path, capsys):
    text = (REPO / "tasks" / "synthetic.yaml").read_text().replace("name: synthetic", "name: ../../escaped")
    (tmp_path / "escape.yaml").write_text(text)
    code, _, err = cli(["run", "--tasks", tmp_path / "escape.yaml", "--recipes", "dense",
                        "--results", tmp_path / "results", "--leaderboard", tmp_path / "lb"], capsys)
    assert code == 2 and "field 'name'" in err and err.count("\n") == 1
    assert not (tmp_path / "results").exists() and not (tmp_path.parent / "escaped").exists()


def test_eval_name_outside_results_is_refused(tmp_path, capsys):
    code, _, err = cli(["eval", "--task", "synthetic", "--model", "tiny-bert", "--name", "../../x",
                        "--results", tmp_path / "results"], capsys)
    assert code == 2 and "--name" in err and err.count("\n") == 1 and not (tmp_path / "results").exists()


def test_output_path_through_a_symlink_out_of_results_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "synthetic").symlink_to(outside)
    with pytest.raises(BenchmarkError, match="resolves outside"):
        record_path(tmp_path / "results", "synthetic", "dense", 0)
    assert inside(tmp_path / "results", "a", "b") == tmp_path / "results" / "a" / "b"


@pytest.mark.parametrize("named", ["../seed0.predictions.npz", "/etc/passwd", "", "other.npz", 7, None])
def test_predictions_file_is_only_ever_the_fixed_name_beside_the_record(tmp_path, monkeypatch, named):
    path = valid_record(tmp_path / "results")
    edit(path, lambda raw: raw["predictions"].update(file=named))
    opened = []
    monkeypatch.setattr(records, "file_sha256", lambda p: opened.append(p) or "x")
    problems = verify(path)
    assert problems and ("predictions.file" in problems[0]), problems
    assert opened == []   # nothing was hashed, let alone loaded


def test_predictions_symlinked_elsewhere_are_refused(tmp_path):
    path = valid_record(tmp_path / "results")
    elsewhere = tmp_path / "elsewhere.npz"
    shutil.move(predictions_path(path), elsewhere)
    predictions_path(path).symlink_to(elsewhere)
    assert any("plain file" in p for p in verify(path))


def test_a_record_cannot_borrow_another_records_predictions(tmp_path):
    mine = valid_record(tmp_path / "results", recipe="mine", run_id="aaaa")
    theirs = valid_record(tmp_path / "results", recipe="theirs", run_id="bbbb", arrays=prediction_arrays(5))
    shutil.copy(predictions_path(theirs), predictions_path(mine))
    edit(mine, lambda raw: raw.update(metrics=json.loads(theirs.read_text())["metrics"],
                                      predictions=json.loads(theirs.read_text())["predictions"]))
    problems = verify(mine)
    assert any("belong to run 'bbbb'" in p for p in problems), problems


# ------------------------------------------------------------------ 3. verify before trusting

def test_edited_record_is_rejected_by_validation_and_listed_by_the_leaderboard(tmp_path, capsys):
    results = tmp_path / "results"
    good = valid_record(results, recipe="good")
    bad = valid_record(results, recipe="edited", seed=0, arrays=prediction_arrays(3))
    edit(bad, lambda raw: raw["metrics"]["overall"].update(accuracy=0.999))
    (results / "synthetic" / "garbage").mkdir()
    (results / "synthetic" / "garbage" / "seed0.json").write_bytes(b"\x00\xff binary garbage")
    valid, rejected = load_verified(results)
    assert [p for p, _ in valid] == [good]
    assert {p.parent.name for p, _ in rejected} == {"edited", "garbage"}
    code, out, err = cli(["leaderboard", "--results", results, "--out", tmp_path / "lb"], capsys)
    assert code == 0 and err == ""
    board = (tmp_path / "lb" / "LEADERBOARD.md").read_text()
    table = board.split("## Rejected records")[0]
    assert "| good |" in table and "edited" not in table and "99.9" not in board
    assert "## Rejected records" in board and "metrics.overall.accuracy claims 0.999" in board
    assert "not valid JSON" in board and "Rejected records" in out and "edited" in out


def test_run_recomputes_an_edited_record_and_skips_only_a_verified_one(tmp_path, one_thread):
    from benchmark.runner import RunPlan, run_plan
    plan = RunPlan(specs=[load_task("synthetic")], recipes=["dense"], seeds=[0], results_dir=tmp_path, n_boot=10)
    assert [o.status for o in run_plan(plan)] == ["done"]
    path = record_path(tmp_path, "synthetic", "dense", 0)
    truth = json.loads(path.read_text())["metrics"]
    assert [o.status for o in run_plan(plan)] == ["skipped"]
    edit(path, lambda raw: raw["metrics"]["overall"].update(accuracy=0.999))
    assert [o.status for o in run_plan(plan)] == ["done"]          # edited: not finished, recomputed
    assert json.loads(path.read_text())["metrics"] == truth
    predictions_path(path).unlink()
    assert [o.status for o in run_plan(plan)] == ["done"]          # predictions gone: recomputed
    assert check_record(path) == []


def test_an_unrelated_garbage_record_never_fails_a_run(tmp_path, capsys, one_thread):
    results = tmp_path / "results"
    (results / "other" / "junk").mkdir(parents=True)
    (results / "other" / "junk" / "seed0.json").write_bytes(bytes(range(256)))
    code, out, err = cli(["run", "--tasks", "synthetic", "--recipes", "dense", "--bootstrap", "10",
                          "--results", results, "--leaderboard", tmp_path / "lb"], capsys)
    assert code == 0 and "Traceback" not in out + err
    board = (tmp_path / "lb" / "LEADERBOARD.md").read_text()
    assert "| dense |" in board and "other/junk/seed0.json" in board.replace("\\", "")


@pytest.mark.parametrize("kill_at", ["json removed", "predictions written"])
def test_no_kill_point_of_a_force_rewrite_leaves_a_record_that_looks_finished(tmp_path, monkeypatch, kill_at):
    path = valid_record(tmp_path / "results", run_id="old1")
    old = read_record(path)
    new_arrays = prediction_arrays(9)

    class Killed(BaseException):
        pass

    real_write = records.atomic_write_bytes
    calls = []

    def dying_write(target, data):
        calls.append(target)
        if kill_at == "json removed":            # killed before the new predictions land
            raise Killed
        real_write(target, data)
        if target.suffix == ".npz":              # killed between the predictions rename and the JSON rename
            raise Killed

    monkeypatch.setattr(records, "atomic_write_bytes", dying_write)
    old.run_id = "new2"
    with pytest.raises(Killed):
        write_record(path, old, new_arrays)
    monkeypatch.undo()
    assert not path.exists()                     # the old JSON went first: nothing claims the new predictions
    assert not is_finished(path, "old1") and not is_finished(path, "new2")
    assert load_verified(tmp_path / "results") == ([], [])


def test_json_naming_other_predictions_is_not_finished(tmp_path):
    """The state the old writer could leave (old JSON beside new predictions) is recomputed, not skipped."""
    path = valid_record(tmp_path / "results", run_id="same")
    again = tmp_path / "again"
    valid_record(again, run_id="same", arrays=prediction_arrays(4))
    shutil.copy(predictions_path(record_path(again, "synthetic", "dense", 0)), predictions_path(path))
    assert not is_finished(path, "same")
    assert any("hash does not match" in p for p in verify(path))


# ------------------------------------------------------------------ 4. the run id

def _units(threads: int, n_boot: int = 1000):
    from benchmark.runner import RunPlan, plan_units
    plan = RunPlan(specs=[load_task("synthetic")], recipes=["dense", "prune-magnitude-40"], seeds=[0],
                   n_boot=n_boot, threads=threads)
    return plan_units(plan)[0]


def test_records_made_at_one_and_two_threads_never_share_a_run_id_or_dense_model():
    one, two = _units(1), _units(2)
    assert {u.run_id for u in one if u.run_id} .isdisjoint({u.run_id for u in two if u.run_id})
    assert {u.dense_key for u in one}.isdisjoint({u.dense_key for u in two})
    assert {u.threads for u in one} == {1} and {u.threads for u in two} == {2}


def test_process_thread_count_is_part_of_the_run_id_when_none_is_asked_for():
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        at_one = {u.run_id for u in _units(0) if u.run_id}
        torch.set_num_threads(2)
        at_two = {u.run_id for u in _units(0) if u.run_id}
    finally:
        torch.set_num_threads(before)
    assert at_one.isdisjoint(at_two)


def test_precision_and_bootstrap_size_are_part_of_the_run_id():
    plain = {u.run_id for u in _units(1) if u.run_id}
    assert plain.isdisjoint({u.run_id for u in _units(1, n_boot=10) if u.run_id})
    before = torch.get_float32_matmul_precision()
    try:
        torch.set_float32_matmul_precision("medium")
        assert plain.isdisjoint({u.run_id for u in _units(1) if u.run_id})
    finally:
        torch.set_float32_matmul_precision(before)


def test_generative_run_id_has_the_thread_count():
    from benchmark.generative import recipes as _  # noqa: F401
    from benchmark.generative.runner import run_id
    from benchmark.recipes import RECIPES
    spec = load_task("crows_pairs")
    ids = {run_id(spec, RECIPES.get("dense"), 0, "quick", {}, {}, "key", threads) for threads in (1, 2)}
    assert len(ids) == 2


def test_recipe_file_source_is_part_of_its_config_hash(tmp_path):
    from benchmark.recipes import RECIPES
    from benchmark.recipes.files import load_recipe_files
    source = ("from benchmark.recipes.base import register_recipe\n"
              "@register_recipe('test-source-hashed', family='pruning', applies_to=('encoder_cls',))\n"
              "def same(ctx):\n    return ctx.dense.clone()\n")
    file = tmp_path / "hashed_recipe_file.py"
    file.write_text(source)
    load_recipe_files([str(file)])
    config = RECIPES.get("test-source-hashed").config()
    assert config["source_sha256"] == hashlib.sha256(source.encode()).hexdigest()


def test_recipe_file_raising_system_exit_is_one_line(tmp_path, capsys):
    file = tmp_path / "exits_recipe.py"
    file.write_text("raise SystemExit(3)\n")
    code, _, err = cli(["run", "--tasks", "synthetic", "--recipes", "dense", "--recipe-file", file,
                        "--results", tmp_path / "r", "--leaderboard", tmp_path / "lb"], capsys)
    assert code == 2 and err.count("\n") == 1 and "SystemExit" in err and str(file) in err


# ------------------------------------------------------------------ 6. validation re-derives every claim

@pytest.mark.parametrize("change, expected", [
    (lambda r: r["efficiency"].update(sparsity=0.9), "efficiency.sparsity claims 0.9"),
    (lambda r: r["efficiency"].update(nonzero_parameters=2000, sparsity=-1.0), "exceeds parameters"),
    (lambda r: r["efficiency"].update(examples_per_second=-1), "positive finite"),
    (lambda r: r["efficiency"].update(speedup=3.0), "efficiency.speedup is not a catalogued"),
    (lambda r: r["metrics"]["overall"].update(made_up=1.0), "metrics.overall.made_up is not a metric"),
    (lambda r: r["metrics"].update(extra={}), "metrics.extra is not a section"),
    (lambda r: r["metrics"]["overall"].update(accuracy=r["metrics"]["overall"]["accuracy"] * (1 + 1e-7)),
     "metrics.overall.accuracy claims"),
    (lambda r: r["task"].update(name="colored_digits"), "task.spec_hash"),
    (lambda r: r["task"].update(name="no_such_task"), "not a task here"),
    (lambda r: r["task"].update(group_min_size=1), "task.group_min_size is 1"),
    (lambda r: r["provenance"].update(n_boot=10 ** 9), "provenance.n_boot"),
])
def test_validation_rejects_every_edited_claim(tmp_path, change, expected):
    path = valid_record(tmp_path / "results")
    edit(path, change)
    problems = verify(path)
    assert any(expected in p for p in problems), problems


def _committed_copy(tmp_path: Path, relative: str) -> Path:
    source = REPO / "results" / relative
    target = tmp_path / "results" / relative
    target.parent.mkdir(parents=True)
    shutil.copy(source, target)
    shutil.copy(predictions_path(source), predictions_path(target))
    return target


def test_generative_probe_and_scoring_rule_come_from_predictions_and_task_file(tmp_path):
    tox = _committed_copy(tmp_path, "toxicity_prompts/dense/seed0.json")
    assert verify(tox) == []
    group = next(iter(json.loads(tox.read_text())["metrics"]["scorer_probe"]))
    edit(tox, lambda r: r["metrics"]["scorer_probe"][group].update(scorer_neutral_toxicity=0.0))
    assert any("scorer_probe" in p for p in verify(tox))
    bbq = _committed_copy(tmp_path, "bbq_zeroshot/dense/seed0.json")
    edit(bbq, lambda r: r["provenance"]["settings"].update(option_score="sum"))
    assert any("provenance.settings differ" in p and "option_score" in p for p in verify(bbq))


def test_validate_checks_every_file_and_documents_its_exit_codes(tmp_path, capsys):
    results = tmp_path / "results"
    good = valid_record(results, recipe="good")
    edited = valid_record(results, recipe="edited")
    edit(edited, lambda r: r["metrics"]["overall"].update(accuracy=0.5))
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{")
    code, out, err = cli(["validate", garbage, edited, good], capsys)
    assert code == 2 and f"OK {good}" in out and f"REJECTED {edited}" in out
    assert err.count("\n") == 1 and str(garbage) in err
    assert cli(["validate", edited, good], capsys)[0] == 1 and cli(["validate", good], capsys)[0] == 0
    help_text = cli(["validate", "--help"], capsys)[1]
    assert "0 every file valid" in " ".join(help_text.split()) and "1 a record rejected" in " ".join(help_text.split())


def test_migration_keeps_metrics_and_stamps_the_run_id(tmp_path, capsys):
    path = valid_record(tmp_path / "results", run_id="old")
    arrays = records.read_predictions(path, read_record(path))
    raw = json.loads(path.read_text())
    np.savez_compressed(predictions_path(path), **arrays)           # a schema-1 predictions file: no run id
    raw.update(schema_version=1, predictions={"file": predictions_path(path).name,
                                              "sha256": records.file_sha256(predictions_path(path))})
    path.write_text(json.dumps(raw))
    assert "schema_version 1" in verify(path)[0]
    code, out, _ = cli(["validate", "--migrate", path], capsys)
    assert code == 0 and f"MIGRATED {path}" in out and f"OK {path}" in out
    assert json.loads(path.read_text())["metrics"] == raw["metrics"]


@pytest.mark.parametrize("relative", sorted(str(p.relative_to(REPO / "results"))
                                            for p in (REPO / "results").glob("*/*/seed*.json")))
def test_every_committed_record_validates(relative):
    assert check_record(REPO / "results" / relative) == []


# ------------------------------------------------------------------ 7. leftovers and umask

def test_stale_record_temp_files_are_removed_and_live_ones_kept(tmp_path):
    folder = tmp_path / "results" / "synthetic" / "dense"
    folder.mkdir(parents=True)
    stale, live = folder / ".seed0.json.abc.tmp", folder / ".seed0.json.def.tmp"
    stale.write_text("x")
    live.write_text("y")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    assert sweep_results(tmp_path / "results") == 1
    assert not stale.exists() and live.exists()


def test_cache_temp_folders_of_a_killed_builder_are_removed(tmp_path, monkeypatch):
    from benchmark import cache
    monkeypatch.setenv("CSBENCH_CACHE", str(tmp_path))
    leftover = cache.entry_dir("dense", "k1").parent / ".k1.abcd"
    leftover.mkdir(parents=True)
    (leftover / "model.pt").write_text("half")
    cache.get_or_create("dense", "k1", lambda folder: (folder / "model.pt").write_text("whole"))
    assert not leftover.exists() and (cache.entry_dir("dense", "k1") / "model.pt").read_text() == "whole"


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_records_and_tables_honour_the_umask(tmp_path, umask, mode):
    before = os.umask(umask)
    try:
        path = valid_record(tmp_path / "results")
        records.atomic_write_text(tmp_path / "table.md", "x")
    finally:
        os.umask(before)
    for written in (path, predictions_path(path), tmp_path / "table.md"):
        assert written.stat().st_mode & 0o777 == mode


def test_record_strings_are_escaped_in_the_markdown_tables(tmp_path):
    from benchmark.report.leaderboard import build_leaderboard
    results = tmp_path / "results"
    path = valid_record(results, recipe="odd")
    edit(path, lambda raw: raw["recipe"].update(family="pruning|<b>bold</b>`x`"))
    build_leaderboard(results, tmp_path / "lb")
    board = (tmp_path / "lb" / "LEADERBOARD.md").read_text()
    assert "<b>" not in board and "pruning\\|\\<b\\>bold\\</b\\>\\`x\\`" in board
    header = next(line for line in board.splitlines() if line.startswith("| group |"))
    assert [cell.strip() for cell in header.split("|")[1:-1]] == ["group", "odd"]   # the flips table's header
