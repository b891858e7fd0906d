"""The driver: run the cells of a plan that the store does not have yet.

The driver (this process) picks the executor, hands it the pending cells grouped by
model, and writes every row the moment it arrives. Each group of cells is claimed in the
store before it starts, so a second run sharing the store takes other cells, and then
waits for the cells the first one holds instead of computing them again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from adapteval.analyses import AnalysisRow
from adapteval.core.progress import Reporter
from adapteval.execution.cells import Item, by_model, pending
from adapteval.execution.executors import Executor, InProcess
from adapteval.execution.pool import ProcessPool
from adapteval.execution.ray_cluster import RayExecutor
from adapteval.features import EmbeddingCache
from adapteval.plan import Plan
from adapteval.store import Owner, ResultStore
from adapteval.suite.specs import ExecutorSpec

CLAIM_POLL_S = 0.5
RENEW_EVERY_S = 60.0


@dataclass(frozen=True)
class RunSummary:
    total: int
    skipped_done: int
    ran: int  # cells computed by this run
    seconds: float
    by_others: int = 0  # cells this run found done by another run sharing the store


def executor_for(spec: ExecutorSpec | None) -> Executor:
    """The executor a (resolved) spec names: in process, a process pool, or Ray."""
    spec = spec or ExecutorSpec()
    if spec.name == "ray":
        return RayExecutor(spec)
    if spec.workers > 1:
        return ProcessPool(spec.workers)
    return InProcess()


def run_plan(plan: Plan, store: ResultStore, cache: EmbeddingCache, reporter: Reporter,
             executor: ExecutorSpec | None = None) -> RunSummary:
    """Run what the store lacks on the chosen executor; the driver (this process) writes
    every row the moment it arrives. Each group of cells is claimed in the store before
    it starts, so a second run sharing the store takes other cells, and then waits for
    the cells the first one holds instead of computing them again."""
    t0 = time.perf_counter()
    todo = pending_at_start = pending(plan, store)
    n_todo = len(todo)
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
            for _key, row in backend.run(plan, by_model(left), claim, cache.path, reporter):
                if row is None:
                    reporter.cell_done()
                elif isinstance(row, AnalysisRow):
                    store.put_analysis(row)
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
                      time.perf_counter() - t0, by_others=max(0, fresh - computed))
