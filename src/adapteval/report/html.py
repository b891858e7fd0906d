"""The HTML report: one self-contained file (inline CSS and SVG, no script, no fonts or
files from elsewhere), rendered with Jinja2 with autoescaping on, so any text from a
dataset or a config (task names, labels, examples) is shown as text, never run.
"""

from __future__ import annotations

from typing import Any

import jinja2
from markupsafe import Markup

from adapteval.contracts.digest import grouped

KNOWN = ("robustness", "calibration", "fairness", "counterfactual", "eec", "attribution",
         "transfer", "compression", "cost")
"""Analyses the template has a place for (their own ``digest``); others go under "Other"."""

SECTIONS = (
    ("overview", "Overview"),
    ("flexibility", "Flexibility"),
    ("customizability", "Customizability"),
    ("stability", "Stability"),
    ("compression", "Compression and cost"),
    ("acceptability", "Acceptability"),
    ("other", "Other analyses"),
    ("provenance", "Provenance"),
)


def fmt(value: Any, digits: int = 3, signed: bool = False) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
    return str(value)


def ci(lo: Any, hi: Any, digits: int = 3, signed: bool = False) -> str:
    if lo is None or hi is None:
        return ""
    return f"[{fmt(float(lo), digits, signed)}, {fmt(float(hi), digits, signed)}]"


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("adapteval.report", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = fmt
    env.filters["ci"] = ci
    return env


def board(doc: dict[str, Any]) -> dict[str, Any]:
    """The leaderboard as a models x tasks grid, with the verdict of each row."""
    tasks = list(dict.fromkeys(r["task"] for r in doc["leaderboard"]))
    verdicts = {(v.get("model"), v.get("strategy")): v for v in doc.get("verdict") or []}
    rows = []
    for (model, strategy), rs in grouped(doc["leaderboard"], ("model", "strategy")).items():
        v = verdicts.get((model, strategy)) or verdicts.get((model, None))
        rows.append({"model": model, "strategy": strategy, "cells": {r["task"]: r for r in rs},
                     "verdict": v})
    return {"tasks": tasks, "rows": rows}


def svg(text: str) -> Markup:
    """matplotlib's own SVG output; text inside it was escaped by matplotlib."""
    return Markup(text)


def figures(doc: dict[str, Any]) -> dict[str, Any]:
    """Every plot of the report (as inline SVG), keyed by where it goes."""
    import adapteval.report.plots as plots  # matplotlib, only when a report is drawn

    a = doc["analyses"]
    out: dict[str, Any] = dict.fromkeys(FIGURES)
    if doc["flexibility"]:
        out["flexibility"] = svg(plots.flexibility_scatter(doc["flexibility"]))
    if doc["leaderboard"]:
        out["task_bars"] = svg(plots.task_bars(doc["leaderboard"]))
    if "transfer" in a:
        out["transfer"] = [(f"{m['model']} · {m['strategy']}", svg(plots.heatmap(m)))
                           for m in a["transfer"]["matrices"]]
    out["gains"] = [(over, svg(plots.gain_bars(rs, "the TF-IDF baseline" if over == "baseline"
                                                else "the frozen probe")))
                    for (over,), rs in grouped(doc["customizability"], ("over",)).items()]
    out["curves"] = [(f"{m} · {s}", svg(plots.training_curves(cs)))
                     for (m, s), cs in grouped(doc["curves"], ("model", "strategy")).items()]
    if doc["seed_scores"] and max(r["seed"] for r in doc["seed_scores"]) != min(
            r["seed"] for r in doc["seed_scores"]):
        out["stability"] = svg(plots.seed_spread(doc["seed_scores"]))
    if "compression" in a and a["compression"]["curves"]:
        out["retention"] = svg(plots.retention_curves(a["compression"]["curves"]))
    if "robustness" in a and a["robustness"]["perturbations"]:
        out["robustness"] = svg(plots.perturbation_drops(a["robustness"]["perturbations"]))
    if "calibration" in a:
        out["reliability"] = [
            (f"{m} · {s}", svg(plots.reliability(ds)))
            for (m, s), ds in grouped(a["calibration"]["diagrams"], ("model", "strategy")).items()
            if any(d["bins"] for d in ds)]
    if "fairness" in a and a["fairness"]["groups"]:
        out["fairness"] = [(f"{m} · {s}", svg(plots.group_bars(gs)))
                           for (m, s), gs in grouped(a["fairness"]["groups"],
                                                     ("model", "strategy")).items()]
    return out


FIGURES = ("flexibility", "task_bars", "transfer", "gains", "curves", "stability", "retention",
           "robustness", "reliability", "fairness")


def present(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """The sections that have something to show, in reading order."""
    a = doc["analyses"]
    has = {
        "overview": bool(doc["leaderboard"]),
        "flexibility": bool(doc["flexibility"]) or "transfer" in a,
        "customizability": bool(doc["customizability"]) or bool(doc["curves"]),
        "stability": bool(doc["stability"]),
        "compression": "compression" in a or "cost" in a,
        "acceptability": any(n in a for n in ("robustness", "calibration", "fairness",
                                              "counterfactual", "eec", "attribution")),
        "other": bool(doc["other_analyses"]),
        "provenance": True,
    }
    return [(sid, title) for sid, title in SECTIONS if has[sid]]


def render(doc: dict[str, Any]) -> str:
    template = environment().get_template("report.html.j2")
    a = {name: doc["analyses"].get(name) for name in KNOWN}
    return template.render(doc=doc, a=a, board=board(doc), fig=figures(doc),
                           sections=present(doc))
