"""Generative records -> the generative leaderboard: one row per (dense decoder, recipe), toxicity,
stereotype score, BBQ bias, next-token KL and size side by side (mean ± SE over seeds), then
per-group tables (toxicity with the scorer's own bias beside it, CrowS-Pairs by bias type,
BBQ s_AMB by category).

Records are per task; a row gathers the records of every generative task for one recipe and seed.
Columns are named ``<task>.<metric>`` so two tasks of one kind (e.g. two prompt sets) never mix.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.records import atomic_write_text
from benchmark.validation import valid_records
from benchmark.report.leaderboard import markdown_cell

# kind -> (header, metric in metrics.overall, scale, digits)
KIND_COLUMNS = {
    "toxicity": [("EMT", "expected_max_toxicity", 1, 3), ("tox. prob %", "toxicity_probability", 100, 1),
                 ("KL held-out", "heldout_next_token_kl", 1, 3), ("top-1 agree %", "heldout_top1_agreement", 100, 1)],
    "crows_pairs": [("stereotype %", "stereotype_score", 100, 1), ("pref. flips %", "preference_flip_rate", 100, 1)],
    "bbq": [("BBQ acc %", "accuracy", 100, 1), ("s_AMB %", "bias_score_ambiguous", 100, 1),
            ("s_DIS %", "bias_score_disambiguated", 100, 1)],
    "toxicity_groups": [("EMT", "expected_max_toxicity", 1, 3), ("tox. prob %", "toxicity_probability", 100, 1),
                        ("EMT HateSonar", "expected_max_toxicity_hatesonar", 1, 3), ("sentiment", "sentiment", 1, 3),
                        ("swap tox. %", "swap_toxicity_change_rate", 100, 1),
                        ("swap sent. %", "swap_sentiment_change_rate", 100, 1),
                        ("ppl held-out x", "heldout_perplexity_ratio", 1, 2),
                        ("ppl cont. x", "continuation_perplexity_ratio", 1, 2)],
    "bbq_lmeval": [("BBQ acc %", "accuracy", 100, 1), ("BBQ unknown %", "unknown_answer_rate", 100, 1),
                   ("s_AMB %", "bias_score_ambiguous", 100, 1), ("s_DIS %", "bias_score_disambiguated", 100, 1),
                   ("ppl held-out x", "heldout_perplexity_ratio", 1, 2)],
}
EFFICIENCY_COLUMNS = [("params M", "parameters", 1e-6, 1), ("non-zero M", "nonzero_parameters", 1e-6, 1),
                      ("size MB", "bytes", 1e-6, 0)]
# kind -> (metric per group, scale, title)
GROUP_TABLES = {
    "toxicity": ("expected_max_toxicity", 1, "expected max toxicity per group"),
    "crows_pairs": ("stereotype_score", 100, "stereotype score % per bias type (50 = unbiased)"),
    "bbq": ("bias_score_ambiguous", 100, "BBQ s_AMB % per category (ambiguous contexts)"),
    "bbq_lmeval": ("accuracy", 100, "BBQ accuracy % per category x context condition"),
    "toxicity_groups": ("expected_max_toxicity", 1, "expected max toxicity per group"),
}
TOXICITY_KINDS = ("toxicity", "toxicity_groups")
COLLAPSED = "fluency_collapsed"
COLLAPSED_NOTE = ("† fluency collapsed: held-out or continuation perplexity more than 2x the dense model's "
                  "(benchmark.generative.fluency); its toxicity and bias numbers describe a model that cannot write, "
                  "so it is listed last and never read as less toxic or less biased.")
KEYS = ["dense", "recipe", "family", "seed"]


def _generative_records(results_dir):
    return [(path, record) for path, record in valid_records(results_dir) if record.track == "generative"]


def generative_frame(results_dir: str | Path) -> pd.DataFrame:
    """One row per (dense, recipe, family, seed): every task's headline metrics plus efficiency."""
    rows = []
    for _, record in _generative_records(results_dir):
        kind, task = record.task.get("kind"), record.task["name"]
        row = {"dense": record.model.get("dense", ""), "recipe": record.recipe["name"],
               "family": record.recipe.get("family", ""), "seed": record.seed}
        for _, metric, scale, _ in KIND_COLUMNS.get(kind, []):
            row[f"{task}.{metric}"] = record.metrics["overall"].get(metric, np.nan) * scale
        if COLLAPSED in record.metrics["overall"]:
            row[f"{task}.{COLLAPSED}"] = record.metrics["overall"][COLLAPSED]
        for _, metric, scale, _ in EFFICIENCY_COLUMNS:
            row[metric] = record.efficiency.get(metric, np.nan) * scale
        rows.append(row)
    if not rows:
        return pd.DataFrame(columns=KEYS)
    # Efficiency is the same model's in every task record: keep the first non-missing value per column.
    return pd.DataFrame(rows).groupby(KEYS, sort=False).first().reset_index()


def summarise_generative(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard error over seeds per (dense, recipe, family); ``<col>_se`` beside each column."""
    if frame.empty:
        return frame
    values = [c for c in frame.columns if c not in KEYS]
    grouped = frame.groupby(["dense", "recipe", "family"], sort=False)
    mean = grouped[values].mean()
    se = grouped[values].std(ddof=1) / np.sqrt(grouped[values].count())
    return mean.join(se.add_suffix("_se")).join(grouped["seed"].count().rename("seeds")).reset_index()


def _fmt(mean, se, digits: int) -> str:
    if pd.isna(mean):
        return "-"
    return f"{mean:.{digits}f}" + (f" ± {se:.{digits}f}" if pd.notna(se) else "")


def _task_kinds(results_dir) -> dict[str, str]:
    return {record.task["name"]: record.task.get("kind", "") for _, record in _generative_records(results_dir)}


def headline_markdown(summary: pd.DataFrame, task_kinds: dict[str, str]) -> str:
    columns = [(f"{label} ({task})" if sum(k == kind for k in task_kinds.values()) > 1 else label,
                f"{task}.{metric}", digits)
               for task, kind in sorted(task_kinds.items(), key=lambda tk: list(KIND_COLUMNS).index(tk[1])
                                        if tk[1] in KIND_COLUMNS else 99)
               for label, metric, _, digits in KIND_COLUMNS.get(kind, [])]
    columns += [(label, metric, digits) for label, metric, _, digits in EFFICIENCY_COLUMNS]
    columns = [c for c in columns if c[1] in summary.columns]
    parts = []
    flags = [c for c in summary.columns if c.endswith(f".{COLLAPSED}")]
    collapsed = summary[flags].fillna(0).max(axis=1) > 0 if flags else pd.Series(False, index=summary.index)
    for dense, rows in summary.assign(_collapsed=collapsed).groupby("dense", sort=False):
        parts += [f"### {markdown_cell(dense)}", "", "| recipe | family | seeds | " + " | ".join(c[0] for c in columns) + " |",
                  "|---|---|---|" + "---|" * len(columns)]
        for _, r in rows.sort_values("_collapsed", kind="stable").iterrows():   # collapsed rows last
            cells = [_fmt(r[col], r.get(f"{col}_se"), digits) for _, col, digits in columns]
            mark = " †" if r["_collapsed"] else ""
            parts.append(f"| {markdown_cell(r.recipe)}{mark} | {markdown_cell(r.family)} | {r.seeds} | " + " | ".join(cells) + " |")
        parts.append("")
    if collapsed.any():
        parts += [COLLAPSED_NOTE, ""]
    return "\n".join(parts)


# (header, change metric in metrics.overall, scale, digits); the interval is <metric>_ci_low / _ci_high
CHANGE_COLUMNS = {
    "toxicity": [("Δ EMT", "expected_max_toxicity_change", 1, 3),
                 ("Δ tox. prob %", "toxicity_probability_change", 100, 1)],
    "crows_pairs": [("Δ stereotype %", "stereotype_score_change", 100, 1)],
    "bbq_lmeval": [("Δ BBQ acc %", "accuracy_change", 100, 1)],
    "toxicity_groups": [("Δ EMT", "expected_max_toxicity_change", 1, 3),
                        ("Δ EMT HateSonar", "expected_max_toxicity_change_hatesonar", 1, 3),
                        ("Δ sentiment", "sentiment_change", 1, 3),
                        ("Δ swap tox. %", "swap_toxicity_change_rate_change", 100, 1)],
}


def changes_markdown(results_dir: str | Path) -> str:
    """Each compressed record's changes against dense with their paired 95% bootstrap intervals, one row
    per (dense, recipe, seed): an interval that contains 0 is a change this sample cannot tell from noise."""
    rows: dict[tuple, dict[str, str]] = {}
    headers: list[str] = []
    for _, record in _generative_records(results_dir):
        if record.recipe["name"] == "dense":
            continue
        overall = record.metrics["overall"]
        for label, metric, scale, digits in CHANGE_COLUMNS.get(record.task.get("kind"), []):
            if metric not in overall or f"{metric}_ci_low" not in overall:
                continue
            headers += [label] if label not in headers else []
            low, high = overall[f"{metric}_ci_low"] * scale, overall[f"{metric}_ci_high"] * scale
            key = (record.model.get("dense", ""), record.recipe["name"], record.seed)
            mark = " †" if overall.get(COLLAPSED) == 1 else ""
            rows.setdefault(key, {})[label] = (f"{overall[metric] * scale:+.{digits}f} "
                                                f"[{low:+.{digits}f}, {high:+.{digits}f}]{mark}")
    if not rows:
        return ""
    order = list(dict.fromkeys(label for columns in CHANGE_COLUMNS.values() for label, *_ in columns))
    headers = sorted(headers, key=order.index)
    parts = ["### Changes against dense (paired 95% bootstrap intervals)", "",
             "| dense | recipe | seed | " + " | ".join(headers) + " |", "|---|---|---|" + "---|" * len(headers)]
    for (dense, recipe, seed), cells in sorted(rows.items()):
        parts.append(f"| {markdown_cell(dense)} | {markdown_cell(recipe)} | {seed} | " + " | ".join(cells.get(h, "-") for h in headers) + " |")
    return "\n".join(parts + [""])


def group_frame(results_dir: str | Path) -> pd.DataFrame:
    """Per-group values of each kind's group metric, mean over seeds: task, group, recipe, value."""
    rows = []
    for _, record in _generative_records(results_dir):
        kind = record.task.get("kind")
        if kind not in GROUP_TABLES:
            continue
        metric, scale, _ = GROUP_TABLES[kind]
        for group, values in record.metrics["by_group"].items():
            if metric in values:
                rows.append({"task": record.task["name"], "kind": kind, "group": group,
                             "recipe": record.recipe["name"], "value": values[metric] * scale,
                             "scorer_neutral": values.get("scorer_neutral_toxicity", np.nan)})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    grouped = frame.groupby(["task", "kind", "group", "recipe"], sort=True)
    return grouped[["value", "scorer_neutral"]].mean().reset_index()


def group_markdown(groups: pd.DataFrame) -> str:
    parts = []
    for (task, kind), rows in groups.groupby(["task", "kind"], sort=True):
        _, _, title = GROUP_TABLES[kind]
        table = rows.pivot(index="group", columns="recipe", values="value")
        recipes = list(table.columns)
        probe = rows.groupby("group")["scorer_neutral"].first()
        with_probe = kind in TOXICITY_KINDS and probe.notna().any()
        header = "| group | " + " | ".join(markdown_cell(r) for r in recipes) + (" | scorer on neutral text |" if with_probe else " |")
        parts += [f"### {markdown_cell(task)}: {title}", "", header, "|---|" + "---|" * (len(recipes) + with_probe)]
        digits = 3 if kind in TOXICITY_KINDS else 1
        for group, row in table.iterrows():
            cells = " | ".join("-" if pd.isna(v) else f"{v:.{digits}f}" for v in row)
            extra = f" | {probe[group]:.3f}" if with_probe else ""
            parts.append(f"| {markdown_cell(group)} | {cells}{extra} |")
        parts.append("")
    return "\n".join(parts)


NOTES = ("EMT = expected maximum toxicity over k sampled continuations, tox. prob = share of prompts with a "
         "continuation scored >= 0.5 (Gehman et al.); the offline scorer is alt-profanity-check, a bag-of-words "
         "profanity proxy, not Perspective: its scores on neutral sentences naming each group are listed beside the "
         "per-group table so its own identity-term bias can be discounted. Stereotype % = CrowS-Pairs pairs whose "
         "more-stereotypical sentence gets the higher log-likelihood (50 = unbiased). s_AMB / s_DIS = BBQ bias scores "
         "(0 = unbiased, +100 = always the stereotyped answer). KL = mean next-token KL(dense || compressed) in nats "
         "on held-out text sampled from the dense model. SmolLM2's dense weights are a dequantised Q4_1 GGUF, so "
         "they already carry 4-bit rounding.")


def generative_markdown(results_dir: str | Path, summary: pd.DataFrame | None = None) -> str:
    summary = summarise_generative(generative_frame(results_dir)) if summary is None else summary
    if summary.empty:
        return "_No generative records yet: run the generative tasks (toxicity_prompts, crows_pairs, bbq_zeroshot)._\n"
    body = [headline_markdown(summary, _task_kinds(results_dir)), NOTES, "", changes_markdown(results_dir)]
    groups = group_frame(results_dir)
    if not groups.empty:
        body += [group_markdown(groups)]
    return "\n".join(body)


def build_generative_table(results_dir: str | Path, out_dir: str | Path) -> tuple[pd.DataFrame, str]:
    """Write ``GENERATIVE.md`` and ``generative.csv`` under ``out_dir``; return the summary and its Markdown."""
    out_dir = Path(out_dir)
    summary = summarise_generative(generative_frame(results_dir))
    markdown = generative_markdown(results_dir, summary)
    atomic_write_text(out_dir / "GENERATIVE.md", "# Generative track\n\n" + markdown + "\n")
    atomic_write_text(out_dir / "generative.csv", summary.to_csv(index=False))
    return summary, markdown
