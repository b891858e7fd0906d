"""Local worker processes: model groups side by side, each with its share of the cores.

Workers are spawned (not forked: torch and forks do not mix), get the pickled plan once,
and ask the driver for work; the driver claims a group in the store only when a worker
is free to start it, so a killed run holds claims for in-flight groups alone. Rows
travel back through a queue and are written by the driver as they arrive.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import queue
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from adapteval.core.env import apply_defaults, silence_libraries
from adapteval.core.progress import Reporter
from adapteval.execution.cells import run_group
from adapteval.execution.executors import Claim, Event, cores
from adapteval.features import EmbeddingCache
from adapteval.plan import Plan

POLL_S = 1.0


def _portable(exc: BaseException) -> BaseException:
    """The error itself when it pickles (adapteval errors do), else a plain stand-in."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def _worker(wid: int, plan_blob: bytes, cache_path: str, threads: int, tasks: Any,
            results: Any) -> None:
    """One worker process: run the groups the driver hands out until told to stop."""
    os.environ["ADAPTEVAL_THREADS"] = str(threads)
    parent = os.getppid()
    try:
        import torch

        torch.set_num_threads(threads)
        apply_defaults()
        silence_libraries()
        plan: Plan = pickle.loads(plan_blob)
        cells = {c.key: c for c in plan.cells}
        jobs = {j.key: j for js in plan.jobs().values() for j in js}
        cache = EmbeddingCache(cache_path)
        while True:
            results.put(("ready", wid))
            group = tasks.get()
            if group is None:
                break
            items = [(cells[k], [jobs[j] for j in job_keys], stored)
                     for k, job_keys, stored in group]
            for key, row in run_group(plan, items, cache, Reporter()):
                if os.getppid() != parent:  # the driver is gone: nobody would store this
                    os._exit(1)
                results.put(("row", key, row))
        cache.close()
    except BaseException as exc:  # noqa: BLE001 - reported to the driver, which raises it
        results.put(("error", _portable(exc)))
    results.put(("exit", wid))


class ProcessPool:
    """``workers`` spawned processes, torch threads = cores // workers each."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.procs: list[Any] = []

    def run(self, plan: Plan, groups: list[list[Any]], claim: Claim, cache_path: Path,
            reporter: Reporter) -> Iterator[Event]:
        ctx = mp.get_context("spawn")
        tasks, results = ctx.Queue(), ctx.Queue()
        n = min(self.workers, len(groups))
        threads = max(1, cores() // self.workers)
        blob = pickle.dumps(plan)
        self.procs = [ctx.Process(target=_worker, daemon=True,
                                  args=(w, blob, str(cache_path), threads, tasks, results))
                      for w in range(n)]
        for p in self.procs:
            p.start()
        left, running = list(groups), n
        while running:
            try:
                msg = results.get(timeout=POLL_S)
            except queue.Empty:
                self._check_alive()
                continue
            if msg[0] == "ready":
                tasks.put(self._next(left, claim))
            elif msg[0] == "row":
                yield msg[1], msg[2]
            elif msg[0] == "error":
                raise msg[1]
            elif msg[0] == "exit":
                running -= 1
        self.close()

    @staticmethod
    def _next(left: list[list[Any]], claim: Claim) -> list[tuple] | None:
        """The next group this run could claim, as (cell key, job keys, stored row)."""
        while left:
            mine = claim(left.pop(0))
            if mine:
                return [(c.key, [j.key for j in jobs], stored) for c, jobs, stored in mine]
        return None

    def _check_alive(self) -> None:
        dead = [p for p in self.procs if p.exitcode not in (None, 0)]
        if dead:
            raise RuntimeError(
                f"a worker process died (exit code {dead[0].exitcode}); finished cells are "
                "stored, rerun to resume"
            )

    def close(self) -> None:
        for p in self.procs:
            if p.is_alive():
                p.terminate()
        for p in self.procs:
            p.join(10)
        self.procs = []
