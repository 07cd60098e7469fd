"""Records -> leaderboard/index.html: one self-contained static page (inline CSS, JS and SVG).

The page opens from disk with no server and no network. Tables, plots and heatmaps are rendered
here, in Python, so they read without JavaScript; the small inline script only sorts tables, using
the numbers of a JSON payload embedded in a ``<script type="application/json">`` block. Every string
that comes from a record is HTML-escaped where it is written into markup, and the JSON is escaped so
no record string can end its script block.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from benchmark.records import atomic_write_text
from benchmark.report.exemplars import ExemplarSet, composition, featured, find_exemplars, task_inputs
from benchmark.report.intervals import UNSIGNED, signed_interval
from benchmark.report.leaderboard import classification_records
from benchmark.report.leaderboard import COLUMNS, leaderboard_summary
from benchmark.validation import valid_records

PAGE_NAME = "index.html"
REFERENCE_FAMILY = "reference"  # the dense model's recipe family: nothing to compare it against


@dataclass(frozen=True)
class Column:
    label: str
    digits: int
    show_se: bool
    help: str


# How each leaderboard.COLUMNS entry is shown; a column added there without an entry here still shows.
CLASSIFICATION_COLUMNS = {
    "accuracy": Column("acc %", 1, True, "Overall test accuracy"),
    "worst_group_acc": Column("worst-group acc %", 1, True, "Accuracy of the worst (label x attribute) group"),
    "acc_change": Column("Δ acc vs dense", 1, True, "Change of overall accuracy against the dense model, in points"),
    "wga_change": Column("Δ WGA vs dense", 1, True,
                         "Change of worst-group accuracy against the dense model, in points; negative = it lost"),
    "max_psi": Column("max ψ_g", 1, True, "Largest excess accuracy gap ψ_g (Balancing Act), in points"),
    "flip_rate": Column("flips %", 1, True, "Share of test examples whose correctness changed against dense"),
    "flip_rate_decisive": Column("flips decisive %", 1, True,
                                 "Flips among the examples the dense model does not nearly tie "
                                 "(top-2 probabilities more than 0.01 apart)"),
    "kl": Column("KL", 3, True, "Mean KL(dense || compressed) of the output distributions, nats"),
    "params_M": Column("params M", 2, False, "Parameters, millions"),
    "nonzero_M": Column("non-zero M", 2, False, "Non-zero parameters, millions"),
    "size_MB": Column("size MB", 1, False, "Bytes of torch.save(state_dict), MB"),
    "ex_per_s": Column("ex/s", 0, True, "Test examples per second on this machine"),
}

# The x axes of the size / worst-group accuracy plot: (summary column, axis label).
SIZE_AXES = {"size_MB": "size (MB, torch.save)", "nonzero_M": "non-zero parameters (M)"}


# ---------------------------------------------------------------- numbers

def pareto_front(xs: Iterable[float], ys: Iterable[float]) -> list[bool]:
    """Which points are Pareto-optimal when smaller x and larger y are better.

    A point is on the front unless another point is at least as good on both axes and strictly
    better on one. Points with a missing (NaN) coordinate are never on the front nor dominate."""
    points = list(zip((float(x) for x in xs), (float(y) for y in ys)))
    valid = [not (math.isnan(x) or math.isnan(y)) for x, y in points]

    def dominated(i: int) -> bool:
        xi, yi = points[i]
        return any(valid[j] and xj <= xi and yj >= yi and (xj < xi or yj > yi)
                   for j, (xj, yj) in enumerate(points) if j != i)

    return [valid[i] and not dominated(i) for i in range(len(points))]


def _finite(value: Any) -> float | None:
    """A JSON-safe number: NaN and infinities become null (JSON.parse rejects NaN)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _mean_se(values: list[float]) -> tuple[float, float]:
    values = [v for v in values if math.isfinite(v)]
    if not values:
        return math.nan, math.nan
    se = float(np.std(values, ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan
    return float(np.mean(values)), se


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ---------------------------------------------------------------- data

def group_changes_frame(results_dir: str | Path) -> pd.DataFrame:
    """Per (task, group, recipe), averaged over seeds: accuracy change against dense, ψ_g, flips (points)."""
    rows = []
    for _, record in valid_records(results_dir):
        if record.track != "classification":
            continue
        order = {name: i for i, name in enumerate(record.group_names)}
        for group, m in record.metrics["by_group"].items():
            rows.append({"task": record.task["name"], "recipe": record.recipe["name"], "group": group,
                         "order": order.get(group, len(order)),
                         "accuracy_change": 100 * (m.get("accuracy", np.nan) - m.get("dense_accuracy", np.nan)),
                         "psi": 100 * m.get("psi", np.nan), "flip_rate": 100 * m.get("flip_rate", np.nan),
                         "n": m.get("n", np.nan)})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    keys = ["task", "group", "recipe"]
    return frame.groupby(keys, sort=False)[["order", "accuracy_change", "psi", "flip_rate", "n"]].mean().reset_index()


def _classification_tasks(results_dir: str | Path) -> list[dict]:
    summary = leaderboard_summary(results_dir)
    if summary.empty:
        return []
    changes = group_changes_frame(results_dir)
    pairs = classification_records(results_dir)
    exemplars = find_exemplars(pairs)
    tasks = []
    for task, rows in summary.groupby("task", sort=True):
        rows = rows.reset_index(drop=True)
        fronts = {axis: pareto_front(rows[axis], rows["worst_group_acc"]) for axis in SIZE_AXES}
        points = [{"recipe": r.recipe, "worst_group_acc": _finite(r.worst_group_acc),
                   "worst_group_acc_se": _finite(r.worst_group_acc_se),
                   "worst_group_acc_ci_low": _finite(getattr(r, "worst_group_acc_ci_low", None)),
                   "worst_group_acc_ci_high": _finite(getattr(r, "worst_group_acc_ci_high", None)),
                   **{axis: _finite(getattr(r, axis)) for axis in SIZE_AXES},
                   **{f"front_{axis}": fronts[axis][i] for axis in SIZE_AXES}}
                  for i, r in enumerate(rows.itertuples(index=False))]
        compared = [r.recipe for r in rows.itertuples(index=False) if r.family != REFERENCE_FAMILY]
        tasks.append({"task": task, "summary": rows, "points": points,
                      "exemplars_html": exemplars_section(task, exemplars.get(task, []), pairs),
                      "groups": _group_matrix(changes[changes["task"] == task] if not changes.empty else changes,
                                              compared)})
    return tasks


def _thumbnail(image: np.ndarray) -> str:
    """A small image as inline SVG pixels (the page's policy loads no images)."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    height, width = image.shape[:2]
    rects = "".join(f'<rect x="{x}" y="{y}" width="1" height="1" fill="#{r:02x}{g:02x}{b:02x}"/>'
                    for y in range(height) for x in range(width) for r, g, b in [image[y, x, :3].tolist()])
    return (f'<svg class="thumb" viewBox="0 0 {width} {height}" width="{2 * width}" height="{2 * height}" '
            f'shape-rendering="crispEdges">{rects}</svg>')


def _exemplar_input(spec, test, position: int) -> str:
    """The example as the model saw it: text columns as text, image columns as a thumbnail."""
    parts = []
    for column in spec.inputs:
        value = test.frame[column].iat[position]
        if isinstance(value, np.ndarray) and value.ndim >= 2:
            parts.append(_thumbnail(value))
        else:
            parts.append(f'<span class="input"><span class="col">{esc(column)}</span> {esc(value)}</span>')
    return " ".join(parts)


def exemplars_section(task: str, sets: list[ExemplarSet], pairs) -> str:
    """Per recipe: exemplar count and group composition; then a few exemplars per group with their input."""
    if not sets:
        return ""
    rows = "".join(f"<tr><td class=\"t\">{esc(s.recipe)}</td><td>{s.seeds}</td><td>{s.count}</td>"
                   f"<td class=\"t\">{esc(composition(s) or '-')}</td></tr>" for s in sets)
    table = ('<div class="scroll"><table><thead><tr><th>recipe</th><th>seeds</th><th>exemplars</th>'
             f'<th>groups with the highest rate (exemplars/n)</th></tr></thead><tbody>{rows}</tbody></table></div>')
    dense = next((p, r) for p, r in pairs if r.task["name"] == task and r.recipe["name"] == "dense")
    from benchmark.records import read_predictions
    arrays = read_predictions(*dense)
    groups, labels = arrays["group"], arrays["label"]
    inputs = task_inputs(task, dense[1].profile, labels)
    compressed = [s for s in sets if s.count]
    items = []
    for group, positions in featured(compressed, groups, dense[1].group_names):
        cards = []
        for position in positions:
            answers = ", ".join(f"{s.recipe}: {int(s.recipe_modal[list(s.index).index(position)])}"
                                for s in compressed if position in s.index)
            dense_answer = next(int(s.dense_modal[list(s.index).index(position)]) for s in compressed
                                if position in s.index)
            shown = _exemplar_input(*inputs, position) if inputs else f"test item {position}"
            cards.append(f'<li>{shown}<div class="answers">label {int(labels[position])}; dense (modal) '
                         f"{dense_answer}; {esc(answers)}</div></li>")
        items.append(f"<h4>{esc(group)}</h4><ul class=\"exemplars\">{''.join(cards)}</ul>")
    return (f"<h3>Compression-identified exemplars</h3><p>Test examples whose modal prediction over a recipe's "
            f"seeds differs from the modal prediction over the dense seeds (Hooker et al., 2019).</p>{table}"
            + "".join(items))


def _group_matrix(changes: pd.DataFrame, recipes: list[str]) -> dict:
    """groups x recipes matrices of the per-group metrics, groups in the records' own order."""
    if changes.empty or not recipes:
        return {"groups": [], "recipes": [], "accuracy_change": [], "psi": [], "flip_rate": [], "n": []}
    groups = changes.groupby("group", sort=False)["order"].min().sort_values(kind="stable").index.tolist()
    out: dict[str, Any] = {"groups": groups, "recipes": recipes}
    for metric in ("accuracy_change", "psi", "flip_rate"):
        table = changes.pivot(index="group", columns="recipe", values=metric).reindex(index=groups, columns=recipes)
        out[metric] = [[_finite(v) for v in row] for row in table.to_numpy()]
    sizes = changes.groupby("group")["n"].max().reindex(groups)
    out["n"] = [_finite(v) for v in sizes]
    return out


def _generative_tasks(results_dir: str | Path) -> list[dict]:
    """Per generative task: every numeric overall metric and efficiency figure, mean ± SE over seeds."""
    by_task: dict[str, dict[str, list]] = {}
    for _, record in valid_records(results_dir):
        if record.track == "generative":
            by_task.setdefault(record.task["name"], {}).setdefault(record.recipe["name"], []).append(record)
    tasks = []
    for task in sorted(by_task):
        recipes = by_task[task]
        columns: list[tuple[str, str]] = []  # (section, key) in first-seen order
        for records in recipes.values():
            for record in records:
                for section in ("metrics", "efficiency"):
                    values = record.metrics["overall"] if section == "metrics" else record.efficiency
                    columns += [(section, k) for k, v in values.items()
                                if _is_number(v) and (section, k) not in columns]
        rows = []
        for recipe, records in recipes.items():
            cells = []
            for section, key in columns:
                values = [float(v) for r in records
                          if _is_number(v := (r.metrics["overall"] if section == "metrics" else r.efficiency).get(key))]
                cells.append(_mean_se(values))
            rows.append({"recipe": recipe, "family": records[0].recipe.get("family", ""), "seeds": len(records),
                         "cells": cells})
        tasks.append({"task": task, "columns": columns, "rows": rows})
    return tasks


# ---------------------------------------------------------------- markup helpers

def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _fmt_number(value: float, digits: int | None = None) -> str:
    """Fixed digits when given; otherwise 3 significant digits with k/M/G for large numbers."""
    if value is None or not math.isfinite(value):
        return "–"
    if digits is not None:
        return f"{value:.{digits}f}"
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e4, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def _mean_se_cell(mean: float, se: float, digits: int | None, show_se: bool) -> str:
    text = esc(_fmt_number(mean, digits))
    if show_se and se is not None and math.isfinite(se):
        text += f'<span class="se"> ± {esc(_fmt_number(se, digits))}</span>'
    negative = ' class="neg"' if mean is not None and math.isfinite(mean) and mean < 0 else ""
    return f"<td{negative}>{text}</td>"


def _text_cell(value: Any) -> str:
    return f'<td class="t" title="{esc(value)}">{esc(value)}</td>'


def json_for_script(payload: Any) -> str:
    """JSON that is safe inside a <script> block: no '<', '>' or '&' survive, so neither '</script>'
    nor '<!--' can appear; U+2028/2029 are escaped for old JS parsers."""
    text = json.dumps(payload, ensure_ascii=False, allow_nan=False, sort_keys=False)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


def _asset(name: str, closing: str) -> str:
    text = (resources.files("benchmark.report") / "page_assets" / name).read_text(encoding="utf-8")
    if closing in text.lower():
        raise ValueError(f"page asset {name} must not contain {closing!r}")
    return text


# ---------------------------------------------------------------- tables

def _sortable_table(table_id: str, headers: list[tuple[str, str, str]], body_rows: list[str], caption: str) -> str:
    """headers: (label, kind 'num'|'text', tooltip); body_rows: '<td>..' strings, in payload row order."""
    head = "".join(f'<th scope="col" data-col="{i}" data-kind="{kind}" title="{esc(tip)}">{esc(label)}</th>'
                   for i, (label, kind, tip) in enumerate(headers))
    body = "".join(f'<tr data-row="{i}">{cells}</tr>' for i, cells in enumerate(body_rows))
    return (f'<div class="scroll"><table class="sortable" id="{table_id}" data-table="{table_id}">'
            f"<caption>{caption}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


def _interval_cell(r: dict, key: str, digits: int) -> str:
    """A change against dense as ``mean [low, high]`` (paired 95% interval over test items and seeds)."""
    low, high = r.get(f"{key}_ci_low"), r.get(f"{key}_ci_high")
    if r.get("family") == REFERENCE_FAMILY or low is None or not math.isfinite(low):
        return _mean_se_cell(r[key], r.get(f"{key}_se"), digits, r["seeds"] > 1)
    text = signed_interval(r[key], low, high, digits, sign=key not in UNSIGNED)
    mean, _, interval = text.partition(" ")
    klass = ' class="neg"' if high < 0 and key not in UNSIGNED else ""
    return f'<td{klass}>{esc(mean)}<span class="se"> {esc(interval)}</span></td>'


def _classification_table(table_id: str, summary: pd.DataFrame) -> tuple[str, dict]:
    metrics = list(COLUMNS)
    shown = {key: CLASSIFICATION_COLUMNS.get(key, Column(key, 2, True, "")) for key in metrics}
    headers = ([("recipe", "text", "Compression recipe"), ("family", "text", "Recipe family"),
                ("seeds", "num", "Seeds averaged")]
               + [(c.label, "num", c.help) for c in shown.values()]
               + [("vs dense", "text", "≈ dense: the paired 95% interval of Δ WGA holds 0 (not distinguishable "
                                       "from the dense model)"),
                  ("flips ÷ floor", "num", "Flips as a multiple of the dense-reseed control's flips (the noise floor)"),
                  ("worst group", "text", "The group with the lowest accuracy among groups at or above the size "
                                          "floor (most common over seeds)")])
    body, values = [], []
    for r in summary.to_dict("records"):
        cells = f"{_text_cell(r['recipe'])}{_text_cell(r['family'])}<td>{int(r['seeds'])}</td>"
        cells += "".join(_interval_cell(r, k, c.digits) if f"{k}_ci_low" in r
                         else _mean_se_cell(r[k], r.get(f"{k}_se"), c.digits, c.show_se and r["seeds"] > 1)
                         for k, c in shown.items())
        cells += _text_cell(r.get("vs_dense", "")) + _mean_se_cell(r.get("flips_vs_floor", math.nan), None, 1, False)
        cells += _text_cell(r["worst_group"])
        body.append(cells)
        values.append([r["recipe"], r["family"], int(r["seeds"])] + [_finite(r[k]) for k in metrics]
                      + [r.get("vs_dense", ""), _finite(r.get("flips_vs_floor")), r["worst_group"]])
    caption = ("Accuracies: mean ± standard error over seeds. Changes against dense (Δ, max ψ_g, flips): mean "
               "[paired 95% bootstrap interval over test items and seeds]. Click a column header to sort; click "
               "again to reverse.")
    return (_sortable_table(table_id, headers, body, caption),
            {"columns": [{"label": h[0], "kind": h[1]} for h in headers], "values": values})


def _generative_table(table_id: str, task: dict) -> tuple[str, dict]:
    headers = ([("recipe", "text", "Compression recipe"), ("family", "text", "Recipe family"),
                ("seeds", "num", "Seeds averaged")]
               + [(key, "num", f"{section}: {key}") for section, key in task["columns"]])
    body, values = [], []
    for row in task["rows"]:
        cells = f"{_text_cell(row['recipe'])}{_text_cell(row['family'])}<td>{row['seeds']}</td>"
        cells += "".join(_mean_se_cell(mean, se, None, row["seeds"] > 1) for mean, se in row["cells"])
        body.append(cells)
        values.append([row["recipe"], row["family"], row["seeds"]] + [_finite(mean) for mean, _ in row["cells"]])
    caption = ("Numeric overall metrics of the generative track, mean ± standard error over seeds. "
               "Click a header to sort.")
    return (_sortable_table(table_id, headers, body, caption),
            {"columns": [{"label": h[0], "kind": h[1]} for h in headers], "values": values})


# ---------------------------------------------------------------- SVG: size vs worst-group accuracy

def _nice_step(span: float, count: int = 5) -> float:
    raw = span / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def _linear_ticks(low: float, high: float) -> list[float]:
    step = _nice_step(high - low)
    start = math.ceil(low / step) * step
    return [round(start + i * step, 10) for i in range(int((high - start) / step + 1e-9) + 1)]


def _log_ticks(low: float, high: float) -> list[float]:
    decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    mantissas = (1,) if len(decades) > 3 else (1, 2, 5)
    return [m * 10 ** d for d in decades for m in mantissas if low <= m * 10 ** d <= high]


def _padded(low: float, high: float, log: bool) -> tuple[float, float]:
    if log:
        return low / 1.3, high * 1.3
    pad = (high - low) * 0.08 or max(abs(high) * 0.1, 1.0)
    return low - pad, high + pad


def scatter_svg(points: list[dict], axis: str, axis_label: str) -> str:
    """Worst-group accuracy against one size axis; Pareto-optimal points filled and joined by a step line."""
    usable = [p for p in points if p[axis] is not None and p["worst_group_acc"] is not None]
    if not usable:
        return f'<p class="empty">No {esc(axis_label)} figures in these records.</p>'
    width, height, left, right, top, bottom = 520, 330, 56, 120, 14, 44
    xs = [p[axis] for p in usable]
    bars = [error_bar(p) for p in usable]
    log = min(xs) > 0 and max(xs) / min(xs) >= 10
    x_low, x_high = _padded(min(xs), max(xs), log)
    y_low, y_high = _padded(min(low for low, _ in bars), max(high for _, high in bars), False)
    to_x = (lambda v: math.log10(v)) if log else (lambda v: v)
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(v: float) -> float:
        return left + (to_x(v) - to_x(x_low)) / (to_x(x_high) - to_x(x_low)) * plot_w

    def py(v: float) -> float:
        return top + (y_high - v) / (y_high - y_low) * plot_h

    parts = [f'<svg class="scatter" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
             f'aria-label="worst-group accuracy against {esc(axis_label)}">',
             f'<rect class="frame" x="{left}" y="{top}" width="{plot_w}" height="{plot_h}"/>']
    for tick in (_log_ticks if log else _linear_ticks)(x_low, x_high):
        parts.append(f'<line class="grid" x1="{px(tick):.1f}" x2="{px(tick):.1f}" y1="{top}" y2="{top + plot_h}"/>'
                     f'<text class="tick" x="{px(tick):.1f}" y="{top + plot_h + 14}" text-anchor="middle">'
                     f"{esc(_fmt_number(tick))}</text>")
    for tick in _linear_ticks(y_low, y_high):
        parts.append(f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{py(tick):.1f}" y2="{py(tick):.1f}"/>'
                     f'<text class="tick" x="{left - 5}" y="{py(tick) + 4:.1f}" text-anchor="end">'
                     f"{esc(_fmt_number(tick))}</text>")
    parts.append(f'<text class="axis" x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle">'
                 f"{esc(axis_label)}{' (log scale)' if log else ''}</text>"
                 f'<text class="axis" transform="translate(14 {top + plot_h / 2:.1f}) rotate(-90)" '
                 f'text-anchor="middle">worst-group accuracy %</text>')
    front = sorted((p for p in usable if p[f"front_{axis}"]), key=lambda p: p[axis])
    steps = []
    for a, b in zip(front, front[1:]):  # attainment staircase: keep y until the next front point
        steps += [(px(a[axis]), py(a["worst_group_acc"])), (px(b[axis]), py(a["worst_group_acc"]))]
    if front:
        steps.append((px(front[-1][axis]), py(front[-1]["worst_group_acc"])))
        parts.append('<polyline class="front" points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in steps) + '"/>')
    near = near_front(usable, axis)
    for p, (low, high), plausible in zip(usable, bars, near):
        x, y = px(p[axis]), py(p["worst_group_acc"])
        on_front = p[f"front_{axis}"]
        status = " (Pareto front)" if on_front else " (its interval reaches the front)" if plausible else ""
        tip = (f"{p['recipe']}{status}\n"
               f"worst-group accuracy {_fmt_number(p['worst_group_acc'], 1)} % "
               f"[{_fmt_number(low, 1)}, {_fmt_number(high, 1)}]\n"
               + "\n".join(f"{label}: {_fmt_number(p[key])}" for key, label in SIZE_AXES.items() if p[key] is not None))
        whisker = (f'<line class="whisker" x1="{x:.1f}" x2="{x:.1f}" y1="{py(low):.1f}" y2="{py(high):.1f}"/>'
                   f'<line class="whisker" x1="{x - 3:.1f}" x2="{x + 3:.1f}" y1="{py(low):.1f}" y2="{py(low):.1f}"/>'
                   f'<line class="whisker" x1="{x - 3:.1f}" x2="{x + 3:.1f}" y1="{py(high):.1f}" y2="{py(high):.1f}"/>'
                   ) if high > low else ""
        klass = " on-front" if on_front else " near-front" if plausible else ""
        parts.append(f'<g class="point{klass}" data-recipe="{esc(p["recipe"])}">'
                     f"<title>{esc(tip)}</title>{whisker}"
                     f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{5 if on_front else 4}"/>'
                     f'<text class="label" x="{x + 7:.1f}" y="{y - 5:.1f}">{esc(_short(p["recipe"], 22))}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def error_bar(point: dict) -> tuple[float, float]:
    """The worst-group accuracy interval of a point: its 95% bootstrap interval over test items and
    seeds where the records allow, else ± one standard error over seeds, else the point itself."""
    y = point["worst_group_acc"]
    low, high = point.get("worst_group_acc_ci_low"), point.get("worst_group_acc_ci_high")
    if low is not None and high is not None:
        return min(low, y), max(high, y)
    se = point.get("worst_group_acc_se") or 0.0
    return y - se, y + se


def near_front(points: list[dict], axis: str) -> list[bool]:
    """Points off the Pareto front whose interval reaches it: the front's worst-group accuracy at their
    size (the best front point no larger) lies inside their error bar, so the data do not rule them off it."""
    front = [p for p in points if p[f"front_{axis}"]]
    out = []
    for p in points:
        reach = [q["worst_group_acc"] for q in front if q[axis] <= p[axis]]
        out.append(not p[f"front_{axis}"] and bool(reach) and error_bar(p)[1] >= max(reach))
    return out


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------- SVG: groups x recipes heatmap

def _diverging(t: float) -> str:
    """t in [-1, 1] -> colour: -1 blue (better), 0 white, +1 red (worse)."""
    end = (178, 24, 43) if t > 0 else (33, 102, 172)
    a = min(abs(t), 1.0)
    return "#" + "".join(f"{round(255 + (c - 255) * a):02x}" for c in end)


def heatmap_svg(groups_data: dict, metric: str, title: str, worse_sign: int) -> str:
    """Cells coloured by how much worse (red) or better (blue) each group fares under each recipe."""
    groups, recipes, matrix = groups_data["groups"], groups_data["recipes"], groups_data[metric]
    if not groups or not recipes:
        return '<p class="empty">No per-group figures to compare against the dense model.</p>'
    values = [v for row in matrix for v in row if v is not None]
    scale = max([abs(v) for v in values] + [1.0])
    cell_w, cell_h = 62, 22
    left = min(8 + 7 * max(len(g) for g in groups), 230)
    label_extent = 6.2 * min(max(len(r) for r in recipes), 24)  # column labels are rotated by 35 degrees
    top = round(16 + 0.58 * label_extent)
    width = round(left + cell_w * len(recipes) + max(10.0, 0.82 * label_extent - cell_w / 2))
    height = top + cell_h * len(groups) + 10
    parts = [f'<svg class="heatmap" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
             f'aria-label="{esc(title)}">']
    for j, recipe in enumerate(recipes):
        x = left + (j + 0.5) * cell_w
        parts.append(f'<text class="col-label" transform="translate({x:.1f} {top - 6}) rotate(-35)">'
                     f"<title>{esc(recipe)}</title>{esc(_short(recipe, 24))}</text>")
    for i, group in enumerate(groups):
        y = top + i * cell_h
        size = groups_data["n"][i] if i < len(groups_data["n"]) else None
        parts.append(f'<text class="row-label" x="{left - 6}" y="{y + cell_h * 0.68:.1f}" text-anchor="end">'
                     f"<title>{esc(group)}{f' (n={size:.0f})' if size is not None else ''}</title>"
                     f"{esc(_short(group, 32))}</text>")
        for j, recipe in enumerate(recipes):
            value = matrix[i][j]
            t = 0.0 if value is None else worse_sign * value / scale
            fill = "#dddddd" if value is None else _diverging(t)
            ink = "#ffffff" if abs(t) > 0.6 else "#222222"
            others = "\n".join(f"{label}: {_fmt_number(groups_data[key][i][j], 1)}" for key, label in
                               (("accuracy_change", "Δ accuracy vs dense (points)"), ("psi", "ψ_g (points)"),
                                ("flip_rate", "flips %")) if groups_data[key][i][j] is not None)
            tip = f"{group} under {recipe}\n{others}" if others else f"{group} under {recipe}: no data"
            parts.append(f'<g class="cell"><title>{esc(tip)}</title>'
                         f'<rect x="{left + j * cell_w}" y="{y}" width="{cell_w - 1}" height="{cell_h - 1}" '
                         f'fill="{fill}"/><text x="{left + (j + 0.5) * cell_w:.1f}" y="{y + cell_h * 0.68:.1f}" '
                         f'text-anchor="middle" style="fill:{ink}">{esc(_fmt_number(value, 1))}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


# ---------------------------------------------------------------- page

def build_payload(results_dir: str | Path) -> tuple[dict, list[dict], list[dict]]:
    """(JSON payload, classification tasks, generative tasks) from the records under results_dir."""
    classification, generative = _classification_tasks(results_dir), _generative_tasks(results_dir)
    tables, plots, groups = {}, {}, {}
    for i, task in enumerate(classification):
        task["table_id"] = f"cls-{i}"
        task["table_html"], tables[task["table_id"]] = _classification_table(task["table_id"], task["summary"])
        plots[task["task"]], groups[task["task"]] = task["points"], task["groups"]
    for i, task in enumerate(generative):
        task["table_id"] = f"gen-{i}"
        task["table_html"], tables[task["table_id"]] = _generative_table(task["table_id"], task)
    payload = {"tables": tables, "pareto": plots, "groups": groups}
    return payload, classification, generative


def render_page(payload: dict, classification: list[dict], generative: list[dict]) -> str:
    nav = "".join(f'<li><a href="#task-{i}">{esc(t["task"])}</a></li>' for i, t in enumerate(classification))
    nav += "".join(f'<li><a href="#gen-task-{i}">{esc(t["task"])}</a> (generative)</li>'
                   for i, t in enumerate(generative))
    sections = []
    for i, task in enumerate(classification):
        plots = "".join(f"<figure>{scatter_svg(task['points'], axis, label)}"
                        f"<figcaption>Worst-group accuracy against {esc(label)}, with 95% bootstrap intervals "
                        f"(test items and seeds). Filled points joined by the dashed staircase are Pareto-optimal "
                        f"(no other recipe is both smaller and better for the worst group); ringed points are off "
                        f"the front but their interval reaches it. Hover a point for its numbers.</figcaption></figure>"
                        for axis, label in SIZE_AXES.items())
        maps = (f"<figure>{heatmap_svg(task['groups'], 'accuracy_change', 'accuracy change per group', -1)}"
                "<figcaption>Accuracy change of each group against the dense model, points "
                "(red: the group lost accuracy).</figcaption></figure>"
                f"<figure>{heatmap_svg(task['groups'], 'psi', 'excess accuracy gap per group', 1)}"
                "<figcaption>ψ_g, the group's accuracy loss beyond the overall loss, points "
                "(red: the group lost more than average).</figcaption></figure>")
        sections.append(f'<section class="task" id="task-{i}"><h2>{esc(task["task"])}</h2>{task["table_html"]}'
                        f'<h3>Worst-group accuracy against size</h3><div class="figures">{plots}</div>'
                        f'<h3>Which groups lose most</h3><div class="figures">{maps}</div>'
                        f'{task.get("exemplars_html", "")}</section>')
    if generative:
        sections.append('<h2 class="track">Generative track</h2>')
    for i, task in enumerate(generative):
        sections.append(f'<section class="task" id="gen-task-{i}"><h2>{esc(task["task"])}</h2>'
                        f'{task["table_html"]}</section>')
    if not sections:
        sections.append('<p class="empty">No records yet: run <code>csbench run --suite quick</code>.</p>')
    script = _asset("page.js", "</script")
    # Only this exact script may run and nothing may be fetched: a second line of defence behind escaping.
    script_hash = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            f"style-src 'unsafe-inline'; script-src 'sha256-{script_hash}'\">"
            f"<title>csbench leaderboard</title><style>{_asset('page.css', '</style')}</style></head><body>"
            "<header><h1>Compression × subgroups leaderboard</h1>"
            "<p>What distillation, pruning and quantization do to subgroups (label × attribute) of each task. "
            "Accuracies, Δ WGA, ψ_g and flips are in percentage points. Regenerate with "
            "<code>csbench leaderboard</code>.</p>"
            f"<nav><ul>{nav}</ul></nav></header><main>{''.join(sections)}</main>"
            f'<script type="application/json" id="leaderboard-data">{json_for_script(payload)}</script>'
            f"<script>{script}</script></body></html>\n")


def write_page(results_dir: str | Path, out_dir: str | Path) -> Path:
    """Write out_dir/index.html from the records under results_dir (atomically); return its path."""
    payload, classification, generative = build_payload(results_dir)
    path = Path(out_dir) / PAGE_NAME
    atomic_write_text(path, render_page(payload, classification, generative))
    return path
