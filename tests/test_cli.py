"""Bad input gets one line and a non-zero exit, never a traceback."""
import json
from pathlib import Path
import subprocess
import sys

import pytest


def csbench(*args, cwd=None):
    proc = subprocess.run([sys.executable, "-m", "benchmark", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def test_help_explains_each_subcommand():
    for sub in ("ls", "run", "plan", "run-one", "leaderboard", "validate"):
        code, out, _ = csbench(sub, "--help")
        assert code == 0 and "usage: csbench" in out and len(out.splitlines()) > 4


def test_unknown_task_suggests_and_exits_2():
    code, out, err = csbench("run", "--tasks", "bbqq", "--recipes", "dense")
    assert code == 2 and "Did you mean: bbq" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_unknown_recipe_suggests_and_exits_2():
    code, _, err = csbench("run", "--tasks", "synthetic", "--recipes", "dens")
    assert code == 2 and "Unknown recipe 'dens'" in err and "dense" in err and "Traceback" not in err


def test_malformed_task_file_names_file_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nversion: one\n")
    code, out, err = csbench("validate", str(bad))
    assert code == 2 and str(bad) in err and "'version'" in err and "Traceback" not in err
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    code, _, err = csbench("validate", str(broken))
    assert code == 2 and "not valid YAML" in err and str(broken) in err


def test_missing_group_column_fails_before_training(tmp_path):
    text = (Path(__file__).resolve().parents[1] / "tasks" / "synthetic.yaml").read_text().replace("by: [identity_any]", "by: [identity_missing]")
    task = tmp_path / "nogroup.yaml"
    task.write_text(text)
    code, _, err = csbench("run", "--tasks", str(task), "--recipes", "dense", "--results", str(tmp_path / "r"))
    assert code == 2 and "identity_missing" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


def test_ls_json_lists_recipes_with_hashes():
    code, out, _ = csbench("ls", "recipes", "--json")
    rows = json.loads(out)
    assert code == 0 and any(r["name"] == "dense" for r in rows)
    assert all({"family", "applies_to", "params", "config_hash"} <= set(r) for r in rows)


@pytest.mark.parametrize("kind", ["tasks", "metrics", "models", "suites"])
def test_ls_lists_each_kind(kind):
    code, out, _ = csbench("ls", kind)
    assert code == 0 and f"{kind})" in out.splitlines()[-1]
