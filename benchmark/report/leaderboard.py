"""Records -> leaderboard tables (Markdown and CSV): mean +- SE over seeds per task and recipe."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.records import Record, atomic_write_text, iter_records

# (column in the table, where it comes from in a record, scale for display)
COLUMNS = {
    "accuracy": ("metrics.overall.accuracy", 100),
    "worst_group_acc": ("metrics.overall.worst_group_accuracy", 100),
    "wga_change": ("metrics.overall.worst_group_accuracy_drop", -100),
    "max_psi": ("metrics.overall.max_psi", 100),
    "flip_rate": ("metrics.overall.flip_rate", 100),
    "flip_rate_decisive": ("metrics.overall.flip_rate_decisive", 100),
    "kl": ("metrics.overall.kl_mean", 1),
    "params_M": ("efficiency.parameters", 1e-6),
    "nonzero_M": ("efficiency.nonzero_parameters", 1e-6),
    "size_MB": ("efficiency.bytes", 1e-6),
    "ex_per_s": ("efficiency.examples_per_second", 1),
}


def _lookup(record: Record, dotted: str):
    value = record.to_dict()
    for part in dotted.split("."):
        value = value.get(part, np.nan) if isinstance(value, dict) else np.nan
    return value


def records_frame(results_dir: str | Path, track: str = "classification") -> pd.DataFrame:
    rows = []
    for path, record in iter_records(results_dir):
        if record.track != track:
            continue
        row = {"task": record.task["name"], "recipe": record.recipe["name"], "family": record.recipe.get("family", ""),
               "seed": record.seed, "worst_group": _worst_group(record)}
        row.update({col: _lookup(record, where) * scale for col, (where, scale) in COLUMNS.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def _worst_group(record: Record) -> str:
    groups = record.metrics["by_group"]
    return min(groups, key=lambda g: groups[g]["accuracy"]) if groups else ""


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard error over seeds, one row per (task, recipe)."""
    if frame.empty:
        return frame
    metrics = list(COLUMNS)
    grouped = frame.groupby(["task", "recipe", "family"], sort=False)
    mean = grouped[metrics].mean()
    se = grouped[metrics].std(ddof=1) / np.sqrt(grouped[metrics].count())
    out = mean.join(se.add_suffix("_se")).join(grouped["seed"].count().rename("seeds"))
    out = out.join(grouped["worst_group"].agg(lambda s: s.mode().iat[0]))
    return out.reset_index().sort_values(["task", "worst_group_acc"], ascending=[True, False])


def _fmt(mean: float, se: float, digits: int) -> str:
    if pd.isna(mean):
        return "-"
    mean = mean + 0.0  # no "-0.0"
    return f"{mean:.{digits}f}" + (f" ± {se:.{digits}f}" if pd.notna(se) else "")


def markdown_cell(text) -> str:
    """Markdown-safe table cell: group names such as label=1|color=0 contain pipes."""
    return str(text).replace("|", "\\|")


def markdown(summary: pd.DataFrame) -> str:
    if summary.empty:
        return "_No records yet: run `csbench run --suite quick`._\n"
    parts = []
    header = ("| recipe | family | seeds | acc % | worst-group acc % | Δ WGA vs dense | max ψ_g | flips % | flips decisive % "
              "| KL | params M | non-zero M | size MB | ex/s | worst group |")
    for task, rows in summary.groupby("task", sort=True):
        parts += [f"### {task}", "", header, "|" + "---|" * 15]
        for _, r in rows.iterrows():
            parts.append(
                f"| {markdown_cell(r.recipe)} | {r.family} | {r.seeds} | {_fmt(r.accuracy, r.accuracy_se, 1)} "
                f"| {_fmt(r.worst_group_acc, r.worst_group_acc_se, 1)} | {_fmt(r.wga_change, r.wga_change_se, 1)} "
                f"| {_fmt(r.max_psi, r.max_psi_se, 1)} | {_fmt(r.flip_rate, r.flip_rate_se, 1)} "
                f"| {_fmt(r.flip_rate_decisive, r.flip_rate_decisive_se, 1)} | {_fmt(r.kl, r.kl_se, 3)} "
                f"| {r.params_M:.2f} | {r.nonzero_M:.2f} | {r.size_MB:.2f} | {r.ex_per_s:.0f} | {markdown_cell(r.worst_group)} |")
        parts.append("")
    return "\n".join(parts)


def group_flips_frame(results_dir: str | Path) -> pd.DataFrame:
    """Per-group flip rate (%) by recipe, averaged over seeds: which subgroups a recipe changes."""
    rows = [{"task": r.task["name"], "recipe": r.recipe["name"], "group": g, "flip_rate": 100 * m.get("flip_rate", np.nan),
             "psi": 100 * m.get("psi", np.nan), "accuracy": 100 * m["accuracy"]}
            for _, r in iter_records(results_dir) if r.track == "classification"
            for g, m in r.metrics["by_group"].items()]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    return frame.groupby(["task", "group", "recipe"], sort=True)[["flip_rate", "psi", "accuracy"]].mean().reset_index()


def group_flips_markdown(flips: pd.DataFrame) -> str:
    parts = []
    for task, rows in flips.groupby("task"):
        table = rows.pivot(index="group", columns="recipe", values="flip_rate")
        table = table.drop(columns=[c for c in table.columns if c == "dense"])
        if table.empty:
            continue
        parts += [f"### {task}: flips % per group", "", "| group | " + " | ".join(table.columns) + " |",
                  "|---|" + "---|" * len(table.columns)]
        parts += [f"| {markdown_cell(g)} | " + " | ".join(f"{v:.1f}" for v in row) + " |" for g, row in table.iterrows()]
        parts.append("")
    return "\n".join(parts)


def build_leaderboard(results_dir: str | Path, out_dir: str | Path) -> tuple[pd.DataFrame, str]:
    """Write leaderboard/LEADERBOARD.md and leaderboard.csv; return the summary and its Markdown."""
    out_dir = Path(out_dir)
    summary = summarise(records_frame(results_dir))
    table = markdown(summary)
    flips = group_flips_frame(results_dir)
    body = ["# Leaderboard", "",
            "Mean ± standard error over seeds. Accuracies, Δ WGA (change of worst-group accuracy against the dense model; "
            "negative = the worst group lost), max ψ_g (Balancing Act's excess accuracy gap) and flips in percentage points. "
            "Sorted by worst-group accuracy within each task. Regenerate with `csbench leaderboard`.", "", table]
    if not flips.empty:
        body += ["## Flips per group", "", group_flips_markdown(flips)]
    from benchmark.report.generative_table import build_generative_table  # the decoder track's tables
    generative, generative_md = build_generative_table(results_dir, out_dir)
    if not generative.empty:
        body += ["## Generative track", "", generative_md]
        table = table + "\n## Generative track\n\n" + generative_md
    atomic_write_text(out_dir / "LEADERBOARD.md", "\n".join(body) + "\n")
    atomic_write_text(out_dir / "leaderboard.csv", summary.to_csv(index=False))
    if not flips.empty:
        atomic_write_text(out_dir / "group_flips.csv", flips.to_csv(index=False))
    from benchmark.report.page import write_page  # local import: page.py imports this module
    write_page(results_dir, out_dir)
    return summary, table
