"""Shared fixtures: tiny tasks and tiny trained dense models, built once per test session."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(min(2, torch.get_num_threads()))

REPO = Path(__file__).resolve().parents[1]
TASKS = REPO / "tasks"

# One tiny task per classifier family; the recipe tests are parametrized over these.
TINY_TASKS = {"encoder_cls": "synthetic", "resnet": "colored_digits", "encoder_mc": "tiny_mc",
              "decoder_lm": "tiny_decoder_corpus"}

# Families whose tiny context is not a classifier trained on a task file: their own module builds it
# ("decoder_lm": a random 2-layer GPT-2 over text it sampled itself, labels = next token ids).
CONTEXT_BUILDERS = {"decoder_lm": "benchmark.generative.context:tiny_decoder_context"}


@pytest.fixture(scope="module")
def one_thread():
    """Tiny models gain nothing from intra-op threads; on a CPU shared by several jobs two threads run
    them up to ~25x slower (measured: 39 s vs 1.4 s for one NFT run). Restores the session's setting."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """One dense-model cache per test session, never the user's (subprocesses inherit it)."""
    previous = os.environ.get("CSBENCH_CACHE")
    os.environ["CSBENCH_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if previous is None:
        os.environ.pop("CSBENCH_CACHE", None)
    else:
        os.environ["CSBENCH_CACHE"] = previous


def _tiny_mc_spec():
    from benchmark.data.spec import parse_task
    return parse_task({
        "name": "tiny_mc", "version": 1, "source": {"loader": "synthetic_mc"},
        "family": "encoder_mc", "dense_model": "tiny-bert",
        "columns": {"inputs": ["context", "question", "ans0", "ans1", "ans2"], "label": "label", "num_labels": 3},
        "groups": {"by": ["category", "context_condition"], "include_label": False},
        "splits": {"train": "train", "test": "test"},
        "training": {"lr": 1e-3, "batch_size": 16, "max_length": 48},
        "profiles": {"quick": {"epochs": 1, "recipe_epochs": 1, "mlm_epochs": 0.25, "int8_compile": False}, "full": {"epochs": 1}},
    }, "<tiny_mc>")


def task_spec(name: str):
    from benchmark.data.spec import read_task_file
    return _tiny_mc_spec() if name == "tiny_mc" else read_task_file(TASKS / f"{name}.yaml")


_DENSE: dict = {}


def tiny_context(family: str, seed: int = 0):
    """A RecipeContext over a tiny task with a briefly trained tiny dense model (memoised in
    memory and, through the dense cache, on disk for the whole session)."""
    from benchmark.data.dataset import load_task_data
    from benchmark.dense import get_dense
    from benchmark.recipes.base import RecipeContext

    if family in CONTEXT_BUILDERS:
        import importlib
        module, _, builder = CONTEXT_BUILDERS[family].partition(":")
        return getattr(importlib.import_module(module), builder)(seed)
    if family not in _DENSE:
        spec = task_spec(TINY_TASKS[family])
        data = load_task_data(spec, "quick")
        budget = spec.profile("quick")
        _DENSE[family] = (get_dense(data, spec.dense_model, budget, seed), data, budget)
    dense, data, budget = _DENSE[family]
    return RecipeContext(dense=dense.bundle.clone(), data=data, budget=dict(budget), seed=seed,
                         _teacher_logits=dense.logit_cache)


@pytest.fixture(params=sorted(TINY_TASKS))
def any_context(request):
    return tiny_context(request.param)


@pytest.fixture(scope="module")
def records_as_written():
    """For presentation tests whose records are hand-made fixtures (set metrics, toy tasks, no or foreign
    predictions, hostile strings): the report modules take them as written, standing in for records that
    passed validation, so the tables' and page's own arithmetic and escaping are what is tested.
    Validation itself (what reaches the report at all) is tested in test_hardening."""
    import json
    from benchmark.records import Record
    from benchmark.report import generative_table, leaderboard, page

    def as_written(results_dir):
        return [(p, Record(**json.loads(p.read_text()))) for p in sorted(Path(results_dir).glob("*/*/seed*.json"))]

    with pytest.MonkeyPatch.context() as patch:
        for module in (page, leaderboard, generative_table):
            patch.setattr(module, "valid_records", as_written)
        patch.setattr(leaderboard, "load_verified", lambda results_dir: (as_written(results_dir), []))
        yield


@contextmanager
def generative_task_files(folder: Path, tasks: dict[str, dict]):
    """Tiny generative task files (tiny GPT-2) written into ``folder``, also findable by name while the
    context is open (validation checks a record against its task by name). Yields their paths."""
    import yaml
    paths = []
    for name, body in tasks.items():
        path = folder / f"{name}.yaml"
        path.write_text(yaml.safe_dump({"name": name, "version": 1, "track": "generative",
                                        "dense_model": "tiny-gpt2", **body}))
        paths.append(str(path))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CSBENCH_TASKS", str(folder))
        yield paths
