"""The plan before work: what a run will compute (cells per model and strategy, over
which tasks and seeds, and the analyses), what the store already holds, and what the
shortlist chose with the ranking scores behind it. Built from the driver's
``PlanStatus``; the terminal prints it before a run and for ``run --dry-run``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapteval.contracts.section import Cell, Section, SectionTable, columns

if TYPE_CHECKING:
    from adapteval.execution.driver import PlanStatus


def _cells_table(status: PlanStatus) -> SectionTable:
    plan = status.plan
    fresh = {c.key for c in status.to_run}
    partial = {c.key: len(jobs) for c, jobs in status.analyses_only}
    groups: dict[tuple[str, str], list[Any]] = {}
    for c in plan.cells:
        groups.setdefault((c.model.label, c.strategy.name), []).append(c)
    t = SectionTable(
        columns("model", "strategy", "tasks", "cells", "in store", "to run", "analyses to run",
                left=("model", "strategy")),
        caption=f"Plan: {len(plan.cells)} cells (model × strategy × task × seed), "
        f"{len(plan.cells) - len(status.to_run)} of them in the store")
    for (model, strategy), cells in groups.items():
        todo = [c for c in cells if c.key in fresh]
        jobs = sum(len(status.jobs.get(c.key, [])) for c in todo)
        jobs += sum(partial.get(c.key, 0) for c in cells)
        t.add(model, strategy, Cell(len({c.task.name for c in cells}), "count"),
              Cell(len(cells), "count"), Cell(len(cells) - len(todo), "count"),
              Cell(len(todo), "count"), Cell(jobs, "count"))
    t.add("all", "", Cell(len(plan.tasks), "count"), Cell(len(plan.cells), "count"),
          Cell(len(plan.cells) - len(status.to_run), "count"), Cell(len(status.to_run), "count"),
          Cell(status.analyses_to_run, "count"), new_group=True, strong=True)
    return t


def _analyses_table(status: PlanStatus) -> SectionTable | None:
    plan = status.plan
    if not plan.analyses:
        return None
    missing = {j.key for c in status.to_run for j in status.jobs.get(c.key, [])}
    missing |= {j.key for _, jobs in status.analyses_only for j in jobs}
    t = SectionTable(columns("analysis", "runs on", "in store", "to run",
                             left=("analysis", "runs on"), wrap=("runs on",)),
                     caption="Analyses (each on the cells it selects)")
    for i, a in enumerate(plan.analyses):
        jobs = [j for js in status.jobs.values() for j in js if j.analysis is a]
        scope = "; ".join(f"{what}: {', '.join(str(n) for n in names)}" for what, names in (
            ("strategies", a.strategies), ("tasks", a.tasks), ("models", a.models),
            ("seeds", a.seeds)) if names)
        if a.scope == "model":
            scope = "once per model" + (f" ({scope})" if scope else "")
        scope = scope or "every cell"
        todo = sum(j.key in missing for j in jobs)
        twice = [b.name for b in plan.analyses].count(a.name) > 1
        t.add(f"{a.name} (analyses[{i}])" if twice else a.name, scope,
              Cell(len(jobs) - todo, "count"), Cell(todo, "count"))
    return t


def _shortlist_table(status: PlanStatus) -> SectionTable | None:
    ranking, k = status.ranking, status.plan.suite.shortlist
    if ranking is None or not k:
        return None
    groups = status.plan.shortlist_groups()
    candidates = [m for g in groups for m in g]
    scores = ranking.scores[ranking.scores["estimator"] == ranking.primary]
    mean = scores.groupby("model")["score"].mean()
    among = (f"the top {k} of {len(candidates)} candidates" if len(groups) == 1 else
             f"the top {k} of each group of candidates on the same tasks "
             f"({' / '.join(str(len(g)) for g in groups)} candidates; position within it)")
    t = SectionTable(
        columns("model", "position", f"mean rank ({ranking.primary})",
                f"mean {ranking.primary} score", "tasks", "adapted with",
                left=("model", "adapted with")),
        caption=f"Shortlist: {among} by {ranking.primary} "
        "(transferability, no training) get every strategy; the others the frozen probe only")
    for group in groups:
        agg = ranking.aggregate(models=group)
        keep = agg["model"].head(k).tolist()
        for r in agg.itertuples():
            chosen = r.model in keep
            used = [s.name for s in status.plan.strategies
                    if any(c.model.label == r.model and c.strategy is s
                           for c in status.plan.cells)]
            t.add(Cell(r.model, strong=chosen), Cell(int(r.position), "count"),
                  Cell(float(r.mean_rank), "number", ".2f"), Cell.of(mean.get(r.model), ".3f"),
                  Cell(int(r.tasks), "count"),
                  Cell("probe only" if used == ["probe"] else ", ".join(used),
                       status="good" if chosen else None))
    return t


def _not_candidates(status: PlanStatus) -> list[str]:
    """Pretrained models the shortlist does not choose among, and why."""
    plan = status.plan
    if status.ranking is None or not plan.suite.shortlist:
        return []
    candidates = plan.shortlist_candidates()
    return [f"{m.label} is not a shortlist candidate: it runs on its own tasks "
            f"({', '.join(m.spec.tasks or [])}) and keeps every strategy the suite gives it"
            for m in plan.models if m.pretrained and m.label not in candidates]


def plan_section(status: PlanStatus) -> Section:
    """The plan as a section: cells per model and strategy with what is stored and what
    will run, the analyses, the shortlist's choice; notes name the tasks and seeds and
    what was left out."""
    plan = status.plan
    seeds = ", ".join(str(s) for s in plan.suite.seeds)
    notes = [f"tasks: {', '.join(t.name for t in plan.tasks)}; seeds: {seeds}"]
    notes += [f"left out: {s}" for s in plan.skipped]
    notes += _not_candidates(status)
    notes += [f"warning: {w}" for w in plan.warnings]
    if status.analyses_only:
        n = sum(len(j) for _, j in status.analyses_only)
        notes.append(f"{len(status.analyses_only)} stored cell(s) get only their missing "
                     f"analyses ({n})")
    tables = [t for t in (_cells_table(status), _analyses_table(status),
                          _shortlist_table(status)) if t is not None]
    return Section("plan", title="Plan", tables=tables, notes=notes,
                   data={"cells": len(plan.cells), "to_run": len(status.to_run),
                         "stored": status.stored,
                         "analyses_only": len(status.analyses_only),
                         "analyses_to_run": status.analyses_to_run})
