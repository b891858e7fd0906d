"""Plots for the report, each returned as an inline SVG string.

matplotlib's object API (``Figure``, no pyplot state) with the SVG backend: text stays
text (``svg.fonttype: none``) so the figures are small, sharp and searchable; labels
are never parsed as math, so a ``$`` in a task name is just a character. Figures are
sized for a laptop screen (about 640 px wide). ``draw`` reads a
:class:`~adapteval.contracts.section.PlotSpec`: its ``kind`` names the figure, its
``data`` is what the figure's function takes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from adapteval.contracts.digest import grouped
from adapteval.contracts.section import PlotSpec

STYLE = {
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.size": 8.5,
    "font.family": "sans-serif",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "legend.fontsize": 7.5,
}
WIDTH = 6.6
COLORS = ["#1b6ca8", "#e07b39", "#3a923a", "#c03d3e", "#8a63b8", "#8c564b", "#d46aa8",
          "#6f6f6f", "#a8a93a", "#2aa3b5"]


def short(text: str, n: int = 28) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def to_svg(fig: Figure) -> str:
    """The figure as an ``<svg>`` element (no XML prolog) that scales to its container."""
    buf = io.StringIO()
    with matplotlib.rc_context(STYLE):
        fig.savefig(buf, format="svg", bbox_inches="tight")
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    return re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 class="plot-svg"', svg,
                  count=1)


def figure(height: float, ncols: int = 1, width: float = WIDTH) -> tuple[Figure, Any]:
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width, height), layout="constrained")
        axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, axes


def styled(fn):
    """Run a plotting function with the report style active (artists read rcParams)."""
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(STYLE):
            return fn(*args, **kwargs)

    wrapper.__doc__, wrapper.__name__ = fn.__doc__, fn.__name__
    return wrapper


def entry(r: dict[str, Any]) -> str:
    return f"{r['model']} · {r['strategy']}"


def defined(rows: Sequence[dict[str, Any]], *fields: str) -> list[dict[str, Any]]:
    """The rows whose ``fields`` all have a value (a figure skips the others; the section
    that made the plot notes them)."""
    return [r for r in rows if all(r.get(f) is not None and r[f] == r[f] for f in fields)]


@styled
def flexibility_scatter(flex: Sequence[dict[str, Any]]) -> str:
    """P_avg (with its CI) against sigma_P: up and left is better."""
    fig, (ax,) = figure(3.2)
    flex = defined(flex, "P_avg", "sigma_P", "ci_low", "ci_high")
    for i, r in enumerate(flex):
        c = COLORS[i % len(COLORS)]
        ax.errorbar(r["sigma_P"], r["P_avg"],
                    yerr=[[r["P_avg"] - r["ci_low"]], [r["ci_high"] - r["P_avg"]]],
                    fmt="o", color=c, capsize=3, label=short(entry(r), 40))
    ax.set_xlabel("sigma_P (spread over tasks, lower is better)")
    ax.set_ylabel(f"P_avg ({flex[0]['metric']})" if flex else "P_avg")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    return to_svg(fig)


def _grouped_bars(ax, cats: list[str], series: dict[str, dict[str, tuple[float, float, float]]],
                  *, horizontal: bool = False) -> None:
    """Bars per category and series with asymmetric error bars (value, low, high; a
    missing value draws no bar); ``horizontal``: one row per category, its label read
    level (for many or long names)."""
    n = max(len(series), 1)
    width = 0.8 / n
    x = np.arange(len(cats))
    for i, (name, vals) in enumerate(series.items()):
        v, lo, hi = (np.array([np.nan if (t := vals.get(c)) is None or t[j] is None else t[j]
                               for c in cats], dtype=float) for j in range(3))
        err = np.nan_to_num(np.array([v - lo, hi - v]), nan=0.0)
        pos = x - 0.4 + width * (i + 0.5)
        style = {"color": COLORS[i % len(COLORS)], "label": short(name, 40),
                 "capsize": 2, "error_kw": {"lw": 0.8}}
        if horizontal:
            ax.barh(pos, np.nan_to_num(v), width, xerr=err, **style)
        else:
            ax.bar(pos, np.nan_to_num(v), width, yerr=err, **style)
    if horizontal:
        ax.set_yticks(x, [short(c, 30) for c in cats])
        ax.invert_yaxis()
        return
    many = len(cats) > 3
    ax.set_xticks(x, [short(c, 22) for c in cats], rotation=35 if many else 0,
                  ha="right" if many else "center", rotation_mode="anchor" if many else "default")


@styled
def task_bars(board: Sequence[dict[str, Any]]) -> str:
    """Per-task scores with their bootstrap CIs, one bar per model and strategy."""
    cats = list(dict.fromkeys(r["task"] for r in board))
    series: dict[str, dict[str, tuple[float, float, float]]] = {}
    for r in board:
        series.setdefault(entry(r), {})[r["task"]] = (r["value"], r["ci_low"], r["ci_high"])
    fig, (ax,) = figure(3.0)
    _grouped_bars(ax, cats, series)
    ax.set_ylabel(" / ".join(dict.fromkeys(r["metric"] for r in board)))
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    return to_svg(fig)


@styled
def gain_bars(gains: Sequence[dict[str, Any]], over: str) -> str:
    """Paired gains with CIs per task; above zero the adapted model wins."""
    cats = list(dict.fromkeys(r["task"] for r in gains))
    series: dict[str, dict[str, tuple[float, float, float]]] = {}
    for r in gains:
        name = f"{entry(r)} − {r['reference']}"
        series.setdefault(name, {})[r["task"]] = (r["gain"], r["ci_low"], r["ci_high"])
    fig, (ax,) = figure(2.8)
    _grouped_bars(ax, cats, series)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel(f"gain over {over}")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    return to_svg(fig)


@styled
def heatmap(matrix: dict[str, Any]) -> str:
    """Source task (row) x target task/domain (column) accuracy, in-domain cells boxed."""
    vals = np.array([[np.nan if v is None else v for v in row] for row in matrix["values"]],
                    dtype=float)
    h = 1.2 + 0.35 * len(matrix["sources"])
    fig, (ax,) = figure(h, width=min(WIDTH, 2.2 + 0.8 * len(matrix["targets"])))
    ax.grid(False)
    im = ax.imshow(vals, cmap="viridis", vmin=np.nanmin(vals) if np.isfinite(vals).any() else 0,
                   vmax=1.0, aspect="auto")
    for i in range(vals.shape[0]):
        for j in range(vals.shape[1]):
            if np.isfinite(vals[i, j]):
                ax.text(j, i, f"{vals[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if vals[i, j] < np.nanmean(vals) else "black",
                        fontweight="bold" if matrix["in_domain"][i][j] else "normal")
    ax.set_xticks(range(len(matrix["targets"])), [short(t, 18) for t in matrix["targets"]],
                  rotation=30, ha="right")
    ax.set_yticks(range(len(matrix["sources"])), [short(s, 18) for s in matrix["sources"]])
    ax.set_xlabel("evaluated on")
    ax.set_ylabel("adapted on")
    fig.colorbar(im, ax=ax, shrink=0.8, label="accuracy")
    return to_svg(fig)


@styled
def training_curves(curves: Sequence[dict[str, Any]]) -> str:
    """Training loss and validation metric against steps, one line per task and seed."""
    fig, (loss_ax, val_ax) = figure(2.6, ncols=2)
    tasks = list(dict.fromkeys(c["task"] for c in curves))
    for c in curves:
        color = COLORS[tasks.index(c["task"]) % len(COLORS)]
        steps = [p["step"] for p in c["points"]]
        label = short(c["task"], 24) if c is next(x for x in curves if x["task"] == c["task"]) \
            else None
        loss_ax.plot(steps, [p.get("train_loss") for p in c["points"]], color=color, lw=1,
                     alpha=0.85, label=label)
        val = [(s, p.get("val_metric")) for s, p in zip(steps, c["points"], strict=True)
               if p.get("val_metric") is not None]
        if val:
            val_ax.plot(*zip(*val, strict=True), color=color, lw=1, marker=".", alpha=0.85)
    loss_ax.set_xlabel("step")
    loss_ax.set_ylabel("training loss")
    val_ax.set_xlabel("step")
    val_ax.set_ylabel(f"validation {curves[0].get('metric') or 'metric'}")
    loss_ax.legend()
    return to_svg(fig)


@styled
def seed_spread(scores: Sequence[dict[str, Any]]) -> str:
    """Each seed's score as a dot, the mean as a bar, per task and model/strategy."""
    scores = defined(scores, "value")
    cats = list(dict.fromkeys(r["task"] for r in scores))
    names = list(dict.fromkeys(entry(r) for r in scores))
    fig, (ax,) = figure(3.0)
    width = 0.8 / max(len(names), 1)
    for i, name in enumerate(names):
        c = COLORS[i % len(COLORS)]
        for j, task in enumerate(cats):
            vals = [r["value"] for r in scores if entry(r) == name and r["task"] == task]
            if not vals:
                continue
            x = j - 0.4 + width * (i + 0.5)
            ax.plot([x] * len(vals), vals, "o", ms=3.5, color=c, alpha=0.8,
                    label=short(name, 40) if j == 0 else None)
            ax.plot([x - width * 0.4, x + width * 0.4], [np.mean(vals)] * 2, color=c, lw=1.5)
    ax.set_xticks(range(len(cats)), [short(t, 22) for t in cats])
    ax.set_ylabel(" / ".join(dict.fromkeys(r["metric"] for r in scores)) or "score")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    return to_svg(fig)


@styled
def retention_curves(curves: Sequence[dict[str, Any]]) -> str:
    """Retention (compressed / uncompressed score) against sparsity, per method."""
    fig, (ax,) = figure(3.0)
    for i, c in enumerate(curves):
        pts = [p for p in c["points"] if p["sparsity"] is not None and p["retention"] is not None]
        if pts:
            ax.plot([p["sparsity"] for p in pts], [p["retention"] for p in pts], marker="o",
                    ms=3, color=COLORS[i % len(COLORS)],
                    label=short(f"{entry(c)} · {c['method']}", 44))
    for level in (0.99, 0.95):
        ax.axhline(level, color="grey", lw=0.7, ls="--")
    ax.set_xlabel("sparsity")
    ax.set_ylabel("retention")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    return to_svg(fig)


@styled
def perturbation_drops(per: Sequence[dict[str, Any]]) -> str:
    """Accuracy drop under each perturbation (mean over tasks and seeds): one row per
    perturbation, so every name reads level however many there are."""
    cats = list(dict.fromkeys(p["name"] for p in per))
    series: dict[str, dict[str, tuple[float, float, float]]] = {}
    for p in per:
        d = p["drop"] if p["drop"] is not None else np.nan
        series.setdefault(entry(p), {})[p["name"]] = (d, d, d)
    fig, (ax,) = figure(1.0 + 0.22 * len(cats) * max(1.0, len(series) / 2))
    _grouped_bars(ax, cats, series, horizontal=True)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("accuracy drop (clean − perturbed)")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    return to_svg(fig)


@styled
def reliability(diagrams: Sequence[dict[str, Any]]) -> str:
    """Reliability diagram: accuracy against confidence per bin, one line per task, and
    below it the number of items in each bin (a bin of few items says little)."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(4.2, 3.6), layout="constrained")
        ax, counts = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--", label="perfectly calibrated")
    shown = [d for d in diagrams if d["bins"]]
    width = 1.0 / max(len(shown), 1)
    for i, d in enumerate(shown):
        bins, color = d["bins"], COLORS[i % len(COLORS)]
        ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], marker="o",
                ms=3, color=color, label=short(d["task"], 30))
        left = np.array([b["lo"] for b in bins], dtype=float)
        span = np.array([b["hi"] for b in bins], dtype=float) - left
        n = [int(b.get("count") or 0) for b in bins]
        bars = counts.bar(left + span * width * i, n, span * width, align="edge", color=color,
                          alpha=0.6)
        if len(shown) == 1:
            counts.bar_label(bars, labels=[str(k) for k in n], fontsize=6, padding=1)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("accuracy")
    ax.legend(loc="upper left")
    counts.set_xlabel("confidence")
    counts.set_ylabel("items per bin")
    counts.margins(y=0.25)
    return to_svg(fig)


@styled
def group_bars(groups: Sequence[dict[str, Any]]) -> str:
    """Accuracy per group, per task (fairness)."""
    cats = list(dict.fromkeys(g["group"] for g in groups))
    series: dict[str, dict[str, tuple[float, float, float]]] = {}
    for task, gs in grouped(groups, ("task",)).items():
        series[task[0]] = {g["group"]: (g["accuracy"],) * 3 for g in gs}
    fig, (ax,) = figure(2.6)
    _grouped_bars(ax, cats, series)
    ax.set_ylabel("accuracy per group")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    return to_svg(fig)


@styled
def ladder(data: dict[str, Any]) -> str:
    """The customizability ladder: rungs along (only those that ran, in order), the score
    with its CI whiskers, one line per model (a model's line starts at its lowest rung),
    one panel per task or one for the average over tasks; the TF-IDF probe dashed."""
    points, refs = data["points"], data.get("references", [])
    tasks = list(dict.fromkeys(p["task"] for p in points))
    rungs = sorted({p["rung"] for p in points})
    ticks = ["/".join(dict.fromkeys(p["strategy"] for p in points if p["rung"] == r))
             for r in rungs]
    models = list(dict.fromkeys(p["model"] for p in points))
    ncols = min(len(tasks), 3)
    nrows = -(-len(tasks) // ncols)
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(WIDTH, 0.4 + 2.6 * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True).ravel()
    for ax in axes[len(tasks):]:
        ax.set_visible(False)
    for k, (ax, task) in enumerate(zip(axes, tasks, strict=False)):
        for i, model in enumerate(models):
            mine = sorted((p for p in points if p["task"] == task and p["model"] == model),
                          key=lambda p: p["rung"])
            if not mine:
                continue
            x = [rungs.index(p["rung"]) + 0.06 * (i - (len(models) - 1) / 2) for p in mine]
            y = [p["value"] for p in mine]
            err = np.nan_to_num(np.array(
                [[p["value"] - p["ci_low"] if p.get("ci_low") is not None else 0.0,
                  p["ci_high"] - p["value"] if p.get("ci_high") is not None else 0.0]
                 for p in mine], dtype=float).T, nan=0.0)
            ax.errorbar(x, y, yerr=err, fmt="-o", ms=4, lw=1.2, capsize=3,
                        color=COLORS[i % len(COLORS)], label=short(model, 40) if k == 0 else None)
        for j, r in enumerate(x for x in refs if x["task"] == task):
            ax.axhline(r["value"], color="grey", lw=0.8, ls="--",
                       label=short(r["label"], 40) if k == 0 and j == 0 else None)
        ax.set_xticks(range(len(rungs)), [short(s, 16) for s in ticks],
                      rotation=30 if len(rungs) > 3 else 0,
                      ha="right" if len(rungs) > 3 else "center")
        ax.set_xlim(-0.4, len(rungs) - 0.6)
        if len(tasks) > 1 or task != "P_avg":
            ax.set_title(short(task, 30), fontsize=8.5)
        if k % ncols == 0:
            ax.set_ylabel(f"P_avg ({data['metric']})" if data.get("averaged")
                          else data["metric"])
    fig.legend(loc="outside right center")
    return to_svg(fig)


def _gains(data: dict[str, Any]) -> str:
    return gain_bars(data["gains"], data["over"])


DRAW = {
    "flexibility-scatter": flexibility_scatter, "task-bars": task_bars,
    "transfer-heatmap": heatmap, "training-curve": training_curves,
    "seed-spread": seed_spread, "retention-curves": retention_curves,
    "robustness-drops": perturbation_drops, "reliability-diagram": reliability,
    "fairness-groups": group_bars, "ladder": ladder,
}
"""Figure functions by plot kind; ``gains-<reference>`` kinds draw ``gain_bars``."""


def drawable(spec: PlotSpec) -> bool:
    return spec.kind in DRAW or spec.kind.startswith("gains-")


def draw(spec: PlotSpec) -> str:
    """The SVG of a plot spec."""
    return _gains(spec.data) if spec.kind.startswith("gains-") else DRAW[spec.kind](spec.data)
