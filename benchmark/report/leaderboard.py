"""Records -> leaderboard tables (Markdown and CSV): mean +- SE over seeds per task and recipe."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.records import Record, atomic_write_text
from benchmark.report.exemplars import MIN_SEEDS, exemplars_markdown, find_exemplars
from benchmark.report.intervals import CHANGE_COLUMNS, UNSIGNED, intervals_frame, signed_interval, verdict
from benchmark.validation import load_verified, valid_records

# (column in the table, where it comes from in a record, scale for display)
COLUMNS = {
    "accuracy": ("metrics.overall.accuracy", 100),
    "worst_group_acc": ("metrics.overall.worst_group_accuracy", 100),
    "acc_change": ("metrics.overall.accuracy_drop", -100),
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


def classification_records(results_dir: str | Path) -> list[tuple[Path, Record]]:
    """(path, record) of every classification record under results_dir."""
    return [(path, record) for path, record in valid_records(results_dir) if record.track == "classification"]


def records_frame(results_dir: str | Path, track: str = "classification") -> pd.DataFrame:
    rows = []
    for path, record in valid_records(results_dir):
        if record.track != track:
            continue
        row = {"task": record.task["name"], "recipe": record.recipe["name"], "family": record.recipe.get("family", ""),
               "seed": record.seed, "worst_group": _worst_group(record)}
        row.update({col: _lookup(record, where) * scale for col, (where, scale) in COLUMNS.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def _worst_group(record: Record) -> str:
    """The headline worst group: the lowest accuracy among groups at or above the size floor."""
    groups = {g: m for g, m in record.metrics["by_group"].items() if not m.get("below_floor")} \
        or record.metrics["by_group"]
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
    return out.reset_index()


FAMILY_ORDER = {"reference": 0, "control": 1}   # then every compression, ranked by its interval


def rank(summary: pd.DataFrame) -> pd.DataFrame:
    """Within a task: dense, the controls, then compressed rows by the lower bound of their paired
    Δ WGA interval (the worst change the data allow), so a row is never ranked above another on a
    point estimate its own interval does not support; ties on the bound fall back to the estimate."""
    if summary.empty:
        return summary
    order = summary.assign(_tier=summary["family"].map(FAMILY_ORDER).fillna(2),
                           _bound=summary.get("wga_change_ci_low", pd.Series(np.nan, index=summary.index)))
    order = order.sort_values(["task", "_tier", "_bound", "wga_change"], ascending=[True, True, False, False],
                              na_position="last", kind="stable")
    return order.drop(columns=["_tier", "_bound"]).reset_index(drop=True)


def with_noise_floor(summary: pd.DataFrame) -> pd.DataFrame:
    """Beside every row, its task's noise floor: the dense-reseed control's flip rate and Δ WGA interval
    and the dense-rebatch flip rate, and the row's flips as a multiple of the reseed floor."""
    out = summary.copy()
    for column in ("floor_flips", "floor_wga_low", "floor_wga_high", "rebatch_flips"):
        out[column] = np.nan
    for task, rows in summary.groupby("task"):
        mask = out["task"] == task
        reseed, rebatch = rows[rows["recipe"] == "dense-reseed"], rows[rows["recipe"] == "dense-rebatch"]
        if not reseed.empty:
            out.loc[mask, "floor_flips"] = reseed["flip_rate"].iat[0]
            out.loc[mask, "floor_wga_low"] = reseed.get("wga_change_ci_low", pd.Series([np.nan])).iat[0]
            out.loc[mask, "floor_wga_high"] = reseed.get("wga_change_ci_high", pd.Series([np.nan])).iat[0]
        if not rebatch.empty:
            out.loc[mask, "rebatch_flips"] = rebatch["flip_rate"].iat[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["flips_vs_floor"] = out["flip_rate"] / out["floor_flips"].where(out["floor_flips"] > 0)
    return out


def group_notes(pairs: list[tuple[Path, Record]]) -> dict[str, dict]:
    """Per task: the size floor, the groups below it (with their n) and the groups absent from test."""
    notes: dict[str, dict] = {}
    for _, record in pairs:
        note = notes.setdefault(record.task["name"], {"floor": record.task.get("group_min_size"), "below": {},
                                                      "absent": set()})
        note["below"].update({g: m.get("n") for g, m in record.metrics["by_group"].items() if m.get("below_floor")})
        note["absent"].update(record.task.get("groups_absent_from_test", []))
    return notes


def leaderboard_summary(results_dir: str | Path, n_boot: int = 1000) -> pd.DataFrame:
    """The classification leaderboard: mean ± SE over seeds, paired intervals over seeds, the verdict
    against dense, the noise floor beside every row, ranked by interval."""
    summary = summarise(records_frame(results_dir))
    if summary.empty:
        return summary
    intervals = intervals_frame(classification_records(results_dir), n_boot=n_boot)
    summary = summary.merge(intervals, on=["task", "recipe"], how="left")
    summary["vs_dense"] = [("reference" if r.family == "reference" else verdict(r.wga_change_ci_low, r.wga_change_ci_high))
                           for r in summary.itertuples()]
    return rank(with_noise_floor(summary))


def _fmt(mean: float, se: float, digits: int) -> str:
    if pd.isna(mean):
        return "-"
    mean = mean + 0.0  # no "-0.0"
    return f"{mean:.{digits}f}" + (f" ± {se:.{digits}f}" if pd.notna(se) else "")


_MARKDOWN_SPECIAL = re.compile(r"([\\|`*\[\]<>#!])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def markdown_cell(text) -> str:
    """Markdown-safe text for a table cell or heading: strings from records and data (group names such as
    label=1|color=0, family names) cannot open a tag, a link, code, emphasis or a new cell or line."""
    flat = " ".join(str(text).split())   # newlines and tabs would end the row
    return _MARKDOWN_SPECIAL.sub(lambda m: "\\" + m.group(0), flat)


VERDICTS = {"≈ dense": "≈ dense (interval holds 0)", "worse": "worse", "better": "better", "reference": "reference",
            "no interval": "-"}


def _p_values(values) -> str:
    return "/".join(f"{p:.2g}" for p in values) if isinstance(values, list) and values else "-"


def _change(r, column: str, digits: int = 1) -> str:
    return signed_interval(getattr(r, column), getattr(r, f"{column}_ci_low", np.nan),
                           getattr(r, f"{column}_ci_high", np.nan), digits, sign=column not in UNSIGNED)


def _floor_line(rows: pd.DataFrame, note: dict | None) -> list[str]:
    lines = []
    first = rows.iloc[0]
    floor = []
    if pd.notna(first.get("floor_flips", np.nan)):
        floor.append(f"a dense model trained from another seed (`dense-reseed`) flips {first.floor_flips:.1f}% of test "
                     f"items, Δ WGA {signed_interval(0.0, first.floor_wga_low, first.floor_wga_high).split(' ', 1)[-1]}")
    if pd.notna(first.get("rebatch_flips", np.nan)):
        floor.append(f"the same weights at another batch size and thread count (`dense-rebatch`) flip "
                     f"{first.rebatch_flips:.1f}%")
    if floor:
        lines.append("Noise floor: " + "; ".join(floor) + ".")
    if note:
        below = ", ".join(f"{markdown_cell(g)} (n={n})" for g, n in sorted(note["below"].items())) or "none"
        absent = ", ".join(markdown_cell(g) for g in sorted(note["absent"])) or "none"
        floor_size = note["floor"] if note["floor"] is not None else "none (records predate it)"
        lines.append(f"Group-size floor: {floor_size}; groups below it (scored, left out of worst-group figures): "
                     f"{below}; groups absent from the test split: {absent}.")
    return lines + [""] if lines else []


def markdown(summary: pd.DataFrame, notes: dict | None = None) -> str:
    if summary.empty:
        return "_No records yet: run `csbench run --suite quick`._\n"
    parts = []
    header = ("| recipe | family | seeds | acc % | worst-group acc % | Δ acc [95% CI] | Δ WGA [95% CI] | vs dense "
              "| max ψ_g [95% CI] | flips % [95% CI] | flips ÷ reseed floor | flips decisive % | McNemar p "
              "| KL | params M | non-zero M | size MB | ex/s | worst group |")
    for task, rows in summary.groupby("task", sort=True):
        parts += [f"### {markdown_cell(task)}", ""] + _floor_line(rows, (notes or {}).get(task)) + [header, "|" + "---|" * 19]
        for r in rows.itertuples():
            reference = r.family == "reference"
            parts.append(
                f"| {markdown_cell(r.recipe)} | {markdown_cell(r.family)} | {r.seeds} | {_fmt(r.accuracy, r.accuracy_se, 1)} "
                f"| {_fmt(r.worst_group_acc, r.worst_group_acc_se, 1)} | {'-' if reference else _change(r, 'acc_change')} "
                f"| {'-' if reference else _change(r, 'wga_change')} | {VERDICTS.get(r.vs_dense, r.vs_dense)} "
                f"| {'-' if reference else _change(r, 'max_psi')} | {'-' if reference else _change(r, 'flip_rate')} "
                f"| {'-' if reference or pd.isna(r.flips_vs_floor) else f'{r.flips_vs_floor:.1f}x'} "
                f"| {_fmt(r.flip_rate_decisive, r.flip_rate_decisive_se, 1)} | {'-' if reference else _p_values(r.mcnemar_p)} "
                f"| {_fmt(r.kl, r.kl_se, 3)} "
                f"| {r.params_M:.2f} | {r.nonzero_M:.2f} | {r.size_MB:.2f} | {r.ex_per_s:.0f} | {markdown_cell(r.worst_group)} |")
        parts.append("")
    return "\n".join(parts)


def csv_frame(summary: pd.DataFrame) -> pd.DataFrame:
    """The CSV: every numeric column, plus each change as the text the Markdown shows."""
    out = summary.copy()
    for column in CHANGE_COLUMNS:
        if f"{column}_ci_low" in out:
            out[f"{column}_text"] = [_change(r, column) for r in out.itertuples()]
    if "mcnemar_p" in out:
        out["mcnemar_p"] = [_p_values(v) for v in out["mcnemar_p"]]
    return out


def group_flips_frame(results_dir: str | Path) -> pd.DataFrame:
    """Per-group flip rate (%) by recipe, averaged over seeds: which subgroups a recipe changes."""
    rows = [{"task": r.task["name"], "recipe": r.recipe["name"], "group": g, "flip_rate": 100 * m.get("flip_rate", np.nan),
             "psi": 100 * m.get("psi", np.nan), "accuracy": 100 * m["accuracy"]}
            for _, r in valid_records(results_dir) if r.track == "classification"
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
        parts += [f"### {markdown_cell(task)}: flips % per group", "",
                  "| group | " + " | ".join(markdown_cell(c) for c in table.columns) + " |",
                  "|---|" + "---|" * len(table.columns)]
        parts += [f"| {markdown_cell(g)} | " + " | ".join(f"{v:.1f}" for v in row) + " |" for g, row in table.iterrows()]
        parts.append("")
    return "\n".join(parts)


def rejected_markdown(rejected: list[tuple[Path, str]]) -> str:
    """The records left off the tables, each with why (validation.load_verified's reasons)."""
    if not rejected:
        return ""
    lines = ["## Rejected records", "", f"{len(rejected)} record(s) under results/ failed validation "
             "(`csbench validate FILE` for details) and are not in the tables above.", "",
             "| record | reason |", "|---|---|"]
    lines += [f"| {markdown_cell(path)} | {markdown_cell(reason)} |" for path, reason in rejected]
    return "\n".join(lines) + "\n"


def build_leaderboard(results_dir: str | Path, out_dir: str | Path) -> tuple[pd.DataFrame, str]:
    """Write leaderboard/LEADERBOARD.md and leaderboard.csv from the records that pass validation (the
    rejected ones are listed with their reason); return the summary and its Markdown."""
    out_dir = Path(out_dir)
    from benchmark.names import writable_folder
    writable_folder(out_dir, "leaderboard folder")
    _, rejected = load_verified(results_dir)
    summary = leaderboard_summary(results_dir)
    table = markdown(summary, group_notes(classification_records(results_dir)))
    flips = group_flips_frame(results_dir)
    body = ["# Leaderboard", "",
            "Mean ± standard error over seeds for accuracies; changes against the dense model as the mean over seeds "
            "with a 95% paired bootstrap interval over test items and seeds, `+1.2 [-0.5, +2.9]`. Accuracies, "
            "Δ acc, Δ WGA (change of worst-group accuracy; negative = the worst group lost), max ψ_g (Balancing Act's "
            "excess accuracy gap) and flips in percentage points. \"≈ dense\": the Δ WGA interval holds 0, so the "
            "row is not distinguishable from the dense model. Within each task: dense, the two noise-floor controls, "
            "then compressed rows by the lower bound of their Δ WGA interval. McNemar p: exact test of dense vs "
            "compressed correctness, one per seed. Regenerate with `csbench leaderboard`.", "", table]
    found = find_exemplars(classification_records(results_dir))
    if any(found.values()):
        body += ["## Compression-identified exemplars", "",
                 f"Test examples whose modal prediction over a recipe's seeds differs from the modal prediction over "
                 f"the dense model's seeds (Hooker et al., 2019), for recipes with at least {MIN_SEEDS} seeds. The "
                 "controls have none by construction (their seeds are the same dense models, re-paired or "
                 "re-batched), so their per-seed flips above are the noise floor to read these counts against.", "",
                 exemplars_markdown(found, markdown_cell)]
    if not flips.empty:
        body += ["## Flips per group", "", group_flips_markdown(flips)]
    from benchmark.report.generative_table import build_generative_table  # the decoder track's tables
    generative, generative_md = build_generative_table(results_dir, out_dir)
    if not generative.empty:
        body += ["## Generative track", "", generative_md]
        table = table + "\n## Generative track\n\n" + generative_md
    if rejected:
        body += [rejected_markdown(rejected)]
        table = table + "\n" + rejected_markdown(rejected)
    atomic_write_text(out_dir / "LEADERBOARD.md", "\n".join(body) + "\n")
    atomic_write_text(out_dir / "leaderboard.csv", csv_frame(summary).to_csv(index=False))
    if not flips.empty:
        atomic_write_text(out_dir / "group_flips.csv", flips.to_csv(index=False))
    from benchmark.report.page import write_page  # local import: page.py imports this module
    write_page(results_dir, out_dir)
    return summary, table
