"""Every metric a record may carry, with its formula: what `csbench ls metrics` prints and what
BENCHMARK.md documents. A test checks the evaluators emit only catalogued names."""
from __future__ import annotations

from dataclasses import dataclass

from benchmark.registry import Registry


@dataclass(frozen=True)
class MetricInfo:
    name: str
    formula: str
    higher_is_better: bool | None
    track: str = "classification"
    scope: str = "overall"          # overall | group | efficiency


METRICS: Registry[MetricInfo] = Registry("metric", base=MetricInfo)


def _metric(name, formula, higher_is_better, track="classification", scope="overall"):
    METRICS.register(name, MetricInfo(name, formula, higher_is_better, track, scope))


_metric("accuracy", "mean(1[pred = y]) over the test split (sample-weighted, as Gee et al.)", True)
_metric("worst_group_accuracy", "min_g A_g over groups with >= groups.min_size test examples, A_g = accuracy within "
        "group g", True)
_metric("worst_group_accuracy_ci_low", "2.5% bootstrap quantile of min_g A_g (resampling within groups)", True)
_metric("worst_group_accuracy_ci_high", "97.5% bootstrap quantile of min_g A_g", True)
_metric("group_accuracy_difference", "max_g A_g - min_g A_g (groups at the floor)", False)
_metric("accuracy_drop", "A_dense - A_comp", False)
_metric("worst_group_accuracy_drop", "min_g A_dense,g - min_g A_comp,g", False)
_metric("max_psi", "max_g psi_g, psi_g = (A_dense,g - A_comp,g) - (A_dense - A_comp) (Balancing Act)", False)
_metric("min_psi", "min_g psi_g", None)
_metric("psi_disparity", "max_g psi_g - min_g psi_g (Balancing Act's Psi_PairW)", False)
_metric("flip_rate", "(#correct->incorrect + #incorrect->correct) / N against the dense model (Dutta et al.)", False)
_metric("correct_to_incorrect", "#(dense right, compressed wrong) / N", False)
_metric("incorrect_to_correct", "#(dense wrong, compressed right) / N", None)
_metric("disagreement", "mean(1[pred_comp != pred_dense])", False)
_metric("dense_near_tie_rate", "share of examples whose two most likely classes under the dense model are within "
        "0.01 in probability (coin tosses that any perturbation may flip)", None)
_metric("flip_rate_decisive", "flip_rate over the examples that are not dense near-ties", False)
_metric("kl_mean", "mean over examples of KL(softmax(z_dense) || softmax(z_comp)), nats", False)
_metric("mcnemar_p", "two-sided exact McNemar p on the dense-vs-compressed correctness table: "
        "min(1, 2 P[Bin(b+c, 1/2) <= min(b, c)]), b, c = the two flip counts", None)
_metric("groups_at_floor", "test groups with >= groups.min_size examples (those the worst-group figures use)", None)
_metric("groups_below_floor", "test groups under groups.min_size examples (scored, not in worst-group figures)", None)
for _name, _what in (("accuracy_change", "A_comp - A_dense"),
                     ("worst_group_accuracy_change", "min_g A_comp,g - min_g A_dense,g"),
                     ("max_psi", "max_g psi_g"), ("flip_rate", "flip_rate")):
    _metric(f"{_name}_ci_low", f"2.5% quantile of {_what} over paired bootstrap resamples (the same "
            "within-group resamples for dense and compressed)", None)
    _metric(f"{_name}_ci_high", f"97.5% quantile of {_what} over the same paired resamples", None)
_metric("n", "examples in the group", None, scope="group")
_metric("below_floor", "1 if the group has fewer than groups.min_size test examples (left out of worst-group "
        "figures), else 0", None, scope="group")
_metric("dense_accuracy", "A_dense,g", True, scope="group")
_metric("psi", "psi_g = (A_dense,g - A_comp,g) - (A_dense - A_comp)", False, scope="group")
_metric("parameters", "number of stored parameters (dequantised count for quantised tensors)", False, scope="efficiency")
_metric("nonzero_parameters", "parameters that are not exactly zero (pruning masks applied)", False, scope="efficiency")
_metric("sparsity", "1 - nonzero_parameters / parameters", None, scope="efficiency")
_metric("bytes", "size of torch.save(state_dict), bytes (for a checkpoint scored by csbench eval: the bytes its "
        "safetensors files store)", False, scope="efficiency")
_metric("examples_per_second", "test examples / forward-pass seconds (batched, length-sorted, inference_mode)", True,
        scope="efficiency")
