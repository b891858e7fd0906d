"""Transferability rankings (estimator scores, aggregate rank, agreement with adapted
scores) and two result sets side by side, as sections (the terminal shows them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapteval.contracts.section import Cell, Section, SectionTable, columns

if TYPE_CHECKING:
    import pandas as pd

    from adapteval.ranking import Ranking


def _section(key: str, table: SectionTable) -> Section:
    return Section(key, title=table.caption, tables=[table])


def ranking_sections(ranking: Ranking, agreement: pd.DataFrame | None = None,
                     by_size: pd.DataFrame | None = None) -> list[Section]:
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
    if by_size is not None and not by_size.empty:
        out.append(_section("size_agreement", size_table(by_size, estimators)))
    return out


def size_table(by_size: pd.DataFrame, estimators: list[str]) -> SectionTable:
    """Each estimator's weighted tau against the real ranking at each curve size."""
    t = SectionTable(
        columns("task", "strategy", "size", *estimators, left=("task", "strategy", "size"),
                wrap=tuple(estimators)),
        caption="Weighted tau of each estimator against the real ranking at each training "
        "size of the learning curves")
    for (task, strategy, size), g in by_size.groupby(["task", "strategy", "size"], sort=False):
        by = g.set_index("estimator")["weighted_tau"]
        t.add(task, strategy, size, *[Cell(by[e], "number", "+.2f") if e in by.index
                                      else Cell.na() for e in estimators])
    return t


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
        why = r.get("undefined") or {}  # field -> why it has no value
        table.add(r["task"], r["strategy"], models,
                  Cell.of(r["a"], ci=tuple(r["a_ci"]), reason=why.get("a")),
                  Cell.of(r["b"], ci=tuple(r["b_ci"]), reason=why.get("b")),
                  Cell.of(r["difference"], "+.3f", ci=diff_ci,
                          reason=why.get("difference") or why.get("a") or why.get("b")),
                  Cell.na() if r["p_value"] is None else Cell(r["p_value"], "number"),
                  "paired" if r["paired"] else f"unpaired: {r['unpaired_reason']}", r["better"])
    return _section("compare", table)
