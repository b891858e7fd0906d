"""Rich tables of results for the terminal."""

from __future__ import annotations

from rich.table import Table

from adapteval.results import Results


def _num(value: float, signed: bool = False) -> str:
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def _ci(lo: float, hi: float, signed: bool = False) -> str:
    return f"[{_num(lo, signed)}, {_num(hi, signed)}]"


def scores_table(results: Results) -> Table:
    summary = results.summary()
    primary = summary[[m == results.primary_metric(t).name
                       for m, t in zip(summary["metric"], summary["task"], strict=True)]]
    order = {t: i for i, t in enumerate(dict.fromkeys(summary["task"]))}
    primary = primary.sort_values("task", key=lambda c: c.map(order), kind="stable")
    n_seeds = int(summary["n_seeds"].max())
    conf = round(results.bootstrap.confidence * 100)
    table = Table(
        title=f"Scores: mean ±std over {n_seeds} seed(s) and {conf}% bootstrap CI over test items",
        title_justify="left",
    )
    for col, just in (("task", "left"), ("model", "left"), ("strategy", "left"),
                      ("metric", "left"), ("score ±std", "right"), (f"{conf}% CI", "right")):
        table.add_column(col, justify=just, no_wrap=True)
    last = None
    for r in primary.itertuples():
        if last is not None and r.task != last:
            table.add_section()
        table.add_row(
            r.task if r.task != last else "", r.model, r.strategy, r.metric,
            _num(r.value) + (f" ±{r.std:.3f}" if r.n_seeds > 1 else ""), _ci(r.ci_low, r.ci_high),
        )
        last = r.task
    return table


def flexibility_table(results: Results) -> Table:
    table = Table(title="Flexibility across tasks (P_avg, sigma_P, worst task)", title_justify="left")
    for col, just in (("model", "left"), ("strategy", "left"), ("metric", "left"),
                      ("P_avg", "right"), ("CI", "right"), ("sigma_P", "right"),
                      ("worst task", "left"), ("tasks", "right")):
        table.add_column(col, justify=just, no_wrap=True)
    for r in results.flexibility().itertuples():
        table.add_row(
            r.model, r.strategy, r.metric, _num(r.P_avg), _ci(r.ci_low, r.ci_high),
            _num(r.sigma_P), f"{r.worst_task} ({r.worst_score:.3f})", str(r.n_tasks),
        )
    return table


def gains_table(results: Results) -> Table | None:
    gains = results.customizability()
    if gains.empty:
        return None
    table = Table(
        title="Customizability: gain over the TF-IDF baseline and the frozen probe (paired by seed)",
        title_justify="left",
    )
    for col, just in (("model", "left"), ("strategy", "left"), ("over", "left"),
                      ("task", "left"), ("gain ±std", "right"), ("CI", "right")):
        table.add_column(col, justify=just, no_wrap=True)
    gains = gains.sort_values(["model", "strategy", "over"], kind="stable",
                              key=lambda c: c.map({v: i for i, v in enumerate(dict.fromkeys(c))}))
    last = None
    for r in gains.itertuples():
        group = (r.model, r.strategy, r.reference)
        if last is not None and group != last:
            table.add_section()
        first = group != last
        table.add_row(
            r.model if first else "", r.strategy if first else "", r.reference if first else "",
            r.task, _num(r.gain, True) + (f" ±{r.std:.3f}" if r.n_seeds > 1 else ""),
            _ci(r.ci_low, r.ci_high, True),
        )
        last = group
    return table


def all_tables(results: Results) -> list[Table]:
    if len(results) == 0:
        return []
    tables = [scores_table(results), flexibility_table(results)]
    gains = gains_table(results)
    if gains is not None:
        tables.append(gains)
    return tables
