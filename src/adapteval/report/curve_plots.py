"""The learning-curve figure: score against training size on a log axis, one line per
model · strategy with its CI band and a tick at the size reaching 95 % of its full
score; one panel per task. Importing this module adds its kind to ``report.plots``."""

from __future__ import annotations

from typing import Any

from matplotlib.ticker import NullLocator

from adapteval.report.plots import COLORS, DRAW, figure, short, styled, to_svg


@styled
def learning_curves(data: dict[str, Any]) -> str:
    curves = data["curves"]
    tasks = list(dict.fromkeys(c["task"] for c in curves))
    names = list(dict.fromkeys(f"{c['model']} · {c['strategy']}" for c in curves))
    fig, axes = figure(2.8, ncols=len(tasks), width=max(6.6, 3.3 * len(tasks)))
    for ax, task in zip(axes, tasks, strict=True):
        for c in (c for c in curves if c["task"] == task):
            name = f"{c['model']} · {c['strategy']}"
            color = COLORS[names.index(name) % len(COLORS)]
            pts = [(x, v, lo, hi) for x, v, lo, hi in
                   zip(c["x"], c["value"], c["ci_low"], c["ci_high"], strict=True)
                   if x is not None and v is not None]
            if not pts:
                continue
            xs, vs, lo, hi = zip(*pts, strict=True)
            ax.plot(xs, vs, marker="o", ms=3, lw=1.2, color=color,
                    label=short(name, 40) if task == tasks[0] else None)
            if all(v is not None for v in lo + hi):
                ax.fill_between(xs, lo, hi, color=color, alpha=0.15, lw=0)
            if c.get("size_95") is not None:
                ax.axvline(c["size_95"], color=color, lw=0.8, ls=":")
        ax.set_xscale("log")
        ticks = sorted({x for c in curves if c["task"] == task for x in c["x"] if x})
        ax.set_xticks(ticks, [f"{x:.3g}" for x in ticks])
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_title(short(task, 30))
        per_label = any(c["per_label"] for c in curves if c["task"] == task)
        ax.set_xlabel("training items per label" if per_label else "training items")
    axes[0].set_ylabel(data.get("metric") or "score")
    fig.legend(loc="outside right center")
    return to_svg(fig)


DRAW["learning-curves"] = learning_curves
