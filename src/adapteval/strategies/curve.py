"""Learning-curve points: any strategy fitted on a seeded part of the training split.

A point is (size, draw). A size is an integer (items per label for classification,
items for regression), a fraction of the training split in (0, 1), or ``"full"`` (the
plain cell of the strategy itself, which the plan does not duplicate). Draws are nested:
draw ``d`` orders each label's training items by one permutation seeded by (seed, d)
and takes the first ``n`` of each, so a larger size of the same draw holds the smaller
one. A label with fewer items than asked gives all it has.

k-shot is the one strategy whose curve is its own parameter: its point at size ``k``
is k-shot with ``samples_per_label`` (``n_samples`` for regression) set to ``k`` and
``n_experiments`` to the curve's draws, so its draws are its experiments (one at
``full``, where every draw would take the same items).

The point's test split is the cell's test split, untouched; frozen strategies read
every point's features from the same cache, so a whole curve costs one encoding pass.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from adapteval.contracts.strategy import CellContext, Fitted, Strategy
from adapteval.data.task import Split, Task, View
from adapteval.strategies.kshot import KShot

Size = int | float | str
FULL = "full"
KSHOT_ALL = 100_000  # k-shot's largest samples_per_label: every item of every label


def size_label(size: Size) -> str:
    """How a size reads in tables: 8, 0.25, full."""
    return f"{size:g}" if isinstance(size, float) else str(size)


def subset(train: View, size: Size, seed: int, draw: int, regression: bool) -> np.ndarray:
    """Sorted training indices of draw ``draw`` at ``size`` (nested across sizes)."""
    rng = np.random.default_rng([seed, draw, 16])
    if regression:
        order = rng.permutation(len(train))
        n = _count(size, len(train))
        return np.sort(order[:n])
    picked = []
    for label in np.unique(train.y):
        members = np.flatnonzero(train.y == label)
        members = members[rng.permutation(len(members))]
        picked.append(members[: _count(size, len(members))])
    return np.sort(np.concatenate(picked))


def _count(size: Size, available: int) -> int:
    if isinstance(size, float):
        return max(1, int(round(size * available)))
    return min(int(size), available)


def covers_all(train: View, size: Size, regression: bool) -> bool:
    """Whether ``size`` takes the whole training split (so it is the full point)."""
    if size == FULL:
        return True
    if isinstance(size, float):
        return False
    if regression:
        return int(size) >= len(train)
    return int(size) >= int(np.bincount(np.unique(train.y, return_inverse=True)[1]).max())


class CurvePoint(Strategy):
    """``inner`` at one (size, draw) of its learning curve. Not registered: the plan
    builds points from a strategy entry's ``curve:``. Stored cells keep the inner
    strategy's name; their config adds ``curve: {size, draw}`` (and so their key)."""

    def __init__(self, inner: Strategy, size: Size, draw: int, draws: int = 1) -> None:
        self.inner, self.size, self.draw, self.draws = inner, size, draw, draws
        self.own: Strategy | None = None
        if isinstance(inner, KShot):  # k-shot at k: its experiments are the draws
            k = KSHOT_ALL if size == FULL else int(size)
            self.own = type(inner).from_params({
                **inner.params.model_dump(), "samples_per_label": k,
                "n_samples": max(2, k), "n_experiments": 1 if size == FULL else draws})
            inner = self.own
        super().__init__(inner.params)
        self.name = self.inner.name
        self.description = self.inner.description
        self.frozen = self.inner.frozen
        self.embeds = self.inner.embeds
        self.modalities = self.inner.modalities
        self.task_types = self.inner.task_types
        self.rung = None  # a curve point is on no ladder

    @property
    def point(self) -> dict[str, Any]:
        return {"size": self.size, "draw": self.draw}

    def config(self) -> dict[str, Any]:
        base = (self.own or self.inner).config()
        return {**base, "curve": self.point}

    def supports(self, model_kind: Any) -> bool:
        return self.inner.supports(model_kind)

    def check_task(self, task: Task) -> None:
        self.inner.check_task(task)

    def split_of(self, task: Task, split: Split, seed: int) -> Split:
        """The point's split: a part of the training split, the same test split."""
        if self.own is not None:
            return split
        idx = subset(split.train, self.size, seed, self.draw, task.is_regression)
        return Split(split.train.take(idx), split.test, None)

    def embedded(self, task: Task, split: Split, seed: int) -> list[View]:
        strategy = self.own or self.inner
        return strategy.embedded(task, self.split_of(task, split, seed), seed)

    def fit(self, ctx: CellContext) -> Fitted:
        strategy = self.own or self.inner
        part = self.split_of(ctx.task, ctx.split, ctx.seed)
        fitted = strategy.fit(dataclasses.replace(ctx, split=part))
        n_train = fitted.predictions.info.get("n_train") if self.own else len(part.train)
        fitted.predictions.info["curve_point"] = {**self.point, "n_train": int(n_train or 0)}
        return fitted

    def __reduce__(self) -> tuple[Any, ...]:
        return (CurvePoint, (self.inner, self.size, self.draw, self.draws))
