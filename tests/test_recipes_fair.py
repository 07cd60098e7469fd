"""Balancing Act recipes: replay buffers, CEAG/EL violations, the dual dynamics, and every setting."""
from __future__ import annotations

import cooper
import numpy as np
import pytest
import torch

from benchmark.recipes import RECIPES
from benchmark.recipes.fair_buffer import BufferQuery, GroupReplayBuffer
from benchmark.recipes.fair_problems import (CEAGProblem, DenseBaseline, ceag_strict_violation, ceag_surrogate,
                                             equalized_loss_strict_violation, equalized_loss_violation,
                                             excess_accuracy_gaps)
from benchmark.recipes.sparsity import sparsity_report

FAIR = RECIPES.names("fair-*")


pytestmark = pytest.mark.usefixtures("one_thread")


def test_buffer_reports_full_groups_only_and_evicts_oldest():
    buf = GroupReplayBuffer(num_groups=3, memory=4)
    buf.update(torch.tensor([0, 0, 1, 0, 0, 1, 2]), torch.tensor([1., 0., 1., 1., 1., 0., 1.]))
    q = buf.query()
    assert q.counts.tolist() == [4, 0, 0]          # groups 1 and 2 are not full yet
    assert q.means.tolist() == [0.75, 0.0, 0.0]
    assert q.overall.item() == 0.75
    assert q.full_groups.tolist() == [0]
    buf.update(torch.tensor([1, 1, 0]), torch.tensor([0., 0., 0.]))
    q = buf.query()
    assert q.counts.tolist() == [4, 4, 0]
    # group 0 drops its oldest 1: [0, 1, 1, 0]; group 1 is [1, 0, 0, 0]
    assert q.means.tolist() == [0.5, 0.25, 0.0]
    assert q.overall.item() == pytest.approx((0.5 * 4 + 0.25 * 4) / 8)   # the partial group 2 is left out


def test_buffer_with_nothing_full_has_zero_overall():
    q = GroupReplayBuffer(2, memory=3).query()
    assert q.overall.item() == 0.0 and q.full_groups.numel() == 0


def _dense(acc, group_acc, loss=0.0, group_loss=None):
    group_loss = group_loss if group_loss is not None else [0.0] * len(group_acc)
    return DenseBaseline(acc, torch.tensor(group_acc), loss, torch.tensor(group_loss))


def test_ceag_strict_violation_on_hand_worked_numbers():
    dense = _dense(0.9, [1.0, 0.8, 0.9])
    query = BufferQuery(torch.tensor([4, 4, 0]), torch.tensor([0.5, 0.75, 0.0]), torch.tensor(0.625))
    violation, groups = ceag_strict_violation(query, dense, tolerance=0.05)
    # overall gap 0.9 - 0.625 = 0.275; psi_0 = 0.5 - 0.275, psi_1 = 0.05 - 0.275; minus eps
    assert groups.tolist() == [0, 1]
    assert violation.tolist() == pytest.approx([0.175, -0.275])


def test_ceag_surrogate_value_and_gradient():
    losses = torch.tensor([1.0, 3.0, 2.0, 0.0], requires_grad=True)
    groups = torch.tensor([0, 0, 1, 2])
    dense = _dense(0.9, [1.0, 1.0, 1.0], loss=0.4, group_loss=[0.5, 1.0, 0.2])
    surrogate, present = ceag_surrogate(losses, groups, dense)
    # batch loss 1.5 -> (l_g - dense_g) - (1.5 - 0.4) with l = [2, 2, 0]
    assert present.tolist() == [0, 1, 2]
    assert surrogate.tolist() == pytest.approx([0.4, -0.1, -1.3])
    surrogate[0].backward()
    assert losses.grad.tolist() == pytest.approx([0.25, 0.25, -0.25, -0.25])   # d(l_0 - l)/d loss_i


def test_equalized_loss_violations():
    losses, groups = torch.tensor([1.0, 3.0, 2.0, 0.0]), torch.tensor([0, 0, 1, 2])
    signed, present = equalized_loss_violation(losses, groups, 4, absolute=False)
    assert present.tolist() == [0, 1, 2] and signed.tolist() == pytest.approx([0.5, 0.5, -1.5])
    absolute, _ = equalized_loss_violation(losses, groups, 4, absolute=True)
    assert absolute.tolist() == pytest.approx([0.5, 0.5, 1.5])
    query = BufferQuery(torch.tensor([2, 0, 2]), torch.tensor([1.0, 0.0, 3.0]), torch.tensor(2.0))
    strict, full = equalized_loss_strict_violation(query, absolute=True)
    assert full.tolist() == [0, 2] and strict.tolist() == pytest.approx([1.0, 1.0])


def test_dense_baseline_and_excess_accuracy_gaps():
    labels, groups = np.array([0, 1, 1, 0]), np.array([0, 0, 1, 1])
    dense_logits = np.array([[2., 0.], [0., 2.], [0., 2.], [0., 2.]])     # 3/4 right, group 1 half right
    base = DenseBaseline.from_logits(dense_logits, labels, groups, num_groups=3)
    assert base.accuracy == 0.75 and base.group_accuracy[:2].tolist() == [1.0, 0.5]
    assert np.isnan(base.group_accuracy[2].item())                        # absent group
    comp_logits = np.array([[0., 2.], [0., 2.], [0., 2.], [0., 2.]])      # group 0 loses one, group 1 none
    psi = excess_accuracy_gaps(dense_logits, comp_logits, labels, groups, num_groups=3)
    # overall gap 0.75 - 0.5 = 0.25; group gaps 0.5 and 0.0
    assert psi[:2].tolist() == pytest.approx([0.25, -0.25]) and np.isnan(psi[2])


def test_ceag_multiplier_grows_only_for_the_violated_group():
    """Fixed model: group 0 always right, group 1 always wrong, dense model right on both."""
    weight = torch.nn.Parameter(torch.eye(2))
    problem = CEAGProblem(lambda model, batch: batch["x"] @ weight, _dense(1.0, [1.0, 1.0]),
                          tolerance=0.05, buffer_memory=4)
    optimizer = cooper.optim.AlternatingDualPrimalOptimizer(
        problem, torch.optim.SGD([weight], lr=0.0), torch.optim.SGD(problem.dual_parameters(), lr=0.1, maximize=True))
    batch = {"x": torch.tensor([[1., 0.]] * 4 + [[1., 0.]] * 4), "labels": torch.tensor([0] * 4 + [1] * 4),
             "groups": torch.tensor([0] * 4 + [1] * 4)}
    multipliers = problem.constraint.multiplier.weight
    optimizer.roll({"model": None, "batch": batch, "constrained": False})
    assert multipliers.abs().sum().item() == 0 and problem.buffer.query().full_groups.numel() == 0
    history = []
    for _ in range(3):
        optimizer.roll({"model": None, "batch": batch, "constrained": True})
        history.append(multipliers.detach().flatten().tolist())
    # buffer accuracy 1 and 0, overall 0.5: psi_0 = -0.5, psi_1 = 0.5 -> lambda_1 += 0.1 * (0.5 - 0.05)
    assert [h[0] for h in history] == [0.0, 0.0, 0.0]
    assert [h[1] for h in history] == pytest.approx([0.045, 0.09, 0.135])


@pytest.mark.parametrize("name", FAIR)
def test_every_setting_prunes_to_target_and_gives_finite_logits(name):
    from conftest import tiny_context
    from benchmark.models.inference import predict_logits

    recipe = RECIPES.get(name)
    for family in recipe.applies_to:
        ctx = tiny_context(family)
        # A short run with small buffers so that the constrained phase and dual updates happen.
        ctx.budget.update(fair_epochs=0.4, fair_buffer_size=2, fair_dual_lr=0.5)
        bundle = recipe.apply(ctx)
        logits = predict_logits(bundle, ctx.data.test, ctx.inputs)
        assert logits.shape == (len(ctx.data.test), ctx.data.spec.num_labels)
        assert np.isfinite(logits).all()
        assert sparsity_report(bundle.model).sparsity == pytest.approx(recipe.params["sparsity"] / 100, abs=2e-3)
        assert not any(k.endswith(("_orig", "_mask")) for k in bundle.model.state_dict())
        meta = bundle.meta["fairness"]
        assert meta["constrained_steps"] == meta["total_steps"] - meta["pruning_end_step"] > 0


def test_ceag_run_is_deterministic_and_moves_multipliers():
    from conftest import tiny_context

    runs = []
    for _ in range(2):
        ctx = tiny_context("resnet")
        ctx.budget.update(fair_epochs=0.5, fair_buffer_size=2, fair_dual_lr=0.5)
        bundle = RECIPES.get("fair-ceag-80-eps1").apply(ctx)
        runs.append((bundle.meta["fairness"]["multipliers"], [p.detach().clone() for p in bundle.model.parameters()]))
    assert runs[0][0] == runs[1][0] and any(m > 0 for m in runs[0][0])
    assert all(torch.equal(a, b) for a, b in zip(runs[0][1], runs[1][1]))


def _fair_run(name, **budget):
    from conftest import tiny_context
    ctx = tiny_context("resnet")
    ctx.budget.update(fair_epochs=0.5, fair_buffer_size=2, fair_dual_lr=0.5, **budget)
    return RECIPES.get(name).apply(ctx)


def test_records_carry_train_gaps_feasibility_multipliers_and_constrained_shares():
    nft, ceag = _fair_run("fair-nft-80"), _fair_run("fair-ceag-80-eps1")
    groups = 20   # colored digits: 10 labels x 2 colours
    for bundle in (nft, ceag):
        report = bundle.meta["report"]["fairness"]
        psi = report["train_psi_by_group"]
        assert report["train_max_psi"] == pytest.approx(max(psi.values()))
        assert report["train_feasible_at"] == {f"eps{e}": report["train_max_psi"] <= e / 100 for e in (1, 5)}
    assert nft.meta["report"]["fairness"]["multipliers"] == [] and "feasible" not in nft.meta["report"]["fairness"]
    report = ceag.meta["report"]["fairness"]
    assert report["feasible"] == (report["train_max_psi"] <= 0.01) and report["tolerance"] == 0.01
    assert len(report["multipliers"]) == len(report["active_share"]) == len(report["observed_share"]) == groups
    assert all(0.0 <= s <= 1.0 for s in report["active_share"] + report["observed_share"])
    # a group can only be active once its buffer has been full
    assert all(a <= o + 1e-9 or m == 0 for a, o, m in
               zip(report["active_share"], report["observed_share"], report["multipliers"]))


def test_ceag_differs_from_nft_when_a_constraint_is_violated():
    nft = _fair_run("fair-nft-80")
    ceag = _fair_run("fair-ceag-80-eps1")
    report = ceag.meta["report"]["fairness"]
    assert max(report["multipliers"]) > 0 and max(report["active_share"]) > 0
    assert any(not torch.equal(a, b) for a, b in zip(nft.model.parameters(), ceag.model.parameters()))
