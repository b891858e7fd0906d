"""Which cell a free worker runs next, for executors that hand out single cells (worker
processes, Ray actors).

A worker keeps the last model it loaded, so the rules favour staying on it:

1. a cell of the model the worker holds;
2. else a cell of a model no worker is on yet, the biggest model first (longest work
   first keeps the end of a run short): the worker loads it and embeds, in one pass,
   what the plan's cells of that model need;
3. else a cell of a model another worker is on, taken from the model with the most work
   queued per worker on it, but only once that model's features are in the shared cache
   (one of its cells that embeds has finished) or for a cell that embeds nothing
   (fine-tuning): two workers never both pay for encoding the same model;
4. else nothing for now: the worker waits for the next finished cell.

Within a model, one cell that embeds comes first, so the model's features are in the
cache early and its other cells can be shared; then cells that train the model (heavy),
then cells that fit on frozen features. Each cell is claimed in the store right before it is handed out, so a killed
run holds claims for cells in flight only, and runs sharing a store split the work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapteval.execution.cells import Item

TRAINS_WEIGHT = 10  # a cell that trains the model itself against one on frozen features
ENCODES_WEIGHT = 5  # the one-pass encode of a pretrained model's features, in cells


def weight(item: Item) -> int:
    """Rough relative cost of a cell, known before it runs."""
    cell = item[0]
    return TRAINS_WEIGHT if cell.model.pretrained and not cell.strategy.embeds else 1


def kind(item: Item) -> str:
    """``gpu`` for a model placed on a CUDA device, else ``cpu``: the resource shape of
    the worker that may run it."""
    placement = item[0].model.placement
    return "gpu" if placement is not None and placement.type == "cuda" else "cpu"


def _encodes(item: Item) -> bool:
    cell = item[0]
    return cell.model.pretrained and cell.strategy.embeds


class Schedule:
    """The cells left to hand out, by model, and who is on which model."""

    def __init__(self, groups: list[list[Item]], claim: Callable[[list[Any]], list[Any]],
                 by_kind: bool = True) -> None:
        """``by_kind``: keep GPU models for GPU workers (Ray); False: any worker runs any
        cell (local processes)."""
        self.claim = claim
        self.queues: dict[str, list[Item]] = {}
        for group in groups:
            self.queues.setdefault(group[0][0].model.label, []).extend(group)
        for queue in self.queues.values():
            queue.sort(key=weight, reverse=True)  # stable: plan order within a weight
            first = next((i for i, item in enumerate(queue) if _encodes(item)), None)
            if first is not None:  # encode early: the model's other cells become shareable
                queue.insert(0, queue.pop(first))
        self.kinds = {label: kind(q[0]) if by_kind else "cpu" for label, q in self.queues.items()}
        self.size = {label: self._cost(label) for label in self.queues}
        self.active: dict[str, int] = dict.fromkeys(self.queues, 0)  # cells running now
        self.features_ready: set[str] = set()
        self.handed: dict[str, tuple[str, bool]] = {}  # cell key -> model label, encodes

    def _cost(self, label: str) -> int:
        q = self.queues[label]
        return sum(map(weight, q)) + (ENCODES_WEIGHT if any(map(_encodes, q)) else 0)

    def left(self, of_kind: str | None = None) -> int:
        """Cells not handed out yet (of one resource kind)."""
        return sum(len(q) for label, q in self.queues.items()
                   if of_kind is None or self.kinds[label] == of_kind)

    def running(self, of_kind: str | None = None) -> int:
        """Cells handed out and not finished yet (of one resource kind)."""
        return sum(n for label, n in self.active.items()
                   if of_kind is None or self.kinds[label] == of_kind)

    def _shareable(self, label: str, item: Item) -> bool:
        return (not self.active[label] or label in self.features_ready
                or not _encodes(item))

    def _candidates(self, holds: str | None, of_kind: str) -> list[str]:
        """Models to try, best first, for a worker holding ``holds``."""
        labels = [lb for lb, q in self.queues.items() if q and self.kinds[lb] == of_kind]
        fresh = sorted((lb for lb in labels if not self.active[lb] and lb != holds),
                       key=lambda lb: -self.size[lb])
        shared = sorted((lb for lb in labels if self.active[lb] and lb != holds),
                        key=lambda lb: -sum(map(weight, self.queues[lb])) / (self.active[lb] + 1))
        return ([holds] if holds in labels else []) + fresh + shared

    def next(self, holds: str | None, of_kind: str = "cpu") -> Item | None:
        """The cell a free worker of ``of_kind`` holding model ``holds`` should run, claimed
        for this run; None when there is nothing it may start now."""
        for label in self._candidates(holds, of_kind):
            queue = self.queues[label]
            i = 0
            while i < len(queue):
                item = queue[i]
                if label != holds and not self._shareable(label, item):
                    i += 1
                    continue
                queue.pop(i)
                if not self.claim([item]):
                    continue  # another run sharing the store holds it
                self.active[label] += 1
                self.handed[item[0].key] = (label, _encodes(item))
                return item
        return None

    def done(self, key: str) -> None:
        """A handed-out cell (and its analyses) finished."""
        label, encoded = self.handed.pop(key)
        self.active[label] -= 1
        if encoded:  # its worker embedded what the plan's cells of the model need
            self.features_ready.add(label)
