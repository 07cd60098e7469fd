"""Named suites: which tasks, recipes and seeds one `csbench run --suite NAME` expands to.

Sweeps are expanded in code (the recipe registry), so a suite names recipes or glob patterns,
never one file per grid point.
"""
from __future__ import annotations

from dataclasses import dataclass

from benchmark.registry import Registry


@dataclass(frozen=True)
class Suite:
    name: str
    tasks: tuple[str, ...]
    recipes: tuple[str, ...]                 # for every task
    seeds: tuple[int, ...] = (0,)
    profile: str = "quick"
    description: str = ""
    per_family: tuple[tuple[str, tuple[str, ...]], ...] = ()   # extra recipes for one model family

    def recipes_for(self, family: str) -> list[str]:
        return list(self.recipes) + [r for fam, names in self.per_family if fam == family for r in names]


SUITES: Registry[Suite] = Registry("suite", base=Suite)


def _suite(**kwargs):
    SUITES.register(kwargs["name"], Suite(**kwargs))


# The spine's three recipes: int8 quantization, magnitude pruning, a distilled student. Dynamic int8
# and layer-dropped students are Linear/transformer methods, so the ResNet gets their counterparts.
# Dynamic int8 runs on fbgemm: torchao's eager int8 is ~16x slower than fp32 on AVX2-only CPUs.
# The two controls (another seed's dense model, another evaluation batch size) are the noise floor.
SPINE = dict(
    recipes=("dense", "dense-reseed", "dense-rebatch", "prune-magnitude-40"),
    per_family=(("encoder_cls", ("quant-int8-dynamic-fbgemm", "distill-kd-l3")),
                ("encoder_mc", ("quant-int8-dynamic-fbgemm", "distill-kd-l3")),
                ("resnet", ("quant-int8-static", "distill-kd-resnet-w50"))))

_suite(name="quick", tasks=("bbq", "colored_fashion_mnist"), **SPINE, seeds=(0, 1, 2),
       description="The offline default: BBQ (MiniLM) and colored Fashion-MNIST (ResNet), dense + 3 recipes + "
                   "2 noise-floor controls, seeds 0, 1, 2")
_suite(name="smoke", tasks=("synthetic", "colored_digits"), **SPINE,
       description="Tiny models on tiny data: walks the whole path in about a minute")
_suite(name="generative-quick", tasks=("toxicity_prompts", "crows_pairs", "bbq_zeroshot"),
       # one setting per compression family, so the suite fits ~20 min on 2 CPU cores
       recipes=("dense", "quant-int8-dynamic-fbgemm", "quant-int4-weight-only", "prune-lm-magnitude-40",
                "distill-lm-keep50"),
       description="The decoder track offline: SmolLM2-135M and compressed variants on toxicity prompts, "
                   "CrowS-Pairs and zero-shot BBQ (subsampled)")
_suite(name="generative-groups", tasks=("toxicity_groups", "crows_pairs_full", "bbq_zeroshot_lmeval"),
       # today's decoder recipes + llm-compressor's; ~25 min per recipe on 2 CPU cores (BBQ ~14, toxicity ~8.5,
       # CrowS ~2.4, projected from the committed timings and single-thread ratios), ~3.5-4 h in all
       recipes=("dense", "quant-int8-dynamic-fbgemm", "quant-int4-weight-only", "prune-lm-magnitude-40",
                "distill-lm-keep50", "quant-gptq-w4a16", "quant-w8a8-smoothquant-gptq", "prune-sparsegpt-50",
                "prune-wanda-50"),
       description="The decoder track readable per group: toxicity (36 groups x 20 counterfactual prompts, two "
                   "scorers, sentiment, swap rate), all of CrowS-Pairs, BBQ as lm-eval scores it (100 per group), "
                   "with the fluency guard; SmolLM2-135M, today's recipes and llm-compressor's")
# Issue 11's committed evidence: dataset distillation after loss-value pruning (DM, 10 images per class,
# P = 100 and P in {60, 20} x {asc, desc}) and Balancing Act's three recoveries at 90% sparsity, 3 seeds.
# The dense rows come from the quick suite (same dense model per seed).
_suite(name="fidelity", tasks=("colored_fashion_mnist",), seeds=(0, 1, 2),
       recipes=("dd-dm-ipc10-keep100", "dd-dm-ipc10-keep60-asc", "dd-dm-ipc10-keep60-desc", "dd-dm-ipc10-keep20-asc",
                "dd-dm-ipc10-keep20-desc", "fair-nft-90", "fair-elrb-90", "fair-ceag-90-eps1"),
       description="Dataset distillation (DM, IPC 10) after the loss-value core-set, asc/desc, and NFT vs EL+RB vs "
                   "CEAG at 90% sparsity on colored Fashion-MNIST, seeds 0-2 (~45 min on 2 shared cores)")
_suite(name="all-recipes", tasks=("bbq", "colored_fashion_mnist"), recipes=("*",),
       description="Every registered recipe that applies, on both offline tasks (quick budgets; hours on 2 CPU cores)")
