"""Progress reporting: a tiny interface the runner calls, and a rich implementation."""

from __future__ import annotations

from typing import Any


class Reporter:
    """Silent reporter; the base for others."""

    def start(self, total_cells: int, already_done: int) -> None: ...
    def cell(self, label: str) -> None: ...
    def cell_done(self) -> None: ...
    def step(self, label: str, done: int, total: int) -> None: ...
    def note(self, message: str) -> None: ...
    def stop(self) -> None: ...


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

    def cell_done(self) -> None:
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
