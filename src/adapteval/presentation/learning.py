"""Learning curves: the score of each strategy at each training size (a strategy
entry's ``curve:``), how much data reaches 90 / 95 / 99 % of the full-data score, where
one curve overtakes another, and the model ranking at each size. The terminal shows a
compact table (scores x100, one column per size, the 95 % size last) and the crossings;
the written reports show every point with its CI and spread over draws, the label
efficiency with its intervals, the crossings, the rankings and a plot of the curves with
CI bands and the 95 % markers. The JSON export carries every point and every draw."""

from __future__ import annotations

from typing import Any

import pandas as pd

from adapteval.contracts.report_section import SECTIONS, ReportSection
from adapteval.contracts.section import Cell, PlotSpec, Section, SectionTable, columns, missing
from adapteval.core.keys import jsonable
from adapteval.presentation.records import records, why
from adapteval.results import Results

FULL = "full"


def _sizes(points: pd.DataFrame) -> list[str]:
    """The sizes in axis order (numbers ascending, fractions, then full)."""
    def order(s: str) -> tuple[int, float]:
        if s == FULL:
            return (2, 0.0)
        v = float(s)
        return (1, v) if v < 1 else (0, v)
    return sorted(dict.fromkeys(points["size"]), key=order)


def _x(value: float, per_label: bool, n_classes: Any) -> float:
    return value / n_classes if per_label and n_classes else value


def _reach(r: Any, col: str, fmt: str = ".0f") -> Cell:
    value = r[col]
    n = r["n_classes"] if r["per_label"] else None
    return Cell.of(None if missing(value) else _x(value, r["per_label"], n), fmt,
                   reason=why(r, col))


def compact_table(points: pd.DataFrame, eff: pd.DataFrame) -> SectionTable:
    """Per task, each model · strategy: its score x100 at every size (mean over draws),
    then the size reaching 95 % of its full score (per label for classification)."""
    sizes = _sizes(points)
    metrics = " / ".join(dict.fromkeys(points["metric"]))
    t = SectionTable(columns("model · strategy", *sizes, "95%", left=("model · strategy",)),
                     caption=f"Learning curves ({metrics} x100, mean over draws; 95%: "
                     "training size reaching 95% of the full score, per label; items for "
                     "regression)",
                     key="learning-curves")
    several = points["task"].nunique() > 1
    for task, group in points.groupby("task", sort=False):
        if several:
            t.add(Cell(task, strong=True), *[""] * (len(sizes) + 1), new_group=len(t.rows) > 0)
        for (model, strategy), g in group.groupby(["model", "strategy"], sort=False):
            by = {r["size"]: r for r in g.to_dict("records")}
            row = [Cell.of(by[s]["value"] * 100, ".0f", reason=why(by[s], "value"))
                   if s in by else Cell.na() for s in sizes]
            e = eff[(eff["model"] == model) & (eff["task"] == task)
                    & (eff["strategy"] == strategy)]
            reach = _reach(e.iloc[0], "size_95") if len(e) else Cell.na()
            t.add(f"  {model} · {strategy}" if several else f"{model} · {strategy}",
                  *row, reach)
    return t


def points_table(points: pd.DataFrame, confidence: float) -> SectionTable:
    conf = round(confidence * 100)
    score = f"score [{conf}% CI]"
    t = SectionTable(columns("model", "task", "strategy", "size", "train items", "per label",
                             score, "spread", "draws",
                             right=("train items", "per label", score, "spread", "draws")),
                     caption="Every point: mean over draws, bootstrap CI over test items, "
                     "spread (std) over draws", key="learning-points")
    for r in points.to_dict("records"):
        t.add(r["model"], r["task"], r["strategy"], r["size"], Cell.of(r["n_train"], ".0f"),
              Cell.of(r["per_label"], ".1f", reason=None if not missing(r["per_label"])
                      else "regression: items, not labels"),
              Cell.of(r["value"], reason=why(r, "value"),
                      ci=None if why(r, "ci") else (r["ci_low"], r["ci_high"])),
              Cell.of(r["spread"], reason=why(r, "spread")), Cell(r["draws"], "count"))
    return t


def efficiency_table(eff: pd.DataFrame, confidence: float) -> SectionTable:
    conf = round(confidence * 100)
    cols = [f"{f}% [{conf}% CI]" for f in (90, 95, 99)]
    t = SectionTable(columns("model", "task", "strategy", "full score", "full size", *cols,
                             right=("full score", "full size", *cols)),
                     caption="Label efficiency: training size reaching 90 / 95 / 99 % of the "
                     "full-data score (per label for classification, items for regression; "
                     "log-size interpolation; interval from re-drawing the draws)",
                     key="label-efficiency")
    for r in eff.to_dict("records"):
        n = r["n_classes"] if r["per_label"] else None
        cells = []
        for f in (90, 95, 99):
            col = f"size_{f}"
            ci = None if why(r, f"{col}_ci") else (_x(r[f"{col}_low"], r["per_label"], n),
                                                   _x(r[f"{col}_high"], r["per_label"], n))
            cells.append(Cell.of(None if missing(r[col]) else _x(r[col], r["per_label"], n),
                                 ".1f", reason=why(r, col), ci=ci))
        t.add(r["model"], r["task"], r["strategy"], Cell.of(r["full"], reason=why(r, "full")),
              Cell.of(_x(r["full_n_train"], r["per_label"], n), ".0f"), *cells)
    return t


def crossings_table(cross: pd.DataFrame) -> SectionTable:
    t = SectionTable(columns("task", "overtakes", "sizes", "before", "after",
                             right=("before", "after"), wrap=("task", "overtakes")),
                     caption="Crossings: where one curve overtakes another (paired difference "
                     "before and after; * its CI excludes 0)", key="curve-crossings")
    for r in cross.to_dict("records"):
        sign = 1 if r["diff_after"] > 0 else -1
        winner, loser = (r["a"], r["b"]) if sign > 0 else (r["b"], r["a"])
        t.add(r["task"], f"{winner} over {loser}", f"{r['from_size']} → {r['to_size']}",
              Cell.of(sign * r["diff_before"], "+.3f",
                      note="*" if r["before_significant"] else None),
              Cell.of(sign * r["diff_after"], "+.3f",
                      note="*" if r["after_significant"] else None))
    return t


def ranking_table(ranking: pd.DataFrame) -> SectionTable:
    t = SectionTable(columns("task", "strategy", "size", "ranking (tie group)", "flip",
                             wrap=("ranking (tie group)",)),
                     caption="Model ranking at each size (tie groups: not separable by a "
                     "paired bootstrap); flip: the order differs from the size before",
                     key="size-ranking")
    for r in ranking.to_dict("records"):
        order = ", ".join(f"{m} ({g})" for m, g in zip(r["ranking"], r["groups"], strict=True))
        flip = "yes (separable)" if r["separable_flip"] else ("yes" if r["flip"] else "no")
        t.add(r["task"], r["strategy"], r["size"], order, "—" if r["first_size"] else flip)
    flips = int(ranking["flip"].sum()) if not ranking.empty else 0
    separable = int(ranking["separable_flip"].sum()) if not ranking.empty else 0
    steps = int((~ranking["first_size"]).sum()) if not ranking.empty else 0
    if steps:
        t.legend = (f"the ranking flips at {flips} of {steps} size steps; {separable} of "
                    "them reverse models in separate tie groups at both sizes")
    return t


def plot_data(points: pd.DataFrame, eff: pd.DataFrame) -> dict[str, Any]:
    """One line per model · strategy and task: x (training items, per label for
    classification), the mean, the CI band, the 95 % size."""
    curves = []
    for (model, task, strategy), g in points.groupby(["model", "task", "strategy"], sort=False):
        e = eff[(eff["model"] == model) & (eff["task"] == task) & (eff["strategy"] == strategy)]
        per_label = bool(g["per_label"].notna().all())
        xs = g["per_label"] if per_label else g["n_train"]
        marker = None
        if len(e) and not missing(e.iloc[0]["size_95"]):
            r = e.iloc[0]
            marker = _x(r["size_95"], r["per_label"], r["n_classes"])
        curves.append({"model": model, "task": task, "strategy": strategy,
                       "x": list(xs), "value": list(g["value"]), "ci_low": list(g["ci_low"]),
                       "ci_high": list(g["ci_high"]), "size_95": marker,
                       "per_label": per_label})
    return jsonable({"curves": curves, "metric": " / ".join(dict.fromkeys(points["metric"]))})


def learning_section(results: Results) -> Section | None:
    curves = results.curves()
    if not curves:
        return None
    conf = results.bootstrap.confidence
    pts = curves.points
    tables = [compact_table(pts, curves.efficiency)]
    if not curves.crossings.empty:  # the terminal: crossings with a significant side
        cross = curves.crossings
        real = cross[cross["before_significant"] | cross["after_significant"]]
        if not real.empty or len(cross):
            t = crossings_table(real)
            if len(real) < len(cross):
                t.legend = (f"{len(cross) - len(real)} other sign changes, neither side "
                            "significant: in the written reports")
            tables.append(t)
    written = [points_table(pts, conf), efficiency_table(curves.efficiency, conf)]
    if not curves.crossings.empty:
        written.append(crossings_table(curves.crossings))
    if not curves.ranking.empty:
        written.append(ranking_table(curves.ranking))
    return Section(
        "learning_curves", title="Learning curves", part="customizability",
        tables=tables, report_tables=written,
        plots=[PlotSpec("learning-curves", "Score against training size (CI band; "
                        "| : 95 % of the full score)", plot_data(pts, curves.efficiency))],
        intro="How much labelled data each model and strategy needs: the score at each "
        "training size (seeded draws per size, nested), the size that reaches 90 / 95 / 99 % "
        "of the full-data score, the sizes where one curve overtakes another (paired "
        "bootstrap at each size) and the model ranking at each size.",
        data=learning_data(results))


def learning_data(results: Results) -> dict[str, Any] | None:
    """Every point (with each draw's score), the label efficiency, the crossings and the
    ranking per size, as plain records; None without curves."""
    curves = results.curves()
    if not curves:
        return None
    return {"points": records(curves.points), "efficiency": records(curves.efficiency),
            "crossings": records(curves.crossings), "ranking": records(curves.ranking)}


class LearningCurves(ReportSection):
    name, order = "learning_curves", 47
    description = "learning curves: score per training size, label efficiency, crossings"

    def build(self, results, data, *, strict=False):
        return learning_section(results)


SECTIONS.register(LearningCurves())


def tuning_section(results: Results) -> Section | None:
    """The values ``tune:`` chose for each cell (and curve point), with the validation
    score of every candidate and how many items selected and refitted."""
    rows = [r for r in results.rows + results.curve_rows if "tuning" in r.info]
    if not rows:
        return None
    t = SectionTable(columns("model · strategy", "task · size", "chosen", "score",
                             right=("score",), wrap=("model · strategy", "task · size")),
                     caption="Tuned parameters, chosen on training data only (score: the "
                     "chosen candidate's on the held-out part)", key="tuning")
    full = SectionTable(columns("model", "task", "strategy", "size", "chosen", "score",
                                "trials", "selection", "held out", "refit",
                                right=("score", "selection", "held out", "refit")),
                        caption=t.caption, key="tuning")
    recs = []
    for r in rows:
        lab, tuning = results.labels[r.key], r.info["tuning"]
        size = str(r.strategy_config.get("curve", {}).get("size", "full"))
        chosen = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                           for k, v in tuning["chosen"].items())
        best = next((tr.get(tuning["metric"]) for tr in tuning["trials"]
                     if all(tr.get(k) == v for k, v in tuning["chosen"].items())), None)
        score = Cell.of(best, reason=tuning.get("note") or "not scored")
        t.add(f"{lab.model} · {lab.strategy}", f"{lab.task} · {size}", chosen, score)
        full.add(lab.model, lab.task, lab.strategy, size, chosen, score,
                 Cell(len(tuning["trials"]), "count"), Cell(tuning["n_selection_fit"], "count"),
                 Cell(tuning["n_validation"], "count"), Cell(tuning["n_refit"], "count"))
        recs.append({"model": lab.model, "task": lab.task, "strategy": lab.strategy,
                     "size": size, **tuning})
    return Section("tuning", title="Tuning", part="customizability", tables=[t],
                   report_tables=[full],
                   intro="Each tuned cell's chosen values: every candidate fitted on the "
                   "training data minus a held-out part carved from it, scored there, the "
                   "best refitted on all training data (never the test split).",
                   data=jsonable(recs))


class Tuning(ReportSection):
    name, order = "tuning", 48
    description = "the values tune: chose per cell, selected on training data only"

    def build(self, results, data, *, strict=False):
        return tuning_section(results)


SECTIONS.register(Tuning())
