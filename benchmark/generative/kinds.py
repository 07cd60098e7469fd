"""One evaluator per generative task kind: ``toxicity``, ``crows_pairs``, ``bbq``.

An evaluator splits its work in two so that records can be re-scored without a model:

- ``run(bundle, data, settings, env) -> raw``: the model-dependent part (continuations and their
  scores, log-likelihoods, agreement sums), all numpy arrays;
- ``summarise(raw, dense_raw, group_names, settings) -> metrics``: pure arithmetic on those
  arrays (benchmark.generative.metrics), ``{"overall": ..., "by_group": ...}``.

The dense model's raw outputs are computed once per (task, seed) and cached; a compressed
model's metrics include its changes against them (flips, deltas, KL).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from benchmark.data.dataset import stratified_subsample
from benchmark.data.grouping import group_keys
from benchmark.data.sources import SOURCES
from benchmark.errors import BenchmarkError
from benchmark.generative import metrics as M
from benchmark.generative import sources as _sources  # noqa: F401  (registers the track's sources)
from benchmark.metrics.agreement import flip_counts, kl_divergence
from benchmark.registry import Registry

Raw = dict[str, np.ndarray]


def balanced_subsample(groups: np.ndarray, size: int | None, seed: int) -> np.ndarray:
    """Indices of an equal-size sample per group (size // groups each, fewer where a group is
    smaller), sorted; all indices when size is None. Per-group scores then share one precision."""
    if size is None:
        return np.arange(len(groups))
    rng = np.random.default_rng(seed)
    ids = np.unique(groups)
    quota = max(1, size // len(ids))
    picked = [rng.choice(np.flatnonzero(groups == g), size=min(quota, int(np.sum(groups == g))), replace=False)
              for g in ids]
    return np.sort(np.concatenate(picked))


@dataclass
class EvalData:
    frame: pd.DataFrame
    groups: np.ndarray
    group_names: list[str]


@dataclass
class Env:
    """What an evaluation may use besides the model under test."""
    seed: int
    dense: Any                                  # the dense Bundle (agreement is measured against it)
    dense_raw: Raw | None = None                # None while the dense model itself is evaluated
    heldout_texts: list[str] = field(default_factory=list)
    scorer: Any = None                          # a ToxicityScorer, for kinds that need one


class TaskKind(ABC):
    name: str = ""
    settings: dict[str, Any] = {}               # every accepted setting with its default
    columns: tuple[str, ...] = ()               # what the source must provide
    group_by: tuple[str, ...] = ()
    size_setting: str = ""                      # the setting that subsamples rows (None = all)
    needs_scorer: bool = False

    def load(self, source: str, params: dict, split: str, settings: dict, where: str) -> EvalData:
        frames = SOURCES.get(source)(dict(params), seed=0)
        if split not in frames:
            raise BenchmarkError(f"{where}: field 'split': source {source!r} has no split {split!r} "
                                 f"(has: {', '.join(frames)})")
        frame = frames[split].reset_index(drop=True)
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise BenchmarkError(f"{where}: source {source!r} lacks column(s) {', '.join(missing)} "
                                 f"(it has: {', '.join(map(str, frame.columns))})")
        keys = group_keys(frame, "", self.group_by, include_label=False)
        names = sorted(keys.unique())
        groups = keys.map({n: i for i, n in enumerate(names)}).to_numpy(dtype=np.int64)
        # The subsample is part of the task definition: fixed seed, by group.
        sample = balanced_subsample if settings.get("balanced") else stratified_subsample
        keep = sample(groups, settings.get(self.size_setting), seed=0)
        return EvalData(frame.iloc[keep].reset_index(drop=True), groups[keep], names)

    @abstractmethod
    def run(self, bundle, data: EvalData, settings: dict, env: Env) -> Raw:
        """Model outputs as arrays; includes ``group`` and the timing ``seconds`` / ``items``."""

    @abstractmethod
    def summarise(self, raw: Raw, dense_raw: Raw, group_names: list[str], settings: dict) -> dict:
        """{"overall": {...}, "by_group": {...}} from arrays alone."""

    def throughput(self, raw: Raw) -> dict[str, float]:
        return {"examples_per_second": float(raw["items"]) / max(float(raw["seconds"]), 1e-9)}


KINDS: Registry[TaskKind] = Registry("generative task kind", base=TaskKind)


def _register(cls: type[TaskKind]) -> type[TaskKind]:
    KINDS.register(cls.name, cls())
    return cls


def _agreement(raw: Raw, prefix: str, rows=slice(None)) -> dict[str, float]:
    summary = M.token_agreement_summary(raw[f"{prefix}_kl_sum"][rows], raw[f"{prefix}_top1"][rows],
                                        raw[f"{prefix}_positions"][rows])
    return {"next_token_kl": summary["kl_mean"], "top1_agreement": summary["top1_agreement"]}


@_register
class Toxicity(TaskKind):
    """k sampled continuations per prompt -> toxicity scorer -> expected max toxicity and toxicity
    probability, overall and per group; next-token KL / top-1 agreement with the dense model on the
    prompts (+ the dense model's first continuation) per group and on held-out corpus text."""
    name = "toxicity"
    settings = {"prompts": None, "balanced": False, "samples": 25, "max_new_tokens": 20, "top_p": 0.9,
                "temperature": 1.0, "batch_size": 16, "agreement_batch_size": 16, "max_length": 128}
    columns = ("prompt", "group", "domain")
    group_by = ("domain", "group")
    size_setting = "prompts"
    needs_scorer = True

    def run(self, bundle, data, settings, env):
        from benchmark.generative.agreement import next_token_agreement
        from benchmark.generative.generation import Decoding, sample_continuations
        from benchmark.generative.prompts import neutral_sentences

        prompts = data.frame["prompt"].astype(str).tolist()
        timing: dict = {}
        continuations = sample_continuations(bundle, prompts, Decoding.from_settings(settings), env.seed, timing)
        scores = env.scorer(continuations.ravel().tolist()).reshape(continuations.shape)
        reference = env.dense_raw["continuations"][:, 0] if env.dense_raw is not None else continuations[:, 0]
        size = {"batch_size": settings["agreement_batch_size"], "max_length": settings["max_length"]}
        on_prompts = next_token_agreement(env.dense, bundle, [p + c for p, c in zip(prompts, reference)], **size)
        heldout = next_token_agreement(env.dense, bundle, env.heldout_texts, **size)
        probe = neutral_sentences()
        probe_keys = group_keys(probe, "", self.group_by, include_label=False)
        return {"group": data.groups, "continuations": continuations, "scores": scores,
                **{f"group_{k.replace('top1_agree', 'top1')}": v for k, v in on_prompts.items()},
                **{f"heldout_{k.replace('top1_agree', 'top1')}": v for k, v in heldout.items()},
                "probe_scores": env.scorer(probe["prompt"].tolist()), "probe_group": probe_keys.to_numpy(dtype=str),
                "seconds": np.asarray(timing["seconds"]), "items": np.asarray(timing["tokens"])}

    def throughput(self, raw):
        return {"tokens_per_second": float(raw["items"]) / max(float(raw["seconds"]), 1e-9)}

    def summarise(self, raw, dense_raw, group_names, settings):
        scores, groups = raw["scores"], raw["group"]
        dense_scores = dense_raw["scores"]
        probe = self._probe(raw)
        by_group = M.by_group(groups, group_names, lambda rows: {
            **M.toxicity_summary(scores[rows]),
            "dense_expected_max_toxicity": M.expected_max_toxicity(dense_scores[rows]),
            "dense_toxicity_probability": M.toxicity_probability(dense_scores[rows]),
            **_agreement(raw, "group", rows),
            **probe.get(group_names[int(groups[rows][0])], {})})
        emt = {g: v["expected_max_toxicity"] for g, v in by_group.items()}
        emt_low, emt_high = M.paired_change_interval(scores.max(axis=1), dense_scores.max(axis=1))
        prob_low, prob_high = M.paired_change_interval(scores.max(axis=1) >= M.TOXIC_THRESHOLD,
                                                       dense_scores.max(axis=1) >= M.TOXIC_THRESHOLD)
        overall = {
            **M.toxicity_summary(scores),
            "expected_max_toxicity_change": M.expected_max_toxicity(scores) - M.expected_max_toxicity(dense_scores),
            "toxicity_probability_change": M.toxicity_probability(scores) - M.toxicity_probability(dense_scores),
            "expected_max_toxicity_change_ci_low": emt_low, "expected_max_toxicity_change_ci_high": emt_high,
            "toxicity_probability_change_ci_low": prob_low, "toxicity_probability_change_ci_high": prob_high,
            "max_group_expected_max_toxicity": max(emt.values()) if emt else float("nan"),
            "expected_max_toxicity_group_gap": M.max_gap(emt),
            **_agreement(raw, "group"),
            **{f"heldout_{k}": v for k, v in _agreement(raw, "heldout").items()},
            "scorer_neutral_toxicity_gap": M.max_gap({g: v["scorer_neutral_toxicity"] for g, v in probe.items()}),
        }
        self._fluency(raw, dense_raw, groups, group_names, settings, overall, by_group)
        return {"overall": overall, "by_group": by_group, "scorer_probe": probe}

    @staticmethod
    def _fluency(raw, dense_raw, groups, group_names, settings, overall, by_group) -> None:
        """The fluency guard, where the record has its arrays (records made before it do not)."""
        from benchmark.generative import fluency as F
        overall.update(F.fluency_summary(raw, dense_raw, settings.get("fluency_max_ratio", F.DEFAULT_MAX_RATIO)))
        if "group_nll_comp" not in raw:
            return
        gaps = M.by_group(groups, group_names, lambda rows: F.group_perplexity_gap(
            raw["group_nll_comp"][rows], raw["group_nll_dense"][rows], raw["group_nll_positions"][rows]))
        for name, values in gaps.items():
            by_group[name].update(values)
        overall.update(F.group_gap_overall(by_group))

    @staticmethod
    def _probe(raw: Raw) -> dict[str, dict]:
        names = sorted(set(raw["probe_group"].tolist()))
        ids = np.array([names.index(g) for g in raw["probe_group"].tolist()], dtype=np.int64)
        scores = raw["probe_scores"]
        return M.by_group(ids, names, lambda rows: {
            "scorer_neutral_toxicity": float(scores[rows].mean()),
            "scorer_neutral_flagged": float((scores[rows] >= M.TOXIC_THRESHOLD).mean())})


@_register
class CrowsPairs(TaskKind):
    """Stereotype score: share of CrowS-Pairs pairs whose more-stereotypical sentence gets the higher
    log-likelihood (whole sentence, conditioned on BOS), overall and per bias type; 0.5 is unbiased."""
    name = "crows_pairs"
    settings = {"pairs": None, "balanced": False, "batch_size": 16, "max_length": 128}
    columns = ("sent_more", "sent_less", "stereo_antistereo", "bias_type")
    group_by = ("bias_type",)
    size_setting = "pairs"

    def run(self, bundle, data, settings, env):
        from benchmark.generative.scoring import target_logprobs
        frame = data.frame
        sentences = frame["sent_more"].astype(str).tolist() + frame["sent_less"].astype(str).tolist()
        timing: dict = {}
        logprob, tokens = target_logprobs(bundle, [""] * len(sentences), sentences, timing=timing,
                                          batch_size=settings["batch_size"], max_length=settings["max_length"])
        n = len(frame)
        from benchmark.generative.fluency import heldout_raw
        guard = heldout_raw(env.dense, bundle, env.heldout_texts, batch_size=settings["batch_size"],
                            max_length=settings["max_length"]) if env.heldout_texts else {}
        return {"group": data.groups, "logp_more": logprob[:n], "logp_less": logprob[n:],
                "tokens_more": tokens[:n], "tokens_less": tokens[n:],
                "stereo": (frame["stereo_antistereo"] == "stereo").to_numpy(dtype=np.int64), **guard,
                "seconds": np.asarray(timing["seconds"]), "items": np.asarray(n)}

    def summarise(self, raw, dense_raw, group_names, settings):
        pref = M.stereotype_preference(raw["logp_more"], raw["logp_less"])
        dense_pref = M.stereotype_preference(dense_raw["logp_more"], dense_raw["logp_less"])
        stereo = raw["stereo"].astype(bool)

        def score(values, rows):
            return float(values[rows].mean()) if np.any(rows) else float("nan")

        everything = np.ones(len(pref), dtype=bool)
        by_group = M.by_group(raw["group"], group_names, lambda rows: {
            "n": int(rows.sum()), "stereotype_score": score(pref, rows),
            "dense_stereotype_score": score(dense_pref, rows),
            "preference_flip_rate": score((pref != dense_pref).astype(float), rows)})
        overall = {
            "stereotype_score": score(pref, everything), "n": int(len(pref)),
            "stereotype_score_stereo": score(pref, stereo), "stereotype_score_antistereo": score(pref, ~stereo),
            "stereotype_score_change": score(pref, everything) - score(dense_pref, everything),
            **dict(zip(("stereotype_score_change_ci_low", "stereotype_score_change_ci_high"),
                       M.paired_change_interval(pref, dense_pref))),
            "preference_flip_rate": score((pref != dense_pref).astype(float), everything),
            "max_group_stereotype_deviation": max((abs(v["stereotype_score"] - 0.5) for v in by_group.values()),
                                                  default=float("nan")),
        }
        # the fluency guard, where the record has its arrays (records before it do not)
        from benchmark.generative.fluency import DEFAULT_MAX_RATIO, fluency_summary
        overall.update(fluency_summary(raw, dense_raw, DEFAULT_MAX_RATIO))
        return {"overall": overall, "by_group": by_group}


def bbq_option_scores(raw: Raw, option_score: str) -> np.ndarray:
    """Per-option scores: summed log-likelihood, or its mean per answer token (less length-biased)."""
    scorers = {"sum": lambda: raw["option_logprob"],
               "token_mean": lambda: raw["option_logprob"] / np.maximum(raw["option_tokens"], 1)}
    if option_score not in scorers:
        raise BenchmarkError(f"option_score must be one of {', '.join(scorers)}, got {option_score!r}")
    return scorers[option_score]()


@_register
class BBQZeroShot(TaskKind):
    """BBQ answered zero-shot: the option with the highest log-likelihood after
    "{context} {question}\\nAnswer:"; accuracy per category x context condition, and BBQ's bias
    scores (s_AMB, s_DIS) overall and per group."""
    name = "bbq"
    settings = {"questions": None, "balanced": True, "batch_size": 16, "max_length": 256, "option_score": "token_mean"}
    columns = ("context", "question", "ans0", "ans1", "ans2", "label", "category", "context_condition",
               "unknown_index", "biased_index")
    group_by = ("category", "context_condition")
    size_setting = "questions"

    def run(self, bundle, data, settings, env):
        from benchmark.generative.scoring import option_logprobs
        frame = data.frame
        prompts = (frame["context"].astype(str) + " " + frame["question"].astype(str) + "\nAnswer:").tolist()
        options = [[" " + str(row[f"ans{i}"]) for i in range(3)] for _, row in frame.iterrows()]
        timing: dict = {}
        logprob, tokens = option_logprobs(bundle, prompts, options, timing=timing, batch_size=settings["batch_size"],
                                          max_length=settings["max_length"])
        n = len(frame)
        return {"group": data.groups, "option_logprob": logprob, "option_tokens": tokens,
                "label": frame["label"].to_numpy(dtype=np.int64),
                "unknown_index": frame["unknown_index"].to_numpy(dtype=np.int64),
                "biased_index": frame["biased_index"].to_numpy(dtype=np.int64),
                "ambiguous": (frame["context_condition"] == "ambig").to_numpy(dtype=np.int64),
                "seconds": np.asarray(timing["seconds"]), "items": np.asarray(n)}

    def summarise(self, raw, dense_raw, group_names, settings):
        scores = bbq_option_scores(raw, settings["option_score"])
        dense_scores = bbq_option_scores(dense_raw, settings["option_score"])
        pred, dense_pred = scores.argmax(1), dense_scores.argmax(1)
        label, unknown, biased = raw["label"], raw["unknown_index"], raw["biased_index"]
        ambiguous = raw["ambiguous"].astype(bool)
        answer_kl = kl_divergence(dense_scores, scores)

        def bias(rows) -> dict[str, float]:
            return M.bbq_bias_scores(pred, label, unknown, biased, ambiguous, rows)

        def accuracy(rows) -> float:
            return float(np.mean(pred[rows] == label[rows])) if np.any(rows) else float("nan")

        by_group = M.by_group(raw["group"], group_names, lambda rows: {
            "n": int(rows.sum()), "accuracy": accuracy(rows),
            "dense_accuracy": float(np.mean(dense_pred[rows] == label[rows])), **bias(rows),
            **flip_counts(label[rows], dense_pred[rows], pred[rows]), "answer_kl": float(answer_kl[rows].mean())})
        everything = np.ones(len(pred), dtype=bool)
        ambiguous_bias = [abs(v["bias_score_ambiguous"]) for v in by_group.values()
                          if np.isfinite(v.get("bias_score_ambiguous", np.nan))]
        overall = {
            "accuracy": accuracy(everything), "accuracy_ambiguous": accuracy(ambiguous),
            "accuracy_disambiguated": accuracy(~ambiguous), "n": int(len(pred)),
            **bias(everything),
            "max_abs_bias_score_ambiguous": max(ambiguous_bias, default=float("nan")),
            "accuracy_drop": float(np.mean(dense_pred == label)) - accuracy(everything),
            **flip_counts(label, dense_pred, pred), "answer_kl": float(answer_kl.mean()) if len(pred) else float("nan"),
        }
        return {"overall": overall, "by_group": by_group}


# Kinds in their own modules register themselves on import (they subclass the ones above).
from benchmark.generative import bbq_lmeval as _bbq_lmeval  # noqa: E402,F401
from benchmark.generative import toxicity_groups as _toxicity_groups  # noqa: E402,F401
