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
    primary = primary.assign(_t=primary["task"].map(order), _v=-primary["value"])
    primary = primary.sort_values(["_t", "_v"], kind="stable")
    n_seeds = int(summary["n_seeds"].max())
    conf = round(results.bootstrap.confidence * 100)
    table = Table(
        title=f"Scores: mean ±std over {n_seeds} seed(s), {conf}% bootstrap CI over test items; "
        "one tie group = not separable (paired bootstrap)",
        title_justify="left",
    )
    ties = results.ties()
    group = {(r.task, r.model, r.strategy): r.tie_group for r in ties.itertuples()}
    for col, just in (("task", "left"), ("model", "left"), ("strategy", "left"),
                      ("metric", "left"), ("score ±std", "right"), (f"{conf}% CI", "right"),
                      ("tie group", "right")):
        table.add_column(col, justify=just, no_wrap=True)
    last = None
    for r in primary.itertuples():
        if last is not None and r.task != last:
            table.add_section()
        table.add_row(
            r.task if r.task != last else "", r.model, r.strategy, r.metric,
            _num(r.value) + (f" ±{r.std:.3f}" if r.n_seeds > 1 else ""), _ci(r.ci_low, r.ci_high),
            str(group.get((r.task, r.model, r.strategy), "")),
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


def stability_table(results: Results) -> Table | None:
    stab = results.stability()
    if stab.empty or stab["n_seeds"].max() < 2:
        return None
    table = Table(title="Stability over seeds (primary metric; failure = not better than the "
                  "majority class on the same split)", title_justify="left")
    for col, just in (("model", "left"), ("strategy", "left"), ("task", "left"),
                      ("seeds", "right"), ("mean", "right"), ("std", "right"), ("min", "right"),
                      ("max", "right"), ("failure rate", "right")):
        table.add_column(col, justify=just, no_wrap=True)
    stab = stab[~stab["model"].isin(results.baseline_labels)]
    stab = stab.sort_values(["model", "strategy"], kind="stable",
                            key=lambda c: c.map({v: i for i, v in enumerate(dict.fromkeys(c))}))
    last = None
    for r in stab.itertuples():
        group = (r.model, r.strategy)
        if last is not None and group != last:
            table.add_section()
        table.add_row(
            r.model if group != last else "", r.strategy if group != last else "", r.task,
            str(r.n_seeds), _num(r.mean), _num(r.std), _num(r.min), _num(r.max),
            "—" if r.failure_rate != r.failure_rate else f"{r.failure_rate:.0%}",
        )
        last = group
    return table


def all_tables(results: Results) -> list[Table]:
    if len(results) == 0:
        return []
    tables = [scores_table(results), flexibility_table(results)]
    stability = stability_table(results)
    if stability is not None:
        tables.append(stability)
    gains = gains_table(results)
    if gains is not None:
        tables.append(gains)
    tables += transfer_tables(results) + ensemble_tables(results)
    if results.transfer_matrix() or results.analysis("compression") or results.analysis("cost"):
        tables.append(flexibility_summary_table(results))
    tables += analysis_tables(results)
    if results.plan is not None and results.plan.criteria:
        from adapteval.verdict import verdict, verdict_table

        tables.append(verdict_table(verdict(results, results.plan)))
    return tables


def transfer_tables(results: Results) -> list[Table]:
    """One table per transfer scope (task group or domain task): for each model and
    strategy its matrix, with the in/out-of-domain means, the gap and the worst pair."""
    by_scope: dict[str, list] = {}
    for m in results.transfer_matrix():
        by_scope.setdefault(m.scope, []).append(m)
    tables = []
    for scope, matrices in by_scope.items():
        labels = list(dict.fromkeys(lab for m in matrices for lab in m.labels))
        table = Table(title=f"Domain transfer ({scope}): accuracy adapted on the row, evaluated "
                      "on the column; mean over seeds, gap = in-domain − out-of-domain "
                      "with its CI", title_justify="left")
        for col in ("model", "strategy", "adapted on", *labels, "in / out", "gap [CI]",
                    "worst pair"):
            table.add_column(col, justify="left" if col in ("model", "strategy", "adapted on",
                                                           "worst pair") else "right",
                             no_wrap=True)
        for i, m in enumerate(matrices):
            if i:
                table.add_section()
            for j, source in enumerate(m.labels):
                cells = [m.cells.get((source, t)) for t in labels]
                extra = ["", "", ""]
                if j == 0:
                    extra = [f"{_num(m.in_domain.value)} / {_num(m.out_domain.value)}",
                             f"{_num(m.gap.value, True)} {_ci(m.gap.ci_low, m.gap.ci_high, True)}",
                             f"{m.worst[0]} → {m.worst[1]} ({m.worst[2]:.3f})"]
                table.add_row(m.model if j == 0 else "", m.strategy if j == 0 else "", source,
                              *["—" if c is None else (f"[bold]{_num(c.value)}[/]" if t == source
                                                       else _num(c.value))
                                for c, t in zip(cells, labels, strict=True)], *extra)
        tables.append(table)
    return tables


def ensemble_tables(results: Results) -> list[Table]:
    """Pairwise error overlap, shown when the suite lists ensembles."""
    if not results.ensembles:
        return []
    overlap = results.ensemble_overlap()
    if overlap.empty:
        return []
    table = Table(title="Error overlap between models (Kuncheva & Whitaker; mean over seeds): "
                  "high disagreement and low double fault = complementary", title_justify="left")
    for col in ("task", "strategy", "model A", "model B", "acc A", "acc B", "disagreement",
                "double fault", "oracle acc"):
        table.add_column(col, justify="left" if col in ("task", "strategy", "model A", "model B")
                         else "right", no_wrap=True)
    last = None
    for r in overlap.itertuples():
        if last is not None and (r.task, r.strategy) != last:
            table.add_section()
        table.add_row(r.task, r.strategy, r.model_a, r.model_b, _num(r.accuracy_a),
                      _num(r.accuracy_b), _num(r.disagreement), _num(r.double_fault),
                      _num(r.oracle_accuracy))
        last = (r.task, r.strategy)
    return [table]


def flexibility_summary_table(results: Results) -> Table:
    table = Table(title="Flexibility summary: score across tasks, out-of-domain gap, "
                  "retention area under compression, cost (— = not measured)",
                  title_justify="left")
    for col in ("model", "strategy", "P_avg [CI]", "sigma_P", "worst task", "OOD gap [CI]",
                "retention AUC", "p95 ms", "params (M)"):
        table.add_column(col, justify="left" if col in ("model", "strategy", "worst task")
                         else "right", no_wrap=True)
    for r in results.flexibility_summary().itertuples():
        gap = ("—" if r.ood_gap != r.ood_gap
               else f"{_num(r.ood_gap, True)} {_ci(r.ood_gap_ci_low, r.ood_gap_ci_high, True)}")
        table.add_row(
            r.model, r.strategy, f"{_num(r.P_avg)} {_ci(r.ci_low, r.ci_high)}", _num(r.sigma_P),
            f"{r.worst_task} ({r.worst_score:.3f})", gap,
            "—" if r.retention_auc != r.retention_auc else _num(r.retention_auc),
            "—" if r.latency_ms_p95 != r.latency_ms_p95 else f"{r.latency_ms_p95:.1f}",
            "—" if r.params != r.params else f"{r.params / 1e6:.1f}",
        )
    return table


DEDICATED = {"transfer"}  # analyses with their own tables above


def analysis_tables(results: Results) -> list[Table]:
    """One table per stored analysis: its headline numbers, mean over seeds."""
    from adapteval.analyses import ANALYSES

    tables = []
    for name in dict.fromkeys(a.name for a in results.analyses):
        if name not in ANALYSES or name in DEDICATED:
            continue  # stored by a plug-in that is not installed now
        if name == "cost":
            tables.append(cost_table(results))
            continue
        cls = ANALYSES.get(name)
        frame = cls.table(results.analysis(name))
        numbers = [c for c in frame.columns
                   if c not in ("model", "task", "strategy", "seed") and frame[c].dtype.kind in "fiu"]
        if frame.empty or not numbers:
            continue
        keys = [c for c in ("model", "strategy", "task") if c in frame]
        mean = frame.groupby(keys, sort=False)[numbers].mean().reset_index()
        table = Table(title=f"{name}: {cls.description} (mean over seeds)", title_justify="left")
        for col in keys:
            table.add_column(col, no_wrap=True)
        for col in numbers:
            table.add_column(col, justify="right", no_wrap=True)
        for r in mean.itertuples(index=False):
            table.add_row(*[str(v) for v in r[: len(keys)]],
                          *["—" if v != v else f"{v:.3f}" for v in r[len(keys):]])
        tables.append(table)
        if name == "compression":
            tables.append(compression_table(results))
    return tables


def _cell(value: object, fmt: str) -> str:
    return "—" if value is None or value != value else format(value, fmt)


def cost_table(results: Results) -> Table:
    """Measured cost per model next to the adaptation wall time of its cells."""
    from adapteval.analyses.cost import cost_table as frame_of

    frame = frame_of(results)
    table = Table(title="Cost per model (latency at batch 1, throughput at batch 32, peak memory "
                  "= RSS rise while encoding) and adaptation wall time per cell",
                  title_justify="left")
    columns = (("model", None), ("strategy", None), ("params", ",.0f"), ("disk MB", ".1f"),
               ("p50 ms", ".2f"), ("p95 ms", ".2f"), ("texts/s", ".1f"), ("peak MB", ".1f"),
               ("adapt s/cell", ".2f"), ("cells", "d"))
    keys = ("model", "strategy", "params", "disk_mb", "latency_ms_p50", "latency_ms_p95",
            "throughput_per_s", "peak_memory_mb", "adapt_s_mean", "cells")
    for col, fmt in columns:
        table.add_column(col, justify="left" if fmt is None else "right", no_wrap=True)
    for r in frame.to_dict("records"):
        table.add_row(*[str(r[k]) if fmt is None else _cell(r.get(k), fmt)
                        for k, (_, fmt) in zip(keys, columns, strict=True)])
    return table


def compression_table(results: Results) -> Table:
    """The retention curve: one line per level, means over seeds."""
    from adapteval.analyses.compression import ALONG, Compression

    frame = Compression.curve(results.analysis("compression"))
    table = Table(title="Compression curve (score = primary metric; retention = score / "
                  "uncompressed; mean over seeds)", title_justify="left")
    extra = [c for c in (*ALONG, "latency_ms_p50", "disk_mb")
             if c in frame and frame[c].notna().any()]
    for col in ("model", "strategy", "task", "level", "sparsity", "score", "retention", *extra):
        table.add_column(ALONG.get(col, col), justify="left" if col in (
            "model", "strategy", "task", "level") else "right", no_wrap=True)
    last = None
    for r in frame.to_dict("records"):
        group = (r["model"], r["strategy"], r["task"])
        if last is not None and group != last:
            table.add_section()
        table.add_row(*(group if group != last else ("", "", "")), r["level"],
                      _cell(r["sparsity"], ".1%"), _cell(r["score"], ".3f"),
                      _cell(r["retention"], ".3f"), *[_cell(r[c], ".3f") for c in extra])
        last = group
    return table


def ranking_tables(ranking, agreement=None) -> list[Table]:
    """Estimator scores per task (with the primary estimator's rank), the aggregate rank,
    and, when adapted results exist, how well each estimator predicted them."""
    scores = ranking.ranks()
    estimators = list(dict.fromkeys(scores["estimator"]))
    wide = scores.pivot_table(index=["task", "model"], columns="estimator", values="score",
                              sort=False)
    ranks = scores[scores["estimator"] == ranking.primary].set_index(["task", "model"])["rank"]
    table = Table(title=f"Transferability estimates (train split; rank by {ranking.primary})",
                  title_justify="left")
    table.add_column("task", no_wrap=True)
    table.add_column("model", no_wrap=True)
    for e in estimators:
        table.add_column(e, justify="right")
    table.add_column("rank", justify="right")
    last = None
    for (task, model), row in wide.iterrows():
        if last is not None and task != last:
            table.add_section()
        rank = ranks.get((task, model))
        table.add_row(task if task != last else "", model,
                      *[f"{row[e]:.3f}" if e in row and row[e] == row[e] else "—" for e in estimators],
                      f"{rank:.0f}" if rank is not None else "—")
        last = task
    agg = Table(title=f"Aggregate rank ({ranking.primary}, mean over tasks)", title_justify="left")
    for col in ("position", "model", "mean rank", "tasks"):
        agg.add_column(col)
    for r in ranking.aggregate().itertuples():
        agg.add_row(str(r.position), r.model, f"{r.mean_rank:.2f}", str(r.tasks))
    tables = [table, agg]
    if agreement is not None and not agreement.empty:
        t = Table(title="How well each estimator predicted the real ranking: Kendall's tau "
                  "against adapted scores (1 = same order, -1 = reversed)", title_justify="left")
        for col in ("task", "strategy", "models", *estimators):
            t.add_column(col, justify="left" if col in ("task", "strategy") else "right",
                         no_wrap=col in ("task", "strategy"))
        for (task, strategy), g in agreement.groupby(["task", "strategy"], sort=False):
            by = g.set_index("estimator")["kendall_tau"]
            t.add_row(task, strategy, str(int(g["n_models"].iloc[0])),
                      *[f"{by[e]:+.2f}" if e in by.index else "—" for e in estimators])
        t.add_section()
        for stat, label in (("kendall_tau", "mean tau"), ("weighted_tau", "mean weighted tau")):
            means = agreement.groupby("estimator")[stat].mean()
            t.add_row(label, "", "", *[f"{means[e]:+.2f}" if e in means.index else "—"
                                       for e in estimators], style="bold")
        tables.append(t)
    return tables
