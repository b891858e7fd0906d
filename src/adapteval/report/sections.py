"""The result set's own sections of the written reports (scores with the verdict,
flexibility, gains, training curves, stability), built from the report document as
:class:`~adapteval.contracts.section.Section` objects; the analyses' sections come with
the document (``Document.sections``, the objects the terminal reads). HTML and Markdown
draw only sections (and the document's provenance).

Each section's ``part`` is the part of the report it goes to; a section whose ``key`` is
its part opens that part (no heading of its own in HTML).
"""

from __future__ import annotations

from typing import Any

from adapteval.contracts import digest as dg
from adapteval.contracts.section import Cell, PlotSpec, Section, SectionTable, columns

RESULT_KEYS = ("overview", "verdict", "flexibility", "customizability", "curves", "stability")
"""The result set's sections, in the order they open their parts."""


def board(doc: dict[str, Any]) -> dict[str, Any]:
    """The leaderboard as a models x tasks grid, with the verdict of each row."""
    tasks = list(dict.fromkeys(r["task"] for r in doc["leaderboard"]))
    verdicts = {(v.get("model"), v.get("strategy")): v for v in doc.get("verdict") or []}
    rows = []
    for (model, strategy), rs in dg.grouped(doc["leaderboard"], ("model", "strategy")).items():
        v = verdicts.get((model, strategy)) or verdicts.get((model, None))
        rows.append({"model": model, "strategy": strategy, "cells": {r["task"]: r for r in rs},
                     "verdict": v})
    return {"tasks": tasks, "rows": rows}


def acceptable(v: dict[str, Any] | None) -> Cell:
    if v is None:
        return Cell("–")
    return (Cell("acceptable", status="good") if v["acceptable"]
            else Cell("not acceptable", status="bad"))


def score(c: dict[str, Any] | None) -> Cell:
    """A leaderboard entry: mean (±std over seeds), its CI and its tie group (the best
    group strong)."""
    if not c:
        return Cell("")
    if c["value"] is None:
        return Cell.na(text="–")
    ci = (c["ci_low"], c["ci_high"]) if None not in (c["ci_low"], c["ci_high"]) else None
    return Cell(c["value"], "number", std=c["std"] if c["n_seeds"] > 1 else None, ci=ci,
                note=f"g{c['tie_group']}" if c["tie_group"] else None,
                strong=c["tie_group"] == 1)


def overview(doc: dict[str, Any]) -> list[Section]:
    """The leaderboard grid (primary metric per task, with the verdict of each row) and
    the verdict per candidate with its rules."""
    grid = board(doc)
    if not grid["rows"]:
        return []
    verdicts = doc["verdict"]
    t = SectionTable(columns("model", "strategy", *grid["tasks"],
                             *(["verdict"] if verdicts else []), left=("model", "strategy")),
                     key="leaderboard")
    for row in grid["rows"]:
        t.add(row["model"], row["strategy"], *[score(row["cells"].get(k)) for k in grid["tasks"]],
              *([acceptable(row["verdict"])] if verdicts else []))
    out = [Section("overview", title="Scores (primary metric; bold = best tie group)",
                   intro="Primary metric per task: mean over seeds with its bootstrap CI; g1 "
                   "is the best tie group (entries in one group are not separable by a paired "
                   "bootstrap); shaded cells are in the best group.", part="overview",
                   report_tables=[t])]
    if verdicts:
        who = SectionTable(columns("model", "strategy", "verdict", left=("model", "strategy")))
        rules = []
        for v in verdicts:
            who.add(v.get("model", ""), v.get("strategy") or "", acceptable(v))
            if v["rules"]:
                rules.append(dg.table(v["rules"], list(v["rules"][0]),
                                      caption=" · ".join(x for x in (v.get("model", ""),
                                                                     v.get("strategy")) if x)))
        out.append(Section("verdict", title="Acceptance verdict", part="overview",
                           report_tables=[who, *rules]))
    return out


def flexibility(doc: dict[str, Any]) -> list[Section]:
    """P_avg and sigma_P per model and strategy (table and scatter), and per-task bars."""
    flex, board_ = doc["flexibility"], doc["leaderboard"]
    if not flex:
        return []
    plots = [PlotSpec("flexibility-scatter", "P_avg against sigma_P per model and strategy",
                      flex)]
    if board_:
        plots.append(PlotSpec("task-bars", "Per-task scores with 95% bootstrap CIs", board_))
    return [Section(
        "flexibility", title="Flexibility", part="flexibility", plots=plots,
        intro="P_avg: mean of per-task primary scores (CI over test items); sigma_P: their "
        "spread over tasks; up and to the left is better.",
        report_tables=[dg.table(flex, ["model", "strategy", "metric", "P_avg", "ci_low",
                                       "ci_high", "sigma_P", "worst_task", "worst_score",
                                       "n_tasks"])])]


def customizability(doc: dict[str, Any]) -> list[Section]:
    """Paired gains over the TF-IDF baseline and the frozen probe, and training curves."""
    out = []
    gains = doc["customizability"]
    if gains:
        plots = []
        for (over,), rs in dg.grouped(gains, ("over",)).items():
            name = "the TF-IDF baseline" if over == "baseline" else "the frozen probe"
            plots.append(PlotSpec(f"gains-{over}", f"Gain over {name}",
                                  {"gains": rs, "over": name}))
        out.append(Section(
            "customizability", title="Customizability (paired gains)", part="customizability",
            intro="Gain of each model and strategy over the TF-IDF baseline and over its own "
            "frozen probe, paired by seed, with a bootstrap CI; a CI above 0 is a real gain.",
            plots=plots,
            report_tables=[dg.table(gains, ["model", "strategy", "task", "reference", "gain",
                                            "ci_low", "ci_high", "std", "n_seeds"])]))
    if doc["curves"]:
        out.append(Section("curves", title="Training curves", part="customizability",
                           plots=[PlotSpec("training-curve", f"{m} · {s}", cs)
                                  for (m, s), cs in dg.grouped(doc["curves"],
                                                               ("model", "strategy")).items()]))
    return out


def stability(doc: dict[str, Any]) -> list[Section]:
    """The primary score's spread over seeds (each seed a dot) and the failure rate."""
    if not doc["stability"]:
        return []
    several = len({r["seed"] for r in doc["seed_scores"]}) > 1
    return [Section(
        "stability", title="Stability", part="stability",
        intro="Spread of the primary score over seeds; failure rate: share of seeds not "
        "better than the majority class on the same split.",
        plots=[PlotSpec("seed-spread", "Each dot one seed; the line is the mean",
                        doc["seed_scores"])] if several else [],
        report_tables=[dg.table(doc["stability"], ["model", "strategy", "task", "metric",
                                                   "n_seeds", "mean", "std", "min", "max",
                                                   "failure_rate"])])]


def result_sections(doc: dict[str, Any]) -> list[Section]:
    """The result set's own sections, in reading order."""
    return [*overview(doc), *flexibility(doc), *customizability(doc), *stability(doc)]
