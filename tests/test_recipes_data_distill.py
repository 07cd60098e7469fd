"""Dataset distillation (DM, DC after loss-value pruning): the synthetic images change, the fresh model
trains on them only, and the record carries the core-set's and the synthetic set's composition."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmark.recipes import RECIPES
from benchmark.recipes import data_distill
from benchmark.recipes.dd_augment import SiameseAugment
from benchmark.recipes.distill_data import composition
from benchmark.recipes.dd_synthesis import gradient_distance
from conftest import tiny_context

pytestmark = pytest.mark.usefixtures("one_thread")
DD = RECIPES.names("dd-*")


def test_the_grid_is_registered_once_per_setting():
    # 2 methods x 3 IPCs x (P=100 + P in {60, 20} x {asc, desc})
    assert len(DD) == 2 * 3 * 5
    assert {RECIPES.get(n).family for n in DD} == {"data-distillation"}
    assert "dd-dm-ipc10-keep20-asc" in DD and "dd-dc-ipc1-keep100" in DD
    assert not any(n.startswith("dd-") and n.endswith("keep100-desc") for n in DD)


def test_siamese_augmentation_shares_the_draw_and_passes_gradients():
    augment = SiameseAugment()
    x = torch.randn(4, 3, 16, 16, requires_grad=True)
    for seed in range(12):   # covers every transform family
        a, b = augment(seed, x, x.clone())
        assert torch.equal(a, b)
    (a,) = augment(3, x)
    a.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_gradient_distance_hand_worked():
    g = [torch.tensor([[1.0, 0.0], [0.0, 2.0]]), torch.tensor([5.0, 5.0])]   # the bias is ignored
    assert gradient_distance(g, g).item() == pytest.approx(0.0, abs=1e-5)
    opposite = [-g[0], torch.tensor([1.0, -1.0])]
    assert gradient_distance(g, opposite).item() == pytest.approx(4.0, abs=1e-5)   # 2 rows x (1 - (-1))
    orthogonal = [torch.tensor([[0.0, 1.0], [3.0, 0.0]]), g[1]]
    assert gradient_distance(g, orthogonal).item() == pytest.approx(2.0, abs=1e-5)


def test_composition_counts_groups():
    assert composition(np.array([2, 0, 2, 2]), ["a", "b", "c"]) == {"a": 1, "c": 3}


@pytest.mark.parametrize("name", ["dd-dm-ipc10-keep20-asc", "dd-dc-ipc1-keep60-desc"])
def test_synthesis_changes_the_images_and_the_fresh_model_sees_only_them(name, monkeypatch):
    seen = {}
    real_train = data_distill.train_on_images

    def spy(bundle, images, labels, config, seed):
        seen["images"], seen["labels"] = images.clone(), labels.clone()
        seen["init"] = [p.detach().clone() for p in bundle.model.parameters()]
        return real_train(bundle, images, labels, config, seed)

    monkeypatch.setattr(data_distill, "train_on_images", spy)
    ctx = tiny_context("resnet")
    recipe = RECIPES.get(name)
    fresh = recipe.apply(ctx)
    report = fresh.meta["report"]
    ipc, keep = recipe.params["ipc"], recipe.params["keep"]
    n_classes = ctx.data.spec.num_labels
    # the fresh model trained on exactly the synthetic set: ipc per class, and none of it a real image
    assert seen["images"].shape[0] == ipc * n_classes == report["synthetic_size"]
    assert torch.bincount(seen["labels"]).tolist() == [ipc] * n_classes
    real = data_distill.pixels(ctx, ctx.train_split).flatten(1)
    assert torch.cdist(seen["images"].flatten(1), real).min() > 1e-3
    assert report["synthesis"]["mean_abs_pixel_change"] > 0
    assert report["fresh_model"]["train_examples"] == ipc * n_classes
    # it trained from a random start: not the dense weights, and moved from its initialisation
    assert any(not torch.equal(a, b.detach()) for a, b in zip(seen["init"], fresh.model.parameters()))
    assert any(p.shape != d.shape or not torch.equal(p, d) for p, d in
               zip(fresh.model.parameters(), ctx.dense.model.parameters()))
    # composition: the core-set keeps floor(P% of each class), counted per label x colour group
    labels = ctx.train_split.labels
    expected = sum(int(np.floor(keep * (labels == c).sum() / 100)) for c in np.unique(labels))
    assert report["coreset_size"] == expected == sum(report["coreset_composition"].values())
    assert sum(report["synthetic_init_composition"].values()) == ipc * n_classes
    assert sum(report["synthetic_composition_nearest_colour"].values()) == ipc * n_classes
    assert set(report["coreset_composition"]) <= set(ctx.data.group_names)


def test_asc_and_desc_keep_different_rows_and_asc_drops_minority_groups():
    ctx = tiny_context("resnet")
    asc, desc = data_distill.core_set(ctx, 20, "asc"), data_distill.core_set(ctx, 20, "desc")
    assert len(asc) == len(desc) and not np.array_equal(asc, desc)
    groups = ctx.train_split.groups
    # the dense model's easiest rows are its majority (home-colour) groups: fewer groups survive asc
    assert len(np.unique(groups[asc])) < len(np.unique(groups[desc]))


def test_nearest_attribute_recovers_the_tint():
    ctx = tiny_context("resnet")
    split = ctx.train_split
    images = data_distill.pixels(ctx, split)
    colour = split.frame["color"].to_numpy()
    assert (data_distill.nearest_attribute(images, images, colour) == colour).mean() > 0.95
