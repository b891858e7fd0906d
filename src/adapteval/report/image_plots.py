"""Figures of image analyses: accuracy and flip rate against corruption severity
(robustness) and deletion / insertion curves (attribution). Importing this module adds
their kinds to ``report.plots``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapteval.report.plots import COLORS, DRAW, defined, figure, short, styled, to_svg


@styled
def severity_curves(points: Sequence[dict[str, Any]]) -> str:
    """Accuracy and flip rate against corruption severity, one line per corruption, the
    mean over corruptions thick and black."""
    fig, axes = figure(2.8, ncols=2)
    for i, name in enumerate(dict.fromkeys(p["name"] for p in points)):
        mine = sorted((p for p in points if p["name"] == name), key=lambda p: p["severity"])
        style = {"color": COLORS[i % len(COLORS)], "lw": 1, "ms": 2.5, "marker": "o",
                 **({"color": "black", "lw": 2.2, "ms": 3.5} if name == "mean" else {})}
        for ax, field in zip(axes, ("accuracy", "flip_rate"), strict=True):
            if pts := defined(mine, field):
                ax.plot([p["severity"] for p in pts], [p[field] for p in pts], **style,
                        label=short(name, 24) if field == "accuracy" else None)
    for ax, label in zip(axes, ("accuracy", "flip rate"), strict=True):
        ax.set(xticks=sorted({p["severity"] for p in points}), xlabel="severity",
               ylabel=label, ylim=(-0.02, 1.02))
    fig.legend(loc="outside right center")
    return to_svg(fig)


@styled
def faithfulness_curves(curves: Sequence[dict[str, Any]]) -> str:
    """The predicted class's probability as the most attributed patches are removed
    (deletion: falls fast when faithful) or revealed (insertion: rises fast), solid, and
    the same in a random patch order, dashed; one colour per task."""
    fig, axes = figure(2.6, ncols=2)
    for i, c in enumerate(curves):
        colour = COLORS[i % len(COLORS)]
        for ax, field in zip(axes, ("deletion", "insertion"), strict=True):
            ax.plot(c["fraction"], c[field], color=colour, lw=1.4,
                    label=short(c["task"], 24) if field == "deletion" else None)
            ax.plot(c["fraction"], c[f"random_{field}"], color=colour, lw=1, ls="--")
    for ax, field in zip(axes, ("deletion", "insertion"), strict=True):
        ax.set(xlabel=f"fraction of patches {'removed' if field == 'deletion' else 'revealed'}",
               ylabel="p(predicted class)", title=f"{field} (dashed: random order)",
               xlim=(0, 1), ylim=(-0.02, 1.02))
    fig.legend(loc="outside right center")
    return to_svg(fig)


DRAW["robustness-severity"] = severity_curves
DRAW["faithfulness-curves"] = faithfulness_curves
