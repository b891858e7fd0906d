"""Local worker processes: cells side by side, each worker with its share of the cores.

Workers are spawned (not forked: torch and forks do not mix), get the pickled plan once,
and ask the driver for work; the driver picks a cell for the free worker
(:mod:`adapteval.execution.schedule`: the model it holds first) and claims it in the
store only then, so a killed run holds claims for in-flight cells alone. Rows travel
back through a queue and are written by the driver as they arrive.
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
from adapteval.execution.cells import CellWorker
from adapteval.execution.executors import Claim, Event, cores
from adapteval.execution.schedule import Schedule
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
    """One worker process: run the cells the driver hands out until told to stop."""
    os.environ["ADAPTEVAL_THREADS"] = str(threads)
    parent = os.getppid()
    try:
        import torch

        torch.set_num_threads(threads)
        apply_defaults()
        silence_libraries()
        worker = CellWorker(pickle.loads(plan_blob), EmbeddingCache(cache_path), Reporter())
        while True:
            results.put(("ready", wid))
            task = tasks.get()
            if task is None:
                break
            key, job_keys, stored = task
            for row in worker.run(key, job_keys, stored):
                if os.getppid() != parent:  # the driver is gone: nobody would store this
                    os._exit(1)
                results.put(("row", key, row))
            results.put(("row", key, None))
        worker.close()
    except BaseException as exc:  # noqa: BLE001 - reported to the driver, which raises it
        results.put(("error", _portable(exc)))
    results.put(("exit", wid))


class ProcessPool:
    """``workers`` spawned processes, torch threads = cores // workers each, handed one
    cell at a time by :class:`adapteval.execution.schedule.Schedule`."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.procs: list[Any] = []

    def run(self, plan: Plan, groups: list[list[Any]], claim: Claim, cache_path: Path,
            reporter: Reporter) -> Iterator[Event]:
        ctx = mp.get_context("spawn")
        results = ctx.Queue()
        sched = Schedule(groups, claim, by_kind=False)
        n = min(self.workers, sched.left())
        threads = max(1, cores() // self.workers)
        blob = pickle.dumps(plan)
        tasks = [ctx.Queue() for _ in range(n)]
        self.procs = [ctx.Process(target=_worker, daemon=True,
                                  args=(w, blob, str(cache_path), threads, tasks[w], results))
                      for w in range(n)]
        for p in self.procs:
            p.start()
        holds: dict[int, str | None] = dict.fromkeys(range(n))  # worker -> model it loaded
        waiting: list[int] = []  # free workers with nothing they may start yet
        running = n

        def hand_out(wid: int) -> None:
            item = sched.next(holds[wid])
            if item is not None:
                holds[wid] = item[0].model.label
                tasks[wid].put((item[0].key, [j.key for j in item[1]], item[2]))
            elif sched.left() and sched.running():
                waiting.append(wid)  # a model's features are being embedded: wait for them
            else:
                tasks[wid].put(None)

        while running:
            try:
                msg = results.get(timeout=POLL_S)
            except queue.Empty:
                self._check_alive()
                continue
            if msg[0] == "ready":
                hand_out(msg[1])
            elif msg[0] == "row":
                if msg[2] is None:
                    sched.done(msg[1])
                    parked, waiting[:] = list(waiting), []
                    for wid in parked:
                        hand_out(wid)
                yield msg[1], msg[2]
            elif msg[0] == "error":
                raise msg[1]
            elif msg[0] == "exit":
                running -= 1
        self.close()

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
