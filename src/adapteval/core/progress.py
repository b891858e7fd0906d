"""Progress reporting: a tiny interface the runner calls; rich bars for a terminal, and
plain lines (one per finished cell, with counts and elapsed time) for logs."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

LONG_STAGE_S = 5.0  # a stage this long gets a line when it ends
EVERY_S = 30.0  # and one this often while it runs


class Reporter:
    """Silent reporter; the base for others."""

    def plan(self, status: Any) -> None:
        """What the run is about to do (``execution.driver.PlanStatus``), before any work."""

    def start(self, total_cells: int, already_done: int) -> None: ...
    def cell(self, label: str) -> None: ...
    def cell_done(self, label: str = "") -> None: ...
    def step(self, label: str, done: int, total: int) -> None: ...
    def note(self, message: str) -> None: ...
    def stop(self) -> None: ...


def clock(seconds: float) -> str:
    """Elapsed time as ``42s``, ``3m05s`` or ``1h02m``."""
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class LineReporter(Reporter):
    """Plain lines for a log (stderr not a terminal, e.g. CI): one per finished cell with
    its count and the time elapsed; a long stage (encoding, training) gets a line every
    half minute and one when it ends. No bars, no control characters."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self.t0 = time.perf_counter()
        self.total = self.done = self.todo = 0
        self._stage = ""
        self._since = self._said = self.t0

    def _print(self, line: str) -> None:
        stream = self.stream or sys.stderr
        stream.write(line + "\n")
        stream.flush()

    def start(self, total_cells: int, already_done: int) -> None:
        self.t0 = time.perf_counter()
        self.total, self.done = total_cells, already_done
        self.todo = total_cells - already_done
        self._print(f"cells: {self.todo} to do, {already_done} already in the store, "
                    f"{total_cells} in all")

    def cell_done(self, label: str = "") -> None:
        self.done += 1
        n = len(str(self.total))
        self._print(f"[{self.done:>{n}}/{self.total}] done {label or 'cell'} "
                    f"({clock(time.perf_counter() - self.t0)} elapsed)")

    def step(self, label: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if label != self._stage:
            self._stage, self._since, self._said = label, now, now
        if total and done >= total:
            if now - self._since >= LONG_STAGE_S:
                self._print(f"  {label}: {total}/{total} ({clock(now - self._since)})")
            self._stage = ""
        elif now - self._said >= EVERY_S:
            self._said = now
            self._print(f"  {label}: {done}/{total} ({clock(now - self._since)})")

    def note(self, message: str) -> None:
        self._print(message)


class RichReporter(Reporter):
    """Two bars: cells over the whole run, and the batches/steps of the current stage."""

    def __init__(self, console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("{task.description}", style="bold"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )
        self._cells = None
        self._step = None
        self._step_label = ""

    def start(self, total_cells: int, already_done: int) -> None:
        self.progress.start()
        self._cells = self.progress.add_task("cells", total=total_cells, completed=already_done)

    def cell(self, label: str) -> None:
        self.progress.update(self._cells, description=f"cells  [dim]{label}[/]")

    def cell_done(self, label: str = "") -> None:
        self.progress.advance(self._cells)

    def step(self, label: str, done: int, total: int) -> None:
        if self._step is None or label != self._step_label:
            if self._step is not None:
                self.progress.remove_task(self._step)
            self._step = self.progress.add_task(f"  {label}", total=total)
            self._step_label = label
        self.progress.update(self._step, completed=done, total=total)
        if done >= total:
            self.progress.remove_task(self._step)
            self._step = None

    def note(self, message: str) -> None:
        self.progress.console.print(message)

    def stop(self) -> None:
        self.progress.stop()
