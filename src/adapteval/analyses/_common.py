"""Small pieces the acceptability analyses share: which cells they apply to, which test
items they look at, and how class codes read in a report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from adapteval.contracts.strategy import Predictions
from adapteval.data.task import View

if TYPE_CHECKING:
    from adapteval.plan import Cell


def classification_only(cell: Cell, what: str) -> str | None:
    """The reason an analysis that needs class probabilities skips a regression task."""
    if cell.task.is_regression:
        return f"{cell.task.name} is a regression task; {what} needs class predictions"
    return None


def chosen_items(view: View, max_items: int | None, seed: int, salt: str) -> np.ndarray:
    """Positions of the test items to analyse: all of them, or a seeded subset of
    ``max_items`` in split order (the same subset for every analysis run with ``salt``)."""
    n = len(view)
    if max_items is None or max_items >= n:
        return np.arange(n)
    rng = np.random.default_rng([seed, n, *salt.encode()])
    return np.sort(rng.choice(n, size=max_items, replace=False))


def class_name(cell: Cell, code: Any) -> str:
    """The task's label for class code ``code`` (the code itself when unknown)."""
    classes = cell.task.classes or ()
    return str(classes[int(code)]) if 0 <= int(code) < len(classes) else str(code)


def sub_pairs(view: View, idx: np.ndarray) -> list[str] | None:
    return [view.pairs[i] for i in idx] if view.pairs is not None else None


def newer_at_default(config: dict[str, Any], params: Any, fields: tuple[str, ...]
                     ) -> dict[str, Any]:
    """``config`` without ``fields`` that hold their default: parameters added later (the
    image ones of a text analysis) leave the keys of results stored before unchanged."""
    defaults = type(params)()
    return {k: v for k, v in config.items()
            if k not in fields or getattr(params, k) != getattr(defaults, k)}


def bootstrap_mean_ci(
    values: np.ndarray, rng: np.random.Generator, n_resamples: int = 1000, confidence: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap CI of a mean over items."""
    from scipy.stats import bootstrap

    if len(values) < 2:
        return float(values.mean()), float(values.mean())
    res = bootstrap((values,), np.mean, n_resamples=n_resamples, confidence_level=confidence,
                    method="percentile", rng=rng)
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def as_stored(predictions: Predictions) -> Predictions:
    """The predictions as the store keeps them (float32 probabilities, renormalised), so
    an analysis gives the same numbers right after its cell runs and on a resumed run."""
    return Predictions.from_bytes(predictions.to_bytes())
