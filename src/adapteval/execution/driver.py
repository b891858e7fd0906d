"""The driver: run the cells of a plan that the store does not have yet.

The driver (this process) picks the executor, hands it the pending cells grouped by
model, and writes every row the moment it arrives. Each group of cells is claimed in the
store before it starts, so a second run sharing the store takes other cells, and then
waits for the cells the first one holds instead of computing them again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from adapteval.analyses import AnalysisRow
from adapteval.core.progress import Reporter
from adapteval.execution.cells import Item, by_model, pending
from adapteval.execution.executors import Executor, InProcess
from adapteval.execution.pool import ProcessPool
from adapteval.execution.ray_cluster import RayExecutor
from adapteval.features import EmbeddingCache
from adapteval.plan import Cell, Job, Plan
from adapteval.store import Owner, ResultStore
from adapteval.suite.specs import ExecutorSpec

CLAIM_POLL_S = 0.5
RENEW_EVERY_S = 60.0


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


@dataclass(frozen=True)
class RunSummary:
    """What a run did with each cell of its plan: ``total`` = ``ran`` + ``skipped_done``
    + ``by_others`` + ``completed``."""

    total: int
    skipped_done: int  # cells whose row and analyses were all in the store already
    ran: int  # cells computed by this run
    seconds: float
    by_others: int = 0  # cells this run found done by another run sharing the store
    completed: int = 0  # cells in the store whose missing analyses this run took on
    analyses_added: int = 0  # the analyses it ran on those cells

    def line(self) -> str:
        """``48 cells: 46 run, 1 already in the store, 1 stored with 3 analyses run``."""
        parts = [f"{self.ran} run", f"{self.skipped_done} already in the store"]
        if self.by_others:
            parts.append(f"{self.by_others} by another run")
        if self.completed:
            parts.append(f"{self.completed} stored with "
                         f"{_n(self.analyses_added, 'analysis', 'analyses')} run")
        return f"{_n(self.total, 'cell', 'cells')}: {', '.join(parts)} ({self.seconds:.1f} s)"


@dataclass(frozen=True)
class PlanStatus:
    """What running a plan will do, read from the store before any work: the cells to
    compute, the stored cells whose analyses are missing, how many are complete, and the
    shortlist's ranking when the suite has one."""

    plan: Plan
    to_run: list[Cell]
    analyses_only: list[tuple[Cell, list[Job]]]
    stored: int
    ranking: Any = None
    jobs: dict[str, list[Job]] = field(default_factory=dict)  # cell key -> its analyses

    @property
    def analyses_to_run(self) -> int:
        fresh = sum(len(self.jobs.get(c.key, [])) for c in self.to_run)
        return fresh + sum(len(j) for _, j in self.analyses_only)


def plan_status(plan: Plan, store: ResultStore, ranking: Any = None) -> PlanStatus:
    """The plan against the store: what a run would compute and what it would skip."""
    return _status(plan, pending(plan, store), ranking)


def _status(plan: Plan, todo: list[tuple[Cell, list[Job], bool]], ranking: Any) -> PlanStatus:
    return PlanStatus(plan, [c for c, _, stored in todo if not stored],
                      [(c, jobs) for c, jobs, stored in todo if stored],
                      len(plan.cells) - len(todo), ranking, plan.jobs())


def executor_for(spec: ExecutorSpec | None) -> Executor:
    """The executor a (resolved) spec names: in process, a process pool, or Ray."""
    spec = spec or ExecutorSpec()
    if spec.name == "ray":
        return RayExecutor(spec)
    if spec.workers > 1:
        return ProcessPool(spec.workers)
    return InProcess()


def run_plan(plan: Plan, store: ResultStore, cache: EmbeddingCache, reporter: Reporter,
             executor: ExecutorSpec | None = None, ranking: Any = None) -> RunSummary:
    """Run what the store lacks on the chosen executor; the driver (this process) writes
    every row the moment it arrives. Each group of cells is claimed in the store before
    it starts, so a second run sharing the store takes other cells, and then waits for
    the cells the first one holds instead of computing them again. The reporter hears
    the plan (``PlanStatus``, with the shortlist's ``ranking``) before any work."""
    t0 = time.perf_counter()
    todo = pending_at_start = pending(plan, store)
    n_todo = len(todo)
    reporter.plan(_status(plan, todo, ranking))
    label = {c.key: c.label for c in plan.cells}
    completing = {c.key for c, _, s in todo if s}
    added = 0
    reporter.start(len(plan.cells), len(plan.cells) - n_todo)
    owner, attempted = Owner.me(), set()
    backend = executor_for(executor)
    computed = 0
    renewed = time.monotonic()

    def claim(items: list[Item]) -> list[Item]:
        keys = {(c.key if s is None else "a:" + c.key): c.key for c, _, s in items}
        got = {keys[k] for k in store.claim(list(keys), owner)}
        mine = [i for i in items if i[0].key in got]
        attempted.update(got)
        return mine

    try:
        while todo:
            left = [(c, j, store.rows([c.key])[0] if s else None)
                    for c, j, s in todo if c.key not in attempted]
            if not left:
                break
            before = len(attempted)
            for key, row in backend.run(plan, by_model(left), claim, cache.path, reporter):
                if row is None:
                    reporter.cell_done(label.get(key, ""))
                elif isinstance(row, AnalysisRow):
                    store.put_analysis(row)
                    added += key in completing
                else:
                    store.put(row)
                    computed += 1
                if time.monotonic() - renewed > RENEW_EVERY_S:
                    store.renew(owner)
                    renewed = time.monotonic()
            if len(attempted) == before:  # every cell left is held by another live run
                time.sleep(CLAIM_POLL_S)
            todo = pending(plan, store)
    finally:
        backend.close()
        store.release(owner)
        reporter.stop()
    fresh = sum(1 for _, _, stored in pending_at_start if not stored)
    return RunSummary(len(plan.cells), len(plan.cells) - n_todo, computed,
                      time.perf_counter() - t0, by_others=max(0, fresh - computed),
                      completed=len(completing), analyses_added=added)
