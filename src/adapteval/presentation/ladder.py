"""The customizability ladder: per model and task, zero-shot prompt → in-context
examples → k-shot → frozen probe → LoRA → full fine-tune (each strategy's ``rung``), the
score of each rung that ran with its CI, and what each buys over the rung below it and
over the non-pretrained TF-IDF baseline, paired by seed. A decoder's ladder starts at
zero-shot, an encoder's at k-shot or the probe; both read side by side. The written
reports show it first in their customizability part, with a plot (rungs along, one line
per model); the run's summary shows its compact table (``ladder_table``)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from adapteval.contracts.report_section import SECTIONS, ReportSection
from adapteval.contracts.section import Cell, PlotSpec, Section, SectionTable, columns, missing
from adapteval.core.keys import jsonable
from adapteval.presentation.records import records, why
from adapteval.results import BASELINE_REFERENCES, Results


def climbing(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of the (model, task) ladders that have at least two rungs."""
    if frame.empty:
        return frame
    size = frame.groupby(["model", "task"], sort=False)["strategy"].transform("size")
    return frame[size >= 2]


def _score(r: Any) -> Cell:
    return Cell.of(r.value, reason=why(r, "value"),
                   ci=None if why(r, "ci") else (r.ci_low, r.ci_high))


def _gain(r: Any, field: str, ci: str) -> Cell:
    if field == "gain_over_previous" and missing(r.previous):
        return Cell.na()  # the lowest rung: nothing below it to gain over
    lo, hi = getattr(r, f"{ci}_low"), getattr(r, f"{ci}_high")
    return Cell.of(getattr(r, field), "+.3f", reason=why(r, field),
                   ci=None if (why(r, ci) or missing(lo)) else (lo, hi))


def ladder_table(frame: pd.DataFrame, confidence: float) -> SectionTable:
    """The ladder as the terminal shows it, narrow enough for 80 columns: a heading row
    per model (and task, when there are several), then its rungs in order, each with its
    score [CI] and its gain over the row above it (the rung below) [CI]."""
    conf = round(confidence * 100)
    tasks = list(dict.fromkeys(frame["task"]))
    metrics = list(dict.fromkeys(frame["metric"]))
    several = len(tasks) > 1
    score, gain = f"score [{conf}% CI]", f"gain [{conf}% CI]"
    what = metrics[0] if len(metrics) == 1 else "primary metric"
    t = SectionTable(
        columns("model · strategy", score, gain, right=(score, gain)),
        caption=f"Customizability ladder ({what}{'' if several else ' on ' + tasks[0]}; "
        "gain: over the row above, paired by seed)", key="ladder")
    last = None
    for r in frame.itertuples():
        group = (r.model, r.task)
        if group != last:
            t.add(Cell(f"{r.model} · {r.task}" if several else r.model, strong=True), "", "",
                  new_group=last is not None)
            last = group
        t.add(f"  {r.strategy}", _score(r), _gain(r, "gain_over_previous", "gain_ci"))
    return t


def report_table(frame: pd.DataFrame, confidence: float) -> SectionTable:
    """The ladder as the written reports show it: every rung with its seeds, score [CI],
    the rung below it and the gain over it [CI], and the gain over the TF-IDF baseline."""
    conf = round(confidence * 100)
    score, gain = f"score [{conf}% CI]", f"gain [{conf}% CI]"
    base = f"gain over the baseline [{conf}% CI]"
    t = SectionTable(
        columns("model", "task", "strategy", "metric", "seeds", score, "over", gain,
                "baseline", base, right=("seeds", score, gain, base)),
        caption="Each rung's score, its gain over the rung below it "
        "and over the TF-IDF baseline (paired by seed)", key="ladder")
    last = None
    for r in frame.itertuples():
        group = (r.model, r.task)
        first = group != last
        t.add(r.model if first else "", r.task if first else "", r.strategy, r.metric,
              Cell(r.n_seeds, "count"), _score(r),
              "—" if missing(r.previous) else r.previous,
              _gain(r, "gain_over_previous", "gain_ci"),
              r.baseline if isinstance(r.baseline, str) else "—",
              _gain(r, "gain_over_baseline", "baseline_gain_ci"),
              new_group=last is not None and first)
        last = group
    return t


def plot_data(results: Results, frame: pd.DataFrame) -> dict[str, Any] | None:
    """What the ladder plot draws: one point per model and rung, per task, or averaged
    over tasks (P_avg with its CI) when every ladder covers the same tasks on one metric;
    the TF-IDF probe as a reference line. None when nothing has a value."""
    tasks = list(dict.fromkeys(frame["task"]))
    covered = {tuple(sorted(g["task"])) for _, g in frame.groupby(["model", "strategy"])}
    average = len(tasks) > 1 and len(covered) == 1 and frame["metric"].nunique() == 1
    rungs = results.rungs
    if average:
        flex = results.flexibility()
        on = flex[flex["strategy"].isin(rungs) & (flex["metric"] == frame["metric"].iloc[0])]
        points = [{"model": r.model, "strategy": r.strategy, "rung": rungs[r.strategy],
                   "task": "P_avg", "value": r.P_avg, "ci_low": r.ci_low, "ci_high": r.ci_high}
                  for r in on.itertuples() if r.model in set(frame["model"])]
        refs = [{"task": "P_avg", "label": f"{r.model} · {r.strategy}", "value": r.P_avg}
                for r in on.itertuples() if r.strategy == "probe"
                and results.baselines.get(r.model) in BASELINE_REFERENCES]
    else:
        points = frame[["model", "strategy", "rung", "task", "value", "ci_low",
                        "ci_high"]].to_dict("records")
        board = results.summary()
        refs = [{"task": r.task, "label": f"{r.model} · {r.strategy}", "value": r.value}
                for r in board.itertuples() if r.strategy == "probe" and r.task in tasks
                and results.baselines.get(r.model) in BASELINE_REFERENCES
                and r.metric == results.primary_metric(r.task).name]
    points = [p for p in jsonable(points) if p["value"] is not None]
    if not points:
        return None
    return {"points": points, "references": [r for r in refs if not missing(r["value"])],
            "metric": " / ".join(dict.fromkeys(frame["metric"])),
            "averaged": average}


def ladder_section(results: Results) -> Section | None:
    """The ladder section (None when no model has two rungs on a task)."""
    frame = climbing(results.ladder())
    if frame.empty:
        return None
    conf = results.bootstrap.confidence
    data = plot_data(results, frame)
    title = ("Score per rung, averaged over tasks (P_avg, 95% CI)" if data and data["averaged"]
             else "Score per rung and task (95% CI)")
    seeds = int(frame["n_seeds"].max())
    return Section(
        "ladder", title="Customizability ladder", part="customizability",
        tables=[ladder_table(frame, conf)], report_tables=[report_table(frame, conf)],
        plots=[PlotSpec("ladder", title, data)] if data else [],
        intro="What each step of adaptation buys: zero-shot prompt → in-context examples → "
        "k-shot → frozen probe → LoRA → full fine-tune, as far as each model went (an "
        "encoder starts at k-shot or the probe). Each gain is over the rung below that ran "
        f"and over the TF-IDF baseline, paired by seed ({seeds} at most), with a bootstrap "
        "CI; a CI above 0 is a real gain.",
        data=records(frame))


class Ladder(ReportSection):
    name, order = "ladder", 45
    description = "the customizability ladder: each rung's score and paired gain over the one below"

    def build(self, results, data, *, strict=False):
        return ladder_section(results)


SECTIONS.register(Ladder())
