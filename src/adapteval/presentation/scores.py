"""The scores section (the terminal's table per task, the reports' models x tasks grid)
and the acceptance verdict (one line per rule in the terminal, a table per candidate in
the reports)."""

from __future__ import annotations

from typing import Any

from adapteval.analyses.cost import BUSY
from adapteval.contracts import digest as dg
from adapteval.contracts.section import Cell, Section, SectionTable, columns
from adapteval.results import Results
from adapteval.verdict import Verdict


def board(data: dict[str, Any]) -> dict[str, Any]:
    """The leaderboard as a models x tasks grid, with the verdict of each row."""
    tasks = list(dict.fromkeys(r["task"] for r in data["leaderboard"]))
    verdicts = {(v.get("model"), v.get("strategy")): v for v in data.get("verdict") or []}
    rows = []
    for (model, strategy), rs in dg.grouped(data["leaderboard"], ("model", "strategy")).items():
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


def scores_table(results: Results) -> SectionTable:
    """Primary metric per task, best first, with ±std, CI and tie group."""
    summary = results.summary()
    primary = summary[[m == results.primary_metric(t).name
                       for m, t in zip(summary["metric"], summary["task"], strict=True)]]
    order = {t: i for i, t in enumerate(dict.fromkeys(summary["task"]))}
    primary = primary.assign(_t=primary["task"].map(order), _v=-primary["value"])
    primary = primary.sort_values(["_t", "_v"], kind="stable")
    n_seeds = int(summary["n_seeds"].max())
    conf = round(results.bootstrap.confidence * 100)
    table = SectionTable(
        columns("task", "model", "strategy", "metric", "score ±std", f"{conf}% CI", "tie group",
                right=("score ±std", f"{conf}% CI", "tie group")),
        caption=f"Scores: mean ±std over {n_seeds} seed(s), {conf}% bootstrap CI over test "
        "items; one tie group = not separable (paired bootstrap)")
    group = {(r.task, r.model, r.strategy): r.tie_group for r in results.ties().itertuples()}
    last = None
    for r in primary.itertuples():
        table.add(r.task if r.task != last else "", r.model, r.strategy, r.metric,
                  Cell(r.value, "number", std=r.std if r.n_seeds > 1 else None),
                  Cell.interval(r.ci_low, r.ci_high),
                  Cell(group.get((r.task, r.model, r.strategy), ""), "count"),
                  new_group=last is not None and r.task != last)
        last = r.task
    return table


def overview(results: Results, data: dict[str, Any]) -> Section:
    """The scores: the terminal's table per task; the reports' leaderboard grid (primary
    metric per task, with the verdict of each row)."""
    grid = board(data)
    verdicts = data["verdict"]
    t = SectionTable(columns("model", "strategy", *grid["tasks"],
                             *(["verdict"] if verdicts else []), left=("model", "strategy")),
                     key="leaderboard")
    for row in grid["rows"]:
        t.add(row["model"], row["strategy"], *[score(row["cells"].get(k)) for k in grid["tasks"]],
              *([acceptable(row["verdict"])] if verdicts else []))
    return Section("overview", title="Scores (primary metric; bold = best tie group)",
                   intro="Primary metric per task: mean over seeds with its bootstrap CI; g1 "
                   "is the best tie group (entries in one group are not separable by a paired "
                   "bootstrap); shaded cells are in the best group.",
                   part="overview" if grid["rows"] else "", tables=[scores_table(results)],
                   report_tables=[t])


def verdict_section(v: Verdict | None, entries: list[dict[str, Any]] | None = None) -> Section:
    """The terminal's line per rule and candidate of ``v`` (measured value, statistic,
    threshold, pass/fail; none: no terminal table); the reports' verdict per candidate and
    a table of its rules (``entries``, the verdict records; none: the reports leave it
    out)."""
    tables = [] if v is None else [verdict_table(v)]
    who = SectionTable(columns("model", "strategy", "verdict", left=("model", "strategy")))
    rules = []
    for e in entries or []:
        who.add(e.get("model", ""), e.get("strategy") or "", acceptable(e))
        if e["rules"]:
            rules.append(dg.table(e["rules"], list(e["rules"][0]),
                                  caption=" · ".join(x for x in (e.get("model", ""),
                                                                 e.get("strategy")) if x)))
    return Section("verdict", title="Acceptance verdict", part="overview" if entries else "",
                   tables=tables, report_tables=[who, *rules])


def verdict_table(v: Verdict) -> SectionTable:
    """One line per rule and candidate: measured value, statistic, threshold, pass/fail."""
    table = SectionTable(
        columns("model", "strategy", "rule", "measured", "on", "result", right=("measured",),
                wrap=("rule", "measured", "on")),
        caption=f"Acceptance: {v.suite} (measured: the rule's statistic; on: the task it "
        "comes from, the one closest to failing for every-task rules)")
    for i, c in enumerate(v.candidates):
        for j, ch in enumerate(c.checks):
            shown = ch.note if ch.statistic != "mean" or ch.value is None else (
                ch.note.split("; ", 1)[1] if BUSY in ch.note else "")
            table.add(c.model if j == 0 else "", c.strategy if j == 0 else "", ch.rule,
                      Cell.of(ch.value, ".4g", text="n/a"), Cell(ch.where, note=shown or None),
                      Cell("pass", status="good") if ch.passed else Cell("FAIL", status="bad"),
                      new_group=bool(i) and j == 0)
        mark = (Cell("ACCEPTABLE", strong=True, status="good") if c.acceptable
                else Cell("NOT ACCEPTABLE", strong=True, status="bad"))
        table.add("", "", mark, "", "", "", new_group=bool(i) and not c.checks)
    return table
