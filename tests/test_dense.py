"""The dense reference is a function of (task, model, budget, seed), whatever ran before it in the
process: a pre-trained body's new task head is initialised from the seed."""
import numpy as np
import pytest
import torch

import benchmark.dense as dense_module
from conftest import _tiny_mc_spec


@pytest.mark.slow
def test_pretrained_head_init_follows_the_seed_not_the_rng_history(monkeypatch, tmp_path):
    from benchmark.data.dataset import load_task_data
    monkeypatch.setattr(dense_module, "train", lambda *a, **k: None)            # the init is what is tested
    monkeypatch.setattr(dense_module, "predict_logits", lambda bundle, split, *a, **k: np.zeros((len(split), 3)))
    spec = _tiny_mc_spec()
    data = load_task_data(spec, "quick")
    budget = spec.profile("quick")

    def head(cache, seed, noise):
        monkeypatch.setenv("CSBENCH_CACHE", str(tmp_path / cache))
        torch.rand(noise)                                                        # some earlier work's RNG use
        model = dense_module.get_dense(data, "minilm-l6", budget, seed).bundle.model
        return model.classifier.weight.detach().clone()

    first, second, other_seed = head("a", 0, 3), head("b", 0, 1000), head("c", 1, 3)
    assert torch.equal(first, second)
    assert not torch.equal(first, other_seed)
