"""The scores section (the terminal's table per task, the reports' models x tasks grid)
and the acceptance verdict (one line per rule in the terminal, a table per candidate in
the reports)."""

from __future__ import annotations

from typing import Any

from adapteval.analyses.cost import BUSY
from adapteval.contracts import digest as dg
from adapteval.contracts.section import Cell, Section, SectionTable, columns
from adapteval.presentation.records import why
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


def score(c: dict[str, Any] | None, fitted: str | None = None) -> Cell:
    """A leaderboard entry: mean (±std over seeds), its CI and its tie group (the best
    group strong), then ``fitted`` (how its cells were fitted, ``cell_notes``)."""
    if not c:
        return Cell("")
    if c["value"] is None:
        return Cell.na(why(c, "value"), None if why(c, "value") else "–")
    ci = (c["ci_low"], c["ci_high"]) if None not in (c["ci_low"], c["ci_high"]) else None
    note = "; ".join(x for x in (f"g{c['tie_group']}" if c["tie_group"] else "", fitted or "")
                     if x)
    return Cell(c["value"], "number", std=c["std"] if c["n_seeds"] > 1 else None, ci=ci,
                note=note or None, strong=c["tie_group"] == 1)


def scores_table(results: Results) -> SectionTable:
    """Primary metric per task, best first, with ±std, CI and tie group (an undefined
    score is n/a with its reason, in no group); the strategy notes the cells' chosen
    regularisation and k-shot classes capped at their size."""
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
    info = cell_notes(results)
    last = None
    for r in primary.itertuples():
        where = (r.task, r.model, r.strategy)
        tie = group.get(where)
        table.add(r.task if r.task != last else "", r.model,
                  Cell(r.strategy, note=info.get(where)), r.metric,
                  Cell.of(r.value, reason=why(r, "value"),
                          std=r.std if r.n_seeds > 1 else None),
                  Cell.interval(r.ci_low, r.ci_high, reason=why(r, "ci")),
                  Cell(tie, "count") if tie is not None else
                  Cell.na(why(r, "value")) if why(r, "value") else Cell("", "count"),
                  new_group=last is not None and r.task != last)
        last = r.task
    return table


def _number(v: Any) -> str:
    return format(float(v), ".3g")


def cell_notes(results: Results) -> dict[tuple[str, str, str], str]:
    """Per model, task and strategy, what its cells' info says of how they were fitted:
    the regularisation chosen on the training split (``C=0.1``; a range over seeds) and
    the classes k-shot capped at their size (``capped: 2 classes``)."""
    chosen: dict[tuple[str, str, str], dict[str, set[float]]] = {}
    capped: dict[tuple[str, str, str], set[str]] = {}
    for r in results.rows:
        info = r.info if isinstance(r.info, dict) else {}
        lab = results.labels[r.key]
        where = (lab.task, lab.model, lab.strategy)
        for name, v in (info.get("regularization") or {}).items():
            if isinstance(v, int | float) and not isinstance(v, bool):
                chosen.setdefault(where, {}).setdefault(name, set()).add(float(v))
        capped.setdefault(where, set()).update(str(k) for k in info.get("capped") or {})
    out = {}
    for where in {*chosen, *(w for w, c in capped.items() if c)}:
        parts = [f"{name}={_number(min(vs))}" + (f"–{_number(max(vs))}" if len(vs) > 1 else "")
                 for name, vs in chosen.get(where, {}).items()]
        if n := len(capped.get(where, ())):
            parts.append(f"capped: {n} class{'es' if n > 1 else ''}")
        out[where] = "; ".join(parts)
    return out


def overview(results: Results, data: dict[str, Any]) -> Section:
    """The scores: the terminal's table per task; the reports' leaderboard grid (primary
    metric per task, with the verdict of each row)."""
    grid = board(data)
    verdicts = data["verdict"]
    t = SectionTable(columns("model", "strategy", *grid["tasks"],
                             *(["verdict"] if verdicts else []), left=("model", "strategy")),
                     key="leaderboard")
    fitted = cell_notes(results)
    for row in grid["rows"]:
        t.add(row["model"], row["strategy"],
              *[score(row["cells"].get(k), fitted.get((k, row["model"], row["strategy"])))
                for k in grid["tasks"]],
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
    rules, notes = [], []
    for e in entries or []:
        who.add(e.get("model", ""), e.get("strategy") or "", acceptable(e))
        name = " · ".join(x for x in (e.get("model", ""), e.get("strategy")) if x)
        if e["rules"]:
            rules.append(rules_table(e["rules"], name))
        failing = [r for r in e["rules"] if r.get("passed") is False]
        if failing:
            notes.append(f"{name} fails: " + "; ".join(
                f"{r['rule']} ({'n/a: ' + why(r, 'value') if why(r, 'value') else _value(r)})"
                for r in failing))
    return Section("verdict", title="Acceptance verdict", part="overview" if entries else "",
                   tables=tables, report_tables=[who, *rules], notes=notes)


def _value(rule: dict[str, Any]) -> str:
    v = rule.get("value")
    text = "not measured" if v is None else format(v, ".4g")
    return f"{text} on {rule['where']}" if rule.get("where") else text


def rules_table(rules: list[dict[str, Any]], caption: str) -> SectionTable:
    """A candidate's rules as the reports show them: measured value (n/a with its reason),
    where, statistic, pass / FAIL, note."""
    cols = [k for k in rules[0] if k not in ("undefined", "passed")]
    table = SectionTable(columns(*cols, "result"), caption=caption)
    for r in rules:
        reason = why(r, "value")
        ok = r.get("passed")
        table.add(*[Cell.na(reason) if c == "value" and reason else dg.cell(r.get(c))
                    for c in cols],
                  Cell("–") if ok is None else Cell("pass", status="good") if ok else
                  Cell("FAIL", status="bad", note="undefined" if reason else None))
    return table


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
            undefined = getattr(ch, "undefined", "") or None
            table.add(c.model if j == 0 else "", c.strategy if j == 0 else "", ch.rule,
                      Cell.of(ch.value, ".4g", reason=undefined, text="n/a"),
                      Cell(ch.where, note=shown or None),
                      Cell("pass", status="good") if ch.passed else
                      Cell("FAIL", status="bad", note="undefined" if undefined else None),
                      new_group=bool(i) and j == 0)
        mark = (Cell("ACCEPTABLE", strong=True, status="good") if c.acceptable
                else Cell("NOT ACCEPTABLE", strong=True, status="bad"))
        table.add("", "", mark, "", "", "", new_group=bool(i) and not c.checks)
    return table
