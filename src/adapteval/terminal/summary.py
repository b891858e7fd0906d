"""The short summary a run ends with: the best model per task with its tie group, P_avg
and sigma_P per model and strategy, the customizability ladder when a model climbed two
rungs or more, the learning curves' compact table when the suite has curves, the verdict when the suite has criteria, and where the full tables and
the report are."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapteval.contracts.section import Cell, SectionTable, columns
from adapteval.presentation.ladder import climbing, ladder_table
from adapteval.presentation.learning import compact_table
from adapteval.presentation.records import why

if TYPE_CHECKING:
    from adapteval.results import Results


def best_table(results: Results) -> SectionTable:
    """Per task: the best entry on the primary metric, with the others of its tie group."""
    ties = results.ties()
    summary = results.summary()
    conf = round(results.bootstrap.confidence * 100)
    tasks = list(dict.fromkeys(summary["task"]))
    metrics = {t: results.primary_metric(t) for t in tasks}
    one = len({m.name for m in metrics.values()}) == 1
    t = SectionTable(
        columns("task", *([] if one else ["metric"]), "best (and tied with it)",
                f"score [{conf}% CI]", right=(f"score [{conf}% CI]",),
                wrap=("best (and tied with it)",)),
        caption=f"Best per task ({next(iter(metrics.values())).name + ', ' if one else ''}"
        "mean over seeds; tied: not separable by a paired bootstrap)")
    for task in tasks:
        metric = metrics[task]
        rows = summary[(summary["task"] == task) & (summary["metric"] == metric.name)]
        rows = rows.dropna(subset=["value"])
        if rows.empty:
            continue
        rows = rows.sort_values("value", ascending=not metric.higher_is_better, kind="stable")
        top = rows.iloc[0]
        group = ties[ties["task"] == task] if not ties.empty else ties
        first = group[group["tie_group"] == 1] if not group.empty else group
        tied = [f"{r.model} · {r.strategy}" for r in first.itertuples()
                if (r.model, r.strategy) != (top["model"], top["strategy"])]
        ci = (float(top["ci_low"]), float(top["ci_high"]))
        t.add(task, *([] if one else [metric.name]),
              Cell(f"{top['model']} · {top['strategy']}", strong=True,
                   note=f"tied: {', '.join(tied)}" if tied else None),
              Cell(float(top["value"]), "number", ci=ci if ci[0] == ci[0] else None))
    return t


def flexibility_table(results: Results) -> SectionTable:
    """P_avg [CI] and sigma_P per model and strategy (baselines included)."""
    flex = results.flexibility()
    several = flex["metric"].nunique() > 1 if not flex.empty else False
    conf = round(results.bootstrap.confidence * 100)
    names = ["model", "strategy", *(["metric"] if several else []), f"P_avg [{conf}% CI]",
             "sigma_P"]
    t = SectionTable(columns(*names, left=("model", "strategy", "metric")),
                     caption="Across tasks: P_avg (mean of per-task scores) and sigma_P "
                     "(their spread)")
    for r in flex.itertuples():
        ci = (r.ci_low, r.ci_high) if r.ci_low == r.ci_low else None
        t.add(r.model, r.strategy, *([r.metric] if several else []),
              Cell.of(r.P_avg, ci=ci, reason=why(r, "P_avg") or "undefined"),
              Cell.of(r.sigma_P, reason=why(r, "sigma_P") or "undefined"))
    return t


def verdict_table(results: Results) -> SectionTable | None:
    """Per candidate: acceptable or not, and the rules it fails."""
    v = results.judgement
    if v is None:
        return None
    t = SectionTable(columns("model", "strategy", "verdict", "failed rules",
                             left=("model", "strategy", "verdict", "failed rules"),
                             wrap=("failed rules",)),
                     caption=f"Verdict ({_rules(v)}; `adapteval check` exits 0 / 3 on it)")
    for c in v.candidates:
        failed = [_failed(k) for k in c.checks if not k.passed]
        t.add(c.model, c.strategy,
              Cell("acceptable", status="good") if c.acceptable
              else Cell("not acceptable", status="bad"), "; ".join(failed) or "—")
    return t


def _failed(check: Any) -> str:
    """A failed rule, with why when it failed for want of a number: never measured for
    this candidate, or measured without a value (``n/a`` and the reason)."""
    if check.value is None and check.note.startswith("not measured"):
        return f"{check.rule} (not measured)"
    if check.undefined:
        return f"{check.rule} (n/a: {check.undefined.split(': ', 1)[-1]})"
    return check.rule


def _rules(v) -> str:
    n = len(v.candidates[0].checks) if v.candidates else 0
    return f"{n} rule" if n == 1 else f"{n} rules"


def summary_tables(results: Results) -> list[SectionTable]:
    """The summary's tables, in reading order (none for empty results)."""
    if len(results) == 0:
        return []
    out = [best_table(results), flexibility_table(results)]
    ladder = climbing(results.ladder())
    if not ladder.empty:
        out.append(ladder_table(ladder, results.bootstrap.confidence))
    curves = results.curves()
    if curves:  # learning curves: the score per size and the 95 % size
        out.append(compact_table(curves.points, curves.efficiency))
    judged = verdict_table(results)
    return [*out, *([judged] if judged is not None else [])]


def verdict_line(results: Results) -> str | None:
    """One line: the best acceptable candidate, or that none is (None without criteria)."""
    v = results.judgement
    if v is None:
        return None
    best = v.best
    if best is None:
        return "verdict: no candidate is acceptable"
    return f"verdict: acceptable; best is {best.model} ({best.strategy})"
