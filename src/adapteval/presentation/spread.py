"""How scores spread: over tasks (flexibility and its summary), over references (gains,
training curves), over seeds (stability) and between models (ensembles' error overlap).
Each section has its terminal ``tables`` and what the written reports show."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapteval.contracts import digest as dg
from adapteval.contracts.section import Cell, PlotSpec, Section, SectionTable, columns, missing
from adapteval.presentation.records import reasoned_table, why
from adapteval.results import Results

if TYPE_CHECKING:
    import pandas as pd


def _first_seen(c: pd.Series) -> pd.Series:
    return c.map({v: i for i, v in enumerate(dict.fromkeys(c))})


def plotted(rows: list[dict[str, Any]], fields: tuple[str, ...], what: str
            ) -> tuple[list[dict[str, Any]], list[str]]:
    """The records a plot can draw (every one of ``fields`` has a value) and a note per
    reason that left others out of it (``what`` names the plot)."""
    kept, left = [], {}
    for r in rows:
        gone = next((f for f in fields if missing(r.get(f))), None)
        if gone is None:
            kept.append(r)
        else:
            name = " · ".join(str(r[k]) for k in ("model", "strategy", "task") if k in r)
            left.setdefault(why(r, gone) or f"{gone} not measured", []).append(name)
    notes = [f"Not in {what}: {', '.join(dict.fromkeys(names))} ({reason})."
             for reason, names in left.items()]
    return kept, notes


def _worst(r: Any) -> Cell:
    if missing(r.worst_score):
        return Cell.na(why(r, "worst_score"), f"{r.worst_task} (n/a)")
    return Cell(r.worst_score, "number", label=r.worst_task)


def flexibility(results: Results, data: dict[str, Any]) -> Section:
    """P_avg and sigma_P per model and strategy (table and scatter), and per-task bars."""
    table = SectionTable(
        columns("model", "strategy", "metric", "P_avg", "CI", "sigma_P", "worst task", "tasks",
                right=("P_avg", "CI", "sigma_P", "tasks")),
        caption="Flexibility across tasks (P_avg, sigma_P, worst task)")
    for r in results.flexibility().itertuples():
        table.add(r.model, r.strategy, r.metric, Cell.of(r.P_avg, reason=why(r, "P_avg")),
                  Cell.interval(r.ci_low, r.ci_high, reason=why(r, "ci")),
                  Cell.of(r.sigma_P, reason=why(r, "sigma_P")), _worst(r),
                  Cell(r.n_tasks, "count"))
    flex, board_ = data["flexibility"], data["leaderboard"]
    points, notes = plotted(flex, ("P_avg", "sigma_P", "ci_low", "ci_high"), "the scatter")
    bars, bar_notes = plotted(board_, ("value", "ci_low", "ci_high"), "the bars")
    plots = [PlotSpec("flexibility-scatter", "P_avg against sigma_P per model and strategy",
                      points)] if points else []
    if bars:
        plots.append(PlotSpec("task-bars", "Per-task scores with 95% bootstrap CIs", bars))
    return Section(
        "flexibility", title="Flexibility", part="flexibility" if flex else "", plots=plots,
        intro="P_avg: mean of per-task primary scores (CI over test items); sigma_P: their "
        "spread over tasks; up and to the left is better.", tables=[table],
        notes=[*notes, *bar_notes],
        report_tables=[reasoned_table(flex, ["model", "strategy", "metric", "P_avg", "ci_low",
                                             "ci_high", "sigma_P", "worst_task", "worst_score",
                                             "n_tasks"])])


REFERENCES = {"baseline": "the TF-IDF baseline", "probe": "the frozen probe",
              "prompting": "the zero-shot prompt"}
"""What each ``over`` of ``Results.customizability`` is, as the gains section names it."""


def gains(results: Results, data: dict[str, Any]) -> Section | None:
    """Paired gains over the TF-IDF baseline, the frozen probe and the zero-shot prompt."""
    frame = results.customizability()
    if frame.empty:
        return None
    table = SectionTable(
        columns("model", "strategy", "over", "task", "gain ±std", "CI",
                right=("gain ±std", "CI")),
        caption="Customizability: gain over the TF-IDF baseline, the frozen probe and the "
        "zero-shot prompt (paired by seed)")
    frame = frame.sort_values(["model", "strategy", "over"], kind="stable", key=_first_seen)
    last = None
    for r in frame.itertuples():
        group = (r.model, r.strategy, r.reference)
        first = group != last
        table.add(r.model if first else "", r.strategy if first else "",
                  r.reference if first else "", r.task,
                  Cell.of(r.gain, "+.3f", reason=why(r, "gain"),
                          std=r.std if r.n_seeds > 1 else None),
                  Cell.interval(r.ci_low, r.ci_high, "+.3f", reason=why(r, "ci")),
                  new_group=last is not None and first)
        last = group
    rows = data["customizability"]
    plots, notes = [], []
    for (over,), rs in dg.grouped(rows, ("over",)).items():
        name = REFERENCES.get(over, over)
        kept, left = plotted(rs, ("gain", "ci_low", "ci_high"), f"the gains over {name}")
        notes += left
        if kept:
            plots.append(PlotSpec(f"gains-{over}", f"Gain over {name}",
                                  {"gains": kept, "over": name}))
    return Section(
        "customizability", title="Customizability (paired gains)",
        part="customizability" if rows else "", tables=[table], plots=plots, notes=notes,
        intro="Gain of each model and strategy over the TF-IDF baseline, over its own "
        "frozen probe and over its own zero-shot prompt (when it ran), paired by seed, with "
        "a bootstrap CI; a CI above 0 is a real gain.",
        report_tables=[reasoned_table(rows, ["model", "strategy", "task", "reference", "gain",
                                             "ci_low", "ci_high", "std", "n_seeds"])])


def curves(results: Results, data: dict[str, Any]) -> Section | None:
    """Training curves (the reports only)."""
    if not data["curves"]:
        return None
    return Section("curves", title="Training curves", part="customizability",
                   plots=[PlotSpec("training-curve", f"{m} · {s}", cs)
                          for (m, s), cs in dg.grouped(data["curves"],
                                                       ("model", "strategy")).items()])


def stability(results: Results, data: dict[str, Any]) -> Section | None:
    """The primary score's spread over seeds (each seed a dot) and the failure rate; the
    terminal shows it with several seeds only."""
    stab = results.stability()
    rows = data["stability"]
    if stab.empty and not rows:
        return None
    tables = []
    if not stab.empty and stab["n_seeds"].max() >= 2:
        table = SectionTable(
            columns("model", "strategy", "task", "seeds", "mean", "std", "min", "max",
                    "failure rate", left=("model", "strategy", "task")),
            caption="Stability over seeds (primary metric; failure = not better than the "
            "majority class on the same split)")
        stab = stab[~stab["model"].isin(results.baseline_labels)]
        stab = stab.sort_values(["model", "strategy"], kind="stable", key=_first_seen)
        last = None
        for r in stab.itertuples():
            group = (r.model, r.strategy)
            first = group != last
            table.add(r.model if first else "", r.strategy if first else "", r.task,
                      Cell(r.n_seeds, "count"),
                      *[Cell.of(getattr(r, f), reason=why(r, f))
                        for f in ("mean", "std", "min", "max")],
                      Cell.of(r.failure_rate, ".0%", reason=why(r, "failure_rate")),
                      new_group=last is not None and first)
            last = group
        tables.append(table)
    several = len({r["seed"] for r in data["seed_scores"]}) > 1
    dots, notes = plotted(data["seed_scores"], ("value",), "the seed plot")
    return Section(
        "stability", title="Stability", part="stability" if rows else "", tables=tables,
        intro="Spread of the primary score over seeds; failure rate: share of seeds not "
        "better than the majority class on the same split.",
        plots=[PlotSpec("seed-spread", "Each dot one seed; the line is the mean",
                        dots)] if several and dots else [], notes=notes if several else [],
        report_tables=[reasoned_table(rows, ["model", "strategy", "task", "metric", "n_seeds",
                                             "mean", "std", "min", "max", "failure_rate"])])


def ensembles(results: Results, data: dict[str, Any] | None = None) -> Section | None:
    """Pairwise error overlap, shown when the suite lists ensembles (the terminal only)."""
    if not results.ensembles:
        return None
    overlap = results.ensemble_overlap()
    if overlap.empty:
        return None
    table = SectionTable(
        columns("task", "strategy", "model A", "model B", "acc A", "acc B", "disagreement",
                "double fault", "oracle acc", left=("task", "strategy", "model A", "model B")),
        caption="Error overlap between models (Kuncheva & Whitaker; mean over seeds): "
        "high disagreement and low double fault = complementary")
    last = None
    for r in overlap.itertuples():
        table.add(r.task, r.strategy, r.model_a, r.model_b,
                  *[Cell(v, "number") for v in (r.accuracy_a, r.accuracy_b, r.disagreement,
                                                r.double_fault, r.oracle_accuracy)],
                  new_group=last is not None and (r.task, r.strategy) != last)
        last = (r.task, r.strategy)
    return Section("ensembles", title=table.caption, tables=[table])


def flexibility_summary(results: Results,
                        data: dict[str, Any] | None = None) -> Section | None:
    """Score across tasks, OOD gap, retention and cost in one table (the terminal only),
    when the results have a transfer matrix, compression or cost."""
    if not (results.transfer_matrix() or results.analysis("compression")
            or results.analysis("cost")):
        return None
    table = SectionTable(
        columns("model", "strategy", "P_avg [CI]", "sigma_P", "worst task", "OOD gap [CI]",
                "retention AUC", "p95 ms", "params (M)",
                left=("model", "strategy", "worst task")),
        caption="Flexibility summary: score across tasks, out-of-domain gap, retention area "
        "under compression, cost (— = not measured)")
    for r in results.flexibility_summary().itertuples():
        table.add(r.model, r.strategy,
                  Cell.of(r.P_avg, reason=why(r, "P_avg"), ci=(r.ci_low, r.ci_high)),
                  Cell.of(r.sigma_P, reason=why(r, "sigma_P")), _worst(r),
                  Cell.of(r.ood_gap, "+.3f", ci=(r.ood_gap_ci_low, r.ood_gap_ci_high)),
                  Cell.of(r.retention_auc), Cell.of(r.latency_ms_p95, ".1f"),
                  Cell.of(r.params / 1e6, ".1f"))
    return Section("flexibility_summary", title=table.caption, tables=[table])
