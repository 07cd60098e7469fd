"""Balancing Act's training loop: gradual magnitude pruning, then (constrained) fine-tuning.

One loop serves NFT, EL+RB and CEAG so that they differ only in the problem they optimise:
the same batches, primal optimiser, schedule and pruning. The shared ``training.train`` cannot
host them: cooper's ``roll`` does the forward, both backward passes and both optimiser steps.

- Pruning (``sparsity.GradualMagnitudePruning``): layer-wise magnitude masks grow on the cubic
  schedule over the first ``prune_fraction`` of the steps, then stay fixed.
- Constraints are observed only once pruning has ended (the paper's
  ``apply_mitigation_while_pruning=False``); before that every method is plain ERM.
- Optimisers: cooper's ``AlternatingDualPrimalOptimizer`` (dual ascent first, then the primal step
  with the updated multipliers) for constrained problems, ``UnconstrainedOptimizer`` for ERM.
  The primal optimiser is the benchmark's AdamW at the task's lr and weight decay; the dual one is
  plain SGD (sparse gradients from the indexed multipliers), as in the authors' configs.
- Learning rate: linear warm-up, then x0.1 at 60/80/90 % of the steps (the paper's milestones).
  Gradients are not clipped (cooper steps right after its own backward; the paper does not clip).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import cooper
import torch
from accelerate.utils import set_seed
from tqdm.auto import tqdm

from benchmark.data.dataset import Split
from benchmark.models.bundle import Bundle
from benchmark.models.families import MODEL_FAMILIES
from benchmark.models.training import TrainConfig, make_accelerator
from benchmark.recipes.fair_problems import multiplier_values
from benchmark.models.training import training_steps
from benchmark.recipes.sparsity import GradualMagnitudePruning, sparsity_report

LR_MILESTONES = (0.6, 0.8, 0.9)


@dataclass(frozen=True)
class PruningPlan:
    sparsity: float             # final fraction of prunable weights set to zero
    prune_fraction: float = 0.25  # share of the steps spent pruning (paper: 15 of 60 epochs)
    prune_updates: int = 10     # mask updates along the cubic schedule (paper: one per epoch)

    def end_step(self, total: int) -> int:
        return max(1, min(total, round(total * self.prune_fraction)))


@dataclass
class RunRecord:
    """What the loop did; stored in ``bundle.meta["fairness"]``."""
    total_steps: int = 0
    pruning_end_step: int = 0
    constrained_steps: int = 0
    sparsity: float = 0.0
    multipliers: list[float] = field(default_factory=list)
    max_multiplier_by_step: list[tuple[int, float]] = field(default_factory=list)
    # per group, over the constrained steps: share in which its constraint was measured (full replay
    # buffer) and share in which it was active (multiplier != 0 after the step)
    observed_share: list[float] = field(default_factory=list)
    active_share: list[float] = field(default_factory=list)


class ConstraintTracker:
    """Counts, per group and constrained step, whether its constraint was measured (its replay
    buffer full) and active (non-zero multiplier): the evidence that a constraint did anything."""

    def __init__(self, problem):
        self.problem = problem
        self.steps = 0
        self.observed: torch.Tensor | None = None
        self.active: torch.Tensor | None = None

    def step(self) -> None:
        values = multiplier_values(self.problem)
        if not values:
            return
        buffer = getattr(self.problem, "buffer", None)
        observed = (buffer.query().counts > 0).float() if buffer is not None else torch.ones(len(values))
        active = (torch.tensor(values) != 0).float()   # equality multipliers may be negative
        self.observed = observed if self.observed is None else self.observed + observed
        self.active = active if self.active is None else self.active + active
        self.steps += 1

    def shares(self) -> tuple[list[float], list[float]]:
        if not self.steps:
            return [], []
        return (self.observed / self.steps).tolist(), (self.active / self.steps).tolist()


def step_schedule(total: int, warmup: float):
    warm = int(total * warmup)
    milestones = [int(total * m) for m in LR_MILESTONES]

    def factor(step: int) -> float:
        ramp = (step + 1) / warm if step < warm else 1.0
        return ramp * 0.1 ** sum(step >= m for m in milestones)
    return factor


def prune_and_recover(bundle: Bundle, split: Split, inputs: tuple[str, ...], config: TrainConfig,
                      problem: cooper.ConstrainedMinimizationProblem, plan: PruningPlan, *, seed: int,
                      dual_lr: float = 1e-2, desc: str = "fair", log_every: int = 10) -> Bundle:
    """Prune ``bundle.model`` in place to ``plan.sparsity`` while training it on ``problem``.

    ``problem.compute_cmp_state(model, batch, constrained)`` gives the loss (and, when
    ``constrained``, the constraint states). Masks are folded into the weights at the end.
    """
    set_seed(seed)
    family = MODEL_FAMILIES.get(bundle.family)
    model = bundle.model
    model.train()
    total = training_steps(len(split), config.batch_size, config.epochs)
    end_step = plan.end_step(total)
    # Masks are installed (at 0 %) before accelerate wraps the model, so later updates only touch buffers.
    pruning = GradualMagnitudePruning(model, plan.sparsity, end_step=end_step,
                                      every=max(1, end_step // max(1, plan.prune_updates)))
    accelerator = make_accelerator(config)
    primal = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.lr,
                               weight_decay=config.weight_decay)
    model, primal = accelerator.prepare(model, primal)
    schedule = torch.optim.lr_scheduler.LambdaLR(primal, step_schedule(total, config.warmup))
    problem.to(accelerator.device)
    duals = list(problem.dual_parameters())
    optimizer = (cooper.optim.AlternatingDualPrimalOptimizer(
        problem, primal, torch.optim.SGD(duals, lr=dual_lr, maximize=True)) if duals
        else cooper.optim.UnconstrainedOptimizer(problem, primal))
    record = RunRecord(total_steps=total, pruning_end_step=end_step)
    encoded = family.encode(bundle, split, inputs, config.max_length)
    tracker = ConstraintTracker(problem)
    progress = tqdm(total=total, desc=desc, leave=False, disable=None)
    step, epoch = 0, 0
    while step < total:
        for batch in family.batches(bundle, split, inputs, config.batch_size, shuffle=True,
                                    seed=seed * 1000 + epoch, encoded=encoded):
            batch = {k: v.to(accelerator.device) for k, v in batch.items()}
            constrained = step >= end_step
            with accelerator.autocast():
                rollout = optimizer.roll(compute_cmp_state_kwargs={"model": model, "batch": batch,
                                                                   "constrained": constrained})
            schedule.step()
            step += 1
            record.constrained_steps += int(constrained)
            if constrained:
                tracker.step()
            pruning(step)
            if duals and (step % log_every == 0 or step == total):
                record.max_multiplier_by_step.append((step, max(multiplier_values(problem), default=0.0)))
            progress.update(1)
            progress.set_postfix(loss=f"{rollout.loss.item():.3f}")
            if step >= total:
                break
        epoch += 1
    progress.close()
    bundle.model = accelerator.unwrap_model(model)
    pruning.finish()
    bundle.model.eval()
    record.sparsity = sparsity_report(bundle.model).sparsity
    record.multipliers = multiplier_values(problem)
    record.observed_share, record.active_share = tracker.shares()
    bundle.meta["fairness"] = asdict(record)
    return bundle
