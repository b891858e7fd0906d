"""The Results-level sections (scores, flexibility, stability, gains, ensembles, the
flexibility summary, the verdict, transferability rankings, comparisons), built once as
presentation-neutral :class:`~adapteval.contracts.section.Section` data; each analysis
builds its own (``Analysis.sections``). The terminal and the report render them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapteval.analyses import ANALYSES
from adapteval.analyses.cost import BUSY
from adapteval.contracts.section import Cell, Section, SectionTable, columns
from adapteval.results import Results
from adapteval.verdict import Verdict, verdict

if TYPE_CHECKING:
    import pandas as pd

    from adapteval.ranking import Ranking


def _first_seen(c: pd.Series) -> pd.Series:
    return c.map({v: i for i, v in enumerate(dict.fromkeys(c))})


def _section(key: str, table: SectionTable) -> Section:
    return Section(key, title=table.caption, tables=[table])


def scores(results: Results) -> Section:
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
    return _section("scores", table)


def flexibility(results: Results) -> Section:
    table = SectionTable(
        columns("model", "strategy", "metric", "P_avg", "CI", "sigma_P", "worst task", "tasks",
                right=("P_avg", "CI", "sigma_P", "tasks")),
        caption="Flexibility across tasks (P_avg, sigma_P, worst task)")
    for r in results.flexibility().itertuples():
        table.add(r.model, r.strategy, r.metric, Cell(r.P_avg, "number"),
                  Cell.interval(r.ci_low, r.ci_high), Cell(r.sigma_P, "number"),
                  Cell(r.worst_score, "number", label=r.worst_task), Cell(r.n_tasks, "count"))
    return _section("flexibility", table)


def gains(results: Results) -> Section | None:
    frame = results.customizability()
    if frame.empty:
        return None
    table = SectionTable(
        columns("model", "strategy", "over", "task", "gain ±std", "CI",
                right=("gain ±std", "CI")),
        caption="Customizability: gain over the TF-IDF baseline and the frozen probe "
        "(paired by seed)")
    frame = frame.sort_values(["model", "strategy", "over"], kind="stable", key=_first_seen)
    last = None
    for r in frame.itertuples():
        group = (r.model, r.strategy, r.reference)
        first = group != last
        table.add(r.model if first else "", r.strategy if first else "",
                  r.reference if first else "", r.task,
                  Cell(r.gain, "number", "+.3f", std=r.std if r.n_seeds > 1 else None),
                  Cell.interval(r.ci_low, r.ci_high, "+.3f"),
                  new_group=last is not None and first)
        last = group
    return _section("customizability", table)


def stability(results: Results) -> Section | None:
    stab = results.stability()
    if stab.empty or stab["n_seeds"].max() < 2:
        return None
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
                  *[Cell(v, "number") for v in (r.mean, r.std, r.min, r.max)],
                  Cell.of(r.failure_rate, ".0%"), new_group=last is not None and first)
        last = group
    return _section("stability", table)


def ensembles(results: Results) -> Section | None:
    """Pairwise error overlap, shown when the suite lists ensembles."""
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
    return _section("ensembles", table)


def flexibility_summary(results: Results) -> Section:
    table = SectionTable(
        columns("model", "strategy", "P_avg [CI]", "sigma_P", "worst task", "OOD gap [CI]",
                "retention AUC", "p95 ms", "params (M)",
                left=("model", "strategy", "worst task")),
        caption="Flexibility summary: score across tasks, out-of-domain gap, retention area "
        "under compression, cost (— = not measured)")
    for r in results.flexibility_summary().itertuples():
        table.add(r.model, r.strategy, Cell(r.P_avg, "number", ci=(r.ci_low, r.ci_high)),
                  Cell(r.sigma_P, "number"), Cell(r.worst_score, "number", label=r.worst_task),
                  Cell.of(r.ood_gap, "+.3f", ci=(r.ood_gap_ci_low, r.ood_gap_ci_high)),
                  Cell.of(r.retention_auc), Cell.of(r.latency_ms_p95, ".1f"),
                  Cell.of(r.params / 1e6, ".1f"))
    return _section("flexibility_summary", table)


def verdict_section(v: Verdict) -> Section:
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
    return _section("verdict", table)


def analysis_sections(results: Results, skip: tuple[str, ...] = ()) -> list[Section]:
    """Each stored analysis' own sections (analyses of plug-ins not installed now are
    left out)."""
    out: list[Section] = []
    for name in dict.fromkeys(a.name for a in results.analyses):
        if name in ANALYSES.names() and name not in skip:
            out += ANALYSES.get(name).sections(results.analysis(name), results)
    return out


def all_sections(results: Results) -> list[Section]:
    """Every section of a result set, in reading order."""
    if len(results) == 0:
        return []
    out = [scores(results), flexibility(results), stability(results), gains(results)]
    if "transfer" in ANALYSES.names():
        out += ANALYSES.get("transfer").sections(results.analysis("transfer"), results)
    out.append(ensembles(results))
    if results.transfer_matrix() or results.analysis("compression") or results.analysis("cost"):
        out.append(flexibility_summary(results))
    out += analysis_sections(results, skip=("transfer",))
    if results.plan is not None and results.plan.criteria:
        out.append(verdict_section(verdict(results, results.plan)))
    return [s for s in out if s is not None]


def ranking_sections(ranking: Ranking, agreement: pd.DataFrame | None = None) -> list[Section]:
    """Estimator scores per task (with the primary estimator's rank), the aggregate rank,
    and, when adapted results exist, how well each estimator predicted them."""
    scores_ = ranking.ranks()
    estimators = list(dict.fromkeys(scores_["estimator"]))
    wide = scores_.pivot_table(index=["task", "model"], columns="estimator", values="score",
                               sort=False)
    ranks = scores_[scores_["estimator"] == ranking.primary].set_index(["task", "model"])["rank"]
    table = SectionTable(
        columns("task", "model", *estimators, "rank", left=("task", "model"),
                wrap=(*estimators, "rank")),
        caption=f"Transferability estimates (train split; rank by {ranking.primary})")
    last = None
    for (task, model), row in wide.iterrows():
        rank = ranks.get((task, model))
        table.add(task if task != last else "", model,
                  *[Cell.of(row.get(e)) for e in estimators],
                  Cell.na() if rank is None else Cell(rank, "number", ".0f"),
                  new_group=last is not None and task != last)
        last = task
    agg = SectionTable(columns("position", "model", "mean rank", "tasks",
                               left=("position", "model", "mean rank", "tasks"),
                               wrap=("position", "model", "mean rank", "tasks")),
                       caption=f"Aggregate rank ({ranking.primary}, mean over tasks)")
    for r in ranking.aggregate().itertuples():
        agg.add(Cell(r.position, "count"), r.model, Cell(r.mean_rank, "number", ".2f"),
                Cell(r.tasks, "count"))
    out = [_section("transferability", table), _section("aggregate_rank", agg)]
    if agreement is not None and not agreement.empty:
        t = SectionTable(
            columns("task", "strategy", "models", *estimators, left=("task", "strategy"),
                    wrap=("models", *estimators)),
            caption="How well each estimator predicted the real ranking: Kendall's tau "
            "against adapted scores (1 = same order, -1 = reversed)")
        for (task, strategy), g in agreement.groupby(["task", "strategy"], sort=False):
            by = g.set_index("estimator")["kendall_tau"]
            t.add(task, strategy, Cell(int(g["n_models"].iloc[0]), "count"),
                  *[Cell(by[e], "number", "+.2f") if e in by.index else Cell.na()
                    for e in estimators])
        for k, (stat, label) in enumerate((("kendall_tau", "mean tau"),
                                           ("weighted_tau", "mean weighted tau"))):
            means = agreement.groupby("estimator")[stat].mean()
            t.add(label, "", "", *[Cell(means[e], "number", "+.2f") if e in means.index
                                   else Cell.na() for e in estimators],
                  new_group=k == 0, strong=True)
        out.append(_section("ranking_agreement", t))
    return out


def compare_section(rows: list[dict[str, Any]]) -> Section:
    """Two result sets side by side (``report.compare.compare`` rows)."""
    table = SectionTable(
        columns("task", "strategy", "model (A → B)", "A [CI]", "B [CI]", "B − A [CI]", "p",
                "pairing", "better", right=("A [CI]", "B [CI]", "B − A [CI]", "p"),
                wrap=("task", "strategy", "model (A → B)", "A [CI]", "B [CI]", "B − A [CI]",
                      "p", "pairing", "better")),
        caption="B − A per task and strategy (primary metric); paired = same task data, "
        "seeds and test items")
    for r in rows:
        diff_ci = tuple(r["difference_ci"]) if r["difference_ci"] else None
        models = (r["model_a"] if r["model_a"] == r["model_b"]
                  else f"{r['model_a']} → {r['model_b']}")
        table.add(r["task"], r["strategy"], models,
                  Cell(r["a"], "number", ci=tuple(r["a_ci"])),
                  Cell(r["b"], "number", ci=tuple(r["b_ci"])),
                  Cell(r["difference"], "number", "+.3f", ci=diff_ci),
                  Cell.na() if r["p_value"] is None else Cell(r["p_value"], "number"),
                  "paired" if r["paired"] else f"unpaired: {r['unpaired_reason']}", r["better"])
    return _section("compare", table)
