"""Metrics: point values and vectorised bootstrap replicates, by one formula each.

Each ``Metric`` has a ``replicates`` function that evaluates its formula on B bootstrap
resamples of the test items at once, and a ``compute`` that gives the point value: the
same formula on the items as they are (one "resample" that takes each item once).
tests/test_metrics.py checks both against scikit-learn and scipy, the reference
implementations, resample by resample and on the edge cases (a class never predicted,
two classes, perfect or constant predictions). Reading scores back from a store thus
needs neither library, nor their input validation, which cost more than the formulas.
Resamples depend only on the bootstrap seed and the number of test items, so two cells
scored on the same test set are resampled identically and their differences are
paired.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

import numpy as np

from adapteval.core.plugin import MODALITIES, Number, Params
from adapteval.core.registry import Registry

Array = np.ndarray


@dataclass(frozen=True)
class Metric:
    name: str
    task: str  # classification | regression
    higher_is_better: bool
    needs_proba: bool
    description: str
    compute: Callable[..., float]
    replicates: Callable[..., Array]
    bounds: tuple[float, float] = (-math.inf, math.inf)  # the closed range of its values
    Params: ClassVar[type[Params]] = Params  # a metric takes no parameters
    modalities: ClassVar[frozenset[str]] = frozenset(MODALITIES)  # it reads predictions only

    @property
    def task_types(self) -> frozenset[str]:
        return frozenset({"regression"} if self.task == "regression" else {"binary", "multiclass"})

    @property
    def offers(self) -> dict[str, Number]:
        """The one number it offers to criteria: itself."""
        return {self.name: self.number}

    @property
    def number(self) -> Number:
        """Its range and direction, as acceptance criteria check them."""
        return Number(self.bounds[0], self.bounds[1], self.higher_is_better, self.description)

    def applies_to(self, task_type: str) -> bool:
        return (self.task == "regression") == (task_type == "regression")


METRICS: Registry[Metric] = Registry("metrics", "metric")


_Layout = tuple[int, tuple[int, ...], tuple[int, ...], str]
_shared: ContextVar[list[tuple[tuple[Array, Array, Array], tuple, Array]] | None] = ContextVar(
    "adapteval_shared_confusions", default=None)


def _layout(a: Array) -> _Layout:
    return (a.__array_interface__["data"][0], a.shape, a.strides, a.dtype.str)


@contextmanager
def shared_confusions() -> Iterator[None]:
    """A block in which accuracy, macro-F1 and MCC of the same predictions and resamples
    count their confusion matrices once (the costly part of their replicates). An entry
    holds the arrays it was computed from, so their memory cannot pass to other arrays
    while the block lasts; open the block around scoring one cell, not around code that
    changes predictions in place."""
    token = _shared.set([])
    try:
        yield
    finally:
        _shared.reset(token)


def _confusions(y: Array, pred: Array, idx: Array, k: int) -> Array:
    """Confusion matrices (B, k, k) of every resample; rows true, columns predicted."""
    entries = _shared.get()
    key = (_layout(y), _layout(pred), _layout(idx), k)
    for _, seen, done in entries or ():
        if seen == key:
            return done
    b = idx.shape[0]
    flat = (y[idx] * k + pred[idx]) + (np.arange(b)[:, None] * (k * k))
    out = np.bincount(flat.ravel(), minlength=b * k * k).reshape(b, k, k)
    if entries is not None:
        out.setflags(write=False)
        entries.append(((y, pred, idx), key, out))
    return out


def _acc_rep(y, pred, proba, idx, k):
    return np.trace(_confusions(y, pred, idx, k), axis1=1, axis2=2) / idx.shape[1]


def _f1_rep(y, pred, proba, idx, k):
    c = _confusions(y, pred, idx, k).astype(np.float64)
    tp = np.diagonal(c, axis1=1, axis2=2)
    true_n, pred_n = c.sum(2), c.sum(1)
    denom = true_n + pred_n
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    present = denom > 0  # labels seen in y_true or y_pred, as scikit-learn averages them
    return (f1 * present).sum(1) / present.sum(1)


def _mcc_rep(y, pred, proba, idx, k):
    c = _confusions(y, pred, idx, k).astype(np.float64)
    t, p = c.sum(2), c.sum(1)
    n = c.sum((1, 2))
    correct = np.trace(c, axis1=1, axis2=2)
    cov_tp = correct * n - (t * p).sum(1)
    cov_pp = n**2 - (p * p).sum(1)
    cov_tt = n**2 - (t * t).sum(1)
    denom = np.sqrt(cov_tt * cov_pp)
    return np.divide(cov_tp, denom, out=np.zeros_like(cov_tp), where=denom > 0)


def _item_log_loss(y: Array, proba: Array) -> Array:
    eps = np.finfo(proba.dtype).eps
    p = np.clip(proba.astype(np.float64), eps, 1 - eps)
    p = p / p.sum(1, keepdims=True)
    return -np.log(p[np.arange(len(y)), y])


def _log_loss_rep(y, pred, proba, idx, k):
    return _item_log_loss(y, proba)[idx].mean(1)


def _mse_rep(y, pred, proba, idx):
    return ((y - pred) ** 2)[idx].mean(1)


def _mae_rep(y, pred, proba, idx):
    return np.abs(y - pred)[idx].mean(1)


def _r2_rep(y, pred, proba, idx):
    yy = y[idx]
    ss_res = ((yy - pred[idx]) ** 2).sum(1)
    ss_tot = ((yy - yy.mean(1, keepdims=True)) ** 2).sum(1)
    return 1 - np.divide(ss_res, ss_tot, out=np.full_like(ss_res, np.nan), where=ss_tot > 0)


def _spearman_rep(y, pred, proba, idx):
    from scipy import stats

    a = stats.rankdata(y[idx], axis=1)
    b = stats.rankdata(pred[idx], axis=1)
    a -= a.mean(1, keepdims=True)
    b -= b.mean(1, keepdims=True)
    denom = np.sqrt((a * a).sum(1) * (b * b).sum(1))
    return np.divide((a * b).sum(1), denom, out=np.full(len(a), np.nan), where=denom > 0)


@dataclass(frozen=True)
class _point:  # noqa: N801 (used like a function: ``_point(_acc_rep)``)
    """The point value of a replicate formula: the one resample that keeps every item.
    A module-level class, so a metric made with it pickles for worker processes."""

    replicates: Callable[..., Array]

    def __call__(self, y: Array, pred: Array, proba: Array | None, *k: int) -> float:
        return float(self.replicates(y, pred, proba, np.arange(len(y))[None, :], *k)[0])


def _spearman(y, p, pr):
    if np.ptp(y) == 0 or np.ptp(p) == 0:
        return math.nan  # undefined on constant input (and scipy would warn)
    return _point(_spearman_rep)(y, p, pr)


for _m in (
    Metric("accuracy", "classification", True, False, "fraction of items predicted correctly",
           _point(_acc_rep), _acc_rep, bounds=(0.0, 1.0)),
    Metric("macro_f1", "classification", True, False, "F1 averaged over classes (unweighted)",
           _point(_f1_rep), _f1_rep, bounds=(0.0, 1.0)),
    Metric("mcc", "classification", True, False, "Matthews correlation coefficient",
           _point(_mcc_rep), _mcc_rep, bounds=(-1.0, 1.0)),
    Metric("log_loss", "classification", False, True, "cross-entropy of predicted probabilities",
           _point(_log_loss_rep), _log_loss_rep, bounds=(0.0, math.inf)),
    Metric("spearman", "regression", True, False, "Spearman rank correlation",
           _spearman, _spearman_rep, bounds=(-1.0, 1.0)),
    Metric("r2", "regression", True, False, "coefficient of determination",
           _point(_r2_rep), _r2_rep, bounds=(-math.inf, 1.0)),
    Metric("mse", "regression", False, False, "mean squared error",
           _point(_mse_rep), _mse_rep, bounds=(0.0, math.inf)),
    Metric("mae", "regression", False, False, "mean absolute error",
           _point(_mae_rep), _mae_rep, bounds=(0.0, math.inf)),
):
    METRICS.register(_m)

CLASSIFICATION_DEFAULT = ["accuracy", "macro_f1", "mcc", "log_loss"]
REGRESSION_DEFAULT = ["spearman", "r2", "mse", "mae"]


def metrics_for(task_type: str, requested: list[str] | None) -> list[Metric]:
    """The requested metrics that apply to a task type, in order (defaults if none asked)."""
    if requested is None:
        names = REGRESSION_DEFAULT if task_type == "regression" else CLASSIFICATION_DEFAULT
    else:
        names = requested
    return [m for m in (METRICS.get(n) for n in names) if m.applies_to(task_type)]


@lru_cache(maxsize=8)
def bootstrap_indices(n: int, n_resamples: int, seed: int) -> Array:
    """Resample indices (B, n); the same for every cell with the same n and seed (drawn
    once per process for the last few sizes, and read-only)."""
    rng = np.random.default_rng([seed, n])
    idx = rng.integers(0, n, size=(n_resamples, n), dtype=np.int64)
    idx.flags.writeable = False
    return idx


@dataclass(frozen=True)
class Scored:
    """A metric on one cell: point value, bootstrap replicates and spread over experiments."""

    value: float
    replicates: Array
    spread: float = 0.0  # std over k-shot experiments (0 for single-fit strategies)


def score(
    metric: Metric,
    *,
    y_true: Array,
    y_pred: Array,
    proba: Array | None,
    n_classes: int | None,
    idx: Array,
) -> Scored:
    """Score predictions of shape (E, n) (E experiments); value and replicates average over E."""
    values, reps = [], []
    for e in range(y_pred.shape[0]):
        pr = proba[e] if proba is not None else None
        if metric.task == "classification":
            values.append(float(metric.compute(y_true, y_pred[e], pr, n_classes)))
            reps.append(metric.replicates(y_true, y_pred[e], pr, idx, n_classes))
        else:
            values.append(float(metric.compute(y_true, y_pred[e], pr)))
            reps.append(metric.replicates(y_true, y_pred[e], pr, idx))
    spread = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return Scored(float(np.mean(values)), np.mean(reps, axis=0), spread)


def interval(replicates: Array, confidence: float) -> tuple[float, float]:
    alpha = (1 - confidence) / 2
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return float("nan"), float("nan")
    lo, hi = np.quantile(finite, [alpha, 1 - alpha])
    return float(lo), float(hi)
