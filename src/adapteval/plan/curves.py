"""Learning-curve cells and tuned strategies: what a strategy entry's ``curve:`` and
``tune:`` add to a plan.

Each (size, draw) of a curve is a cell of its own, keyed by content like any other
(the strategy config plus ``curve: {size, draw}``), so finished points are never
recomputed. The ``full`` size is the strategy's plain cell itself (same key), except
for k-shot, whose curve sets its ``samples_per_label`` (one cell per size, its
experiments being the draws). A size that already covers the whole training split is
the full point: it is dropped with a warning rather than computed twice.
"""

from __future__ import annotations

from adapteval.core.errors import ConfigError
from adapteval.data.task import Task
from adapteval.models.ref import ModelRef
from adapteval.plan.cells import Cell, cell_key
from adapteval.strategies import Strategy
from adapteval.strategies.curve import FULL, CurvePoint, covers_all, size_label
from adapteval.strategies.kshot import KShot
from adapteval.strategies.tuning import Tuned
from adapteval.suite.specs import CurveSpec, StrategySpec


def wrap(strategy: Strategy, spec: StrategySpec, where: str) -> Strategy:
    """The strategy with its ``tune:`` applied (itself without one)."""
    if spec.tune is None:
        return strategy
    if isinstance(strategy, KShot):
        raise ConfigError(
            "k-shot takes no tune: (a held-out part of the whole training split is not "
            "nested in its draws)", where=f"{where}.tune",
            fix="k-shot already chooses C by folds of each draw's own items (protocol: "
            "tuned); for a declared space use the probe with curve: and tune:, which "
            "tunes inside each drawn point")
    t = spec.tune
    return Tuned(strategy, t.space, t.validation, t.protocol, where=f"{where}.tune.space")


def check_curve(strategy: Strategy, curve: CurveSpec, where: str) -> None:
    """Refuse what a curve cannot mean: k-shot takes counts per label only."""
    inner = strategy.inner if isinstance(strategy, Tuned) else strategy
    if isinstance(inner, KShot):
        for size in curve.sizes:
            if isinstance(size, float):
                raise ConfigError(
                    f"k-shot curve size {size!r} is a fraction", where=f"{where}.curve.sizes",
                    value=size, fix="give k-shot sizes as items per label (1, 2, 4, ...) "
                    "or use the probe for fractions")


def curve_cells(model: ModelRef, task: Task, strategy: Strategy, curve: CurveSpec, seed: int,
                warnings: list[str]) -> list[Cell]:
    """The cells of one curve for one seed, smallest size first (full excluded unless
    k-shot)."""
    inner = strategy.inner if isinstance(strategy, Tuned) else strategy
    kshot = isinstance(inner, KShot)
    train = task.split(seed).train
    cells = []
    for size in curve.sizes:
        if kshot:
            points = [CurvePoint(strategy, size, 0, curve.draws)]
        elif size == FULL:
            continue  # the plain cell
        elif covers_all(train, size, task.is_regression):
            note = (f"curve size {size_label(size)} of {strategy.name!r} on task {task.name!r} "
                    f"covers the whole training split ({len(train)} items): it is the full "
                    "point, not computed twice")
            if note not in warnings:
                warnings.append(note)
            continue
        else:
            points = [CurvePoint(strategy, size, d) for d in range(curve.draws)]
        cells += [Cell(cell_key(model, task, p, seed), model, task, p, seed) for p in points]
    return cells
