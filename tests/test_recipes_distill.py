"""Distillation recipes: losses by hand, students' copied weights, data choices, and each setting on tiny tasks."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import transformers
from conftest import task_spec, tiny_context

from benchmark.data.dataset import load_task_data
from benchmark.models.families import MODEL_FAMILIES
from benchmark.models.inference import predict_logits
from benchmark.models.zoo import build_dense
from benchmark.recipes import RECIPES
from benchmark.recipes.distill import hub_student_erm
from benchmark.recipes.distill_data import gradient_alignment_scores, keep_by_loss, top_fraction
from benchmark.recipes.distill_losses import intermediate_loss, kd_loss, revised_labels, revision_loss
from benchmark.recipes.distill_students import (encoder_layers, hub_unavailable_reason, kept_layers,
                                                layer_dropped, narrow_resnet)

# One setting per builder, on every family it declares (the registry test covers the rest of each sweep).
SETTINGS = ["distill-kd-l3", "distill-kd-resnet-w50", "distill-tinybert-l2", "distill-lr-tracin50",
            "distill-coreset-kd-keep50-asc", "distill-coreset-kd-keep50-desc"]
CASES = [(name, family) for name in SETTINGS for family in RECIPES.get(name).applies_to]


def short_context(family):
    """A tiny context whose recipes take a quarter epoch: these tests check plumbing, not accuracy."""
    ctx = tiny_context(family)
    ctx.budget.update(epochs=0.25, recipe_epochs=0.25)
    return ctx


def _softmax(z):
    e = [math.exp(v) for v in z]
    return [v / sum(e) for v in e]


def test_kd_loss_matches_hand_computation():
    zs, zt, y, t, alpha = [1.0, 0.0, -1.0], [0.0, 2.0, 0.0], 0, 2.0, 0.3
    ps, pt = _softmax([v / t for v in zs]), _softmax([v / t for v in zt])
    kl = sum(p * math.log(p / q) for p, q in zip(pt, ps))
    ce = -math.log(_softmax(zs)[y])
    expected = alpha * t * t * kl + (1 - alpha) * ce
    got = kd_loss(torch.tensor([zs]), torch.tensor([zt]), torch.tensor([y]), temperature=t, alpha=alpha)
    assert got.item() == pytest.approx(expected, rel=1e-5)


def test_label_revision_hand_worked_case():
    probs, label, eta = torch.tensor([[0.6, 0.3, 0.1]]), torch.tensor([1]), 0.8
    beta = 0.8 / (0.6 - 0.3 + 1)          # teacher wrong: beta = eta / (p_max - p_tar + 1) = 0.6154
    revised = revised_labels(probs, label, eta)[0]
    expected = [beta * 0.6, beta * 0.3 + (1 - beta), beta * 0.1]
    assert revised.tolist() == pytest.approx(expected, rel=1e-6)
    assert revised.argmax().item() == 1 and revised.sum().item() == pytest.approx(1.0)
    right = revised_labels(torch.tensor([[0.2, 0.7, 0.1]]), label, eta)[0]   # teacher right: beta = eta
    assert right.tolist() == pytest.approx([0.8 * 0.2, 0.8 * 0.7 + 0.2, 0.8 * 0.1], rel=1e-6)


def test_revision_loss_terms():
    student = torch.tensor([[2.0, 0.0], [0.5, 0.1]])
    teacher = torch.tensor([[3.0, 1.0], [0.0, 2.0]])     # right on row 0, wrong on row 1
    labels = torch.tensor([0, 0])
    p_hat = revised_labels(F.softmax(teacher[1:], dim=-1), labels[1:], 0.8)
    expected = (F.cross_entropy(student[:1], labels[:1]) + 4 * F.mse_loss(student[:1], teacher[:1])
                + 1 * F.mse_loss(F.softmax(student[1:], dim=-1), p_hat))
    assert revision_loss(student, teacher, labels).item() == pytest.approx(expected.item(), rel=1e-6)
    nobody = torch.zeros(2, dtype=torch.bool)             # data selection keeps no row: ground truth only
    assert revision_loss(student, teacher, labels, nobody).item() == pytest.approx(
        F.cross_entropy(student, labels).item(), rel=1e-6)


@pytest.mark.parametrize("percent", [20, 50, 80])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_loss_value_pruning_keeps_floor_per_class(percent, order):
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], [7, 10, 13])
    losses = rng.random(len(labels))
    kept = keep_by_loss(losses, labels, percent, order)
    for c, n_c in zip([0, 1, 2], [7, 10, 13]):
        members = np.flatnonzero(labels == c)
        mine = np.intersect1d(kept, members)
        assert len(mine) == percent * n_c // 100
        dropped = np.setdiff1d(members, mine)
        if order == "asc":
            assert losses[mine].max() <= losses[dropped].min()
        else:
            assert losses[mine].min() >= losses[dropped].max()


def test_top_fraction_picks_highest():
    mask = top_fraction(np.array([0.1, 3.0, -1.0, 2.0]), 50)
    assert mask.tolist() == [False, True, False, True]


def test_kept_layers_every_kth():
    assert kept_layers(6, 3) == [1, 3, 5] and kept_layers(6, 2) == [2, 5] and kept_layers(12, 6) == [1, 3, 5, 7, 9, 11]


def test_layer_dropped_student_copies_teacher_layers():
    teacher = build_dense("tiny-bert", "encoder_cls", 2)       # 4 layers
    student = layer_dropped(teacher, 2)
    assert student.model.config.num_hidden_layers == 2 and teacher.model.config.num_hidden_layers == 4
    t_blocks, s_blocks = encoder_layers(teacher.model), encoder_layers(student.model)
    assert len(s_blocks) == 2 and len(t_blocks) == 4
    for s_block, t_index in zip(s_blocks, [1, 3]):
        for (name, p), q in zip(s_block.state_dict().items(), t_blocks[t_index].state_dict().values()):
            assert torch.equal(p, q), name
    for name in ("bert.embeddings.word_embeddings.weight", "bert.pooler.dense.weight", "classifier.weight"):
        assert torch.equal(student.model.state_dict()[name], teacher.model.state_dict()[name])
    ids = torch.tensor([[101, 2000, 2001, 102]])
    assert student.model(input_ids=ids).logits.shape == (1, 2)


def test_narrow_resnet_halves_channels():
    teacher = build_dense("tiny-resnet", "resnet", 10)
    student = narrow_resnet(teacher, 50)
    assert student.model.config.hidden_sizes == [4, 8, 16]
    assert sum(p.numel() for p in student.model.parameters()) < sum(p.numel() for p in teacher.model.parameters())
    assert student.model(pixel_values=torch.zeros(2, 3, 28, 28)).logits.shape == (2, 10)


def test_intermediate_loss_is_zero_against_itself_and_attentions_exist():
    model = build_dense("tiny-bert", "encoder_cls", 2).model.eval()
    model.set_attn_implementation("eager")
    ids = torch.tensor([[101, 2000, 2001, 102]])
    out = model(input_ids=ids, output_hidden_states=True, output_attentions=True)
    assert len(out.attentions) == 4 and out.attentions[0].shape == (1, 4, 4, 4)
    hidden, attention = intermediate_loss(out, out, stride=1)
    assert hidden.item() == 0.0 and attention.item() == 0.0


@pytest.mark.parametrize("family,num_labels", [("encoder_cls", 2), ("encoder_mc", 3)])
def test_data_selection_scores_equal_head_gradient_dot_products(family, num_labels):
    spec = task_spec({"encoder_cls": "synthetic", "encoder_mc": "tiny_mc"}[family])
    split = load_task_data(spec, "quick").train.subset(np.arange(10))
    bundle = build_dense(spec.dense_model, family, num_labels)
    targets = np.random.default_rng(0).dirichlet(np.ones(num_labels), size=len(split)).astype(np.float32)
    heldout = np.array([0, 3, 7])
    scores = gradient_alignment_scores(bundle, split, spec.inputs, targets, heldout, batch_size=4, max_length=24)

    fam, model = MODEL_FAMILIES.get(family), bundle.model.eval()
    weight = model.classifier.weight
    batch = next(fam.batches(bundle, split, spec.inputs, len(split), max_length=24))
    order = batch["index"].numpy()

    def grad(loss):
        return torch.autograd.grad(loss, weight, retain_graph=True)[0]
    logits = fam.logits(model, batch)
    rows = {int(i): r for r, i in enumerate(order)}
    g_val = grad(F.cross_entropy(logits[[rows[i] for i in heldout]], torch.as_tensor(split.labels[heldout])))
    for i in range(len(split)):
        r = rows[i]
        g_i = grad(-(torch.as_tensor(targets[i]) * F.log_softmax(logits[r], dim=-1)).sum())
        assert scores[i] == pytest.approx((g_i * g_val).sum().item(), rel=1e-3, abs=1e-7)


@pytest.mark.parametrize("name,family", CASES)
def test_setting_gives_finite_logits(name, family):
    ctx = short_context(family)
    bundle = RECIPES.get(name).apply(ctx)
    test = ctx.data.test
    logits = predict_logits(bundle, test, ctx.inputs, max_length=int(ctx.budget.get("max_length", 128)))
    assert logits.shape == (len(test), ctx.data.spec.num_labels) and np.isfinite(logits).all()


def test_loss_value_pruning_recipe_trains_on_the_kept_rows():
    ctx = short_context("encoder_cls")
    labels = ctx.train_split.labels
    bundle = RECIPES.get("distill-coreset-kd-keep20-asc").apply(ctx)
    assert bundle.meta["kept_rows"] == sum(20 * n // 100 for n in np.bincount(labels))


def _tiny_bert_folder(path):
    bundle = build_dense("tiny-bert", "encoder_cls", 2)
    bundle.model.save_pretrained(path)
    bundle.processor.save_pretrained(path)
    return str(path)


def test_hub_student_from_local_folder(tmp_path):
    folder = _tiny_bert_folder(tmp_path / "student")
    assert hub_unavailable_reason(folder) is None
    ctx = short_context("encoder_cls")
    bundle = hub_student_erm(ctx, model_id=folder)
    assert bundle.meta["base_model"] == folder and isinstance(bundle.model, transformers.BertForSequenceClassification)
    logits = predict_logits(bundle, ctx.data.test, ctx.inputs, max_length=32)
    assert logits.shape == (len(ctx.data.test), 2) and np.isfinite(logits).all()


def test_hub_student_check_uses_local_cache(tmp_path, monkeypatch):
    import huggingface_hub.constants as hub_constants
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert "HF_HUB_OFFLINE" in hub_unavailable_reason("someone/student")
    assert RECIPES.get("distill-hub-bert-tiny").unavailable_reason() is not None
    # A cached snapshot (hub cache layout: refs/main -> snapshots/<commit>/) is enough offline.
    repo = tmp_path / "models--someone--student"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0" * 40)
    _tiny_bert_folder(repo / "snapshots" / ("0" * 40))
    assert hub_unavailable_reason("someone/student") is None
    monkeypatch.delenv("HF_HUB_OFFLINE")                        # online: the hub path is open
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    assert hub_unavailable_reason("someone/other") is None


def test_hub_students_larger_than_the_dense_model_are_not_applicable():
    from conftest import task_spec
    spec = task_spec("synthetic")            # tiny-bert dense model: every hub student is larger
    from benchmark.recipes.distill_students import HUB_STUDENTS
    reasons = {n: RECIPES.get(f"distill-hub-{n}").not_applicable_reason(spec) for n in HUB_STUDENTS}
    assert all(r and "not smaller than the task's dense model" in r for r in reasons.values())
    assert "distilbert-base-uncased (66.4M parameters)" in reasons["distilbert"]
    bbq = task_spec("bbq")                   # MiniLM-L6, 22.7M: only the students below it apply
    assert RECIPES.get("distill-hub-bert-tiny").not_applicable_reason(bbq) is None
    assert "not smaller" in RECIPES.get("distill-hub-bert-medium").not_applicable_reason(bbq)
    assert RECIPES.get("distill-kd-l3").not_applicable_reason(task_spec("colored_digits")).endswith(
        "this task has resnet models")
