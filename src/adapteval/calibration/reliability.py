"""Calibration metrics for classifier probabilities: ECE, MCE, Brier, NLL.

All functions are pure and take numpy-compatible arrays as keyword arguments:
``y_true`` holds class indices ``0..K-1`` and ``proba`` is an ``(n, K)`` array whose
rows sum to one (a 1-D ``proba`` is read as ``P(y=1)`` of a binary task).

Binning follows the usual reliability-diagram convention (Naeini et al., AAAI 2015;
Guo et al., "On Calibration of Modern Neural Networks", ICML 2017): ``n_bins``
right-closed bins ``(lo, hi]``, the first also holding its left edge, so a
confidence of exactly 0.6 with 5 uniform bins falls in ``(0.4, 0.6]``. The
``quantile`` strategy puts the edges at quantiles of the scores (equal-count bins).
Temperature scaling lives in :mod:`adapteval.calibration.temperature` and is re-exported
here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adapteval.calibration.temperature import (
    apply_temperature,
    fit_temperature,
    proba_to_logits,
)
from adapteval.core.checks import (
    BINNINGS,
    EPS,
    as_labels,
    as_logits,
    as_proba,
    check_n_bins,
    check_strategy,
    is_int,
)
from adapteval.core.errors import ConfigError, DataError


def _inputs(y_true: ArrayLike, proba: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    p = as_proba(proba)
    return as_labels(y_true, p.shape[0], p.shape[1]), p


@dataclass(frozen=True, eq=False)
class ReliabilityDiagram:
    """Per-bin statistics of a reliability diagram (the arrays are read-only).

    ``edges`` has ``n_bins + 1`` entries and bin ``b`` holds scores in
    ``(edges[b], edges[b+1]]``. Empty bins have ``count == 0``, ``empty == True``
    and ``0.0`` as ``mean_confidence`` and ``accuracy``, so no field is ever NaN.
    Top-label diagrams (``positive_class is None``) bin the max probability against
    the fraction of correct argmax predictions; class-wise ones bin
    ``proba[:, positive_class]`` against the observed frequency of that class.
    """

    edges: NDArray[np.float64]
    counts: NDArray[np.int64]
    mean_confidence: NDArray[np.float64]
    accuracy: NDArray[np.float64]
    empty: NDArray[np.bool_]
    strategy: str
    positive_class: int | None = None

    @property
    def n_bins(self) -> int:
        return int(self.counts.shape[0])

    @property
    def n_samples(self) -> int:
        return int(self.counts.sum())

    @property
    def gaps(self) -> NDArray[np.float64]:
        """``|accuracy - mean_confidence|`` per bin (0 for empty bins)."""
        return np.abs(self.accuracy - self.mean_confidence)

    @property
    def ece(self) -> float:
        """Count-weighted mean gap."""
        return float(np.sum(self.counts / self.n_samples * self.gaps))

    @property
    def mce(self) -> float:
        """Largest gap over non-empty bins."""
        return float(np.max(self.gaps[~self.empty]))


def reliability_diagram(
    *,
    y_true: ArrayLike,
    proba: ArrayLike,
    n_bins: int = 15,
    strategy: str = "uniform",
    positive_class: int | None = None,
) -> ReliabilityDiagram:
    """Bin predictions by confidence and compare mean confidence with accuracy.

    ``positive_class=None`` gives the top-label diagram of Guo et al. (2017).
    ``positive_class=k`` bins ``proba[:, k]`` against the frequency of class ``k``;
    for a binary task with ``k=1`` its non-empty bins equal
    ``sklearn.calibration.calibration_curve`` (same edges, same right-closed bins).
    """
    n_bins = check_n_bins(n_bins)
    strategy = check_strategy(strategy)
    y, p = _inputs(y_true, proba)
    if positive_class is None:
        scores = p.max(axis=1)
        hits = (p.argmax(axis=1) == y).astype(np.float64)
    elif is_int(positive_class) and 0 <= positive_class < p.shape[1]:
        scores = p[:, positive_class]
        hits = (y == positive_class).astype(np.float64)
    else:
        raise ConfigError(
            f"positive_class must be None or a class index in [0, {p.shape[1] - 1}]",
            value=positive_class,
        )
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        edges = np.quantile(scores, np.linspace(0.0, 1.0, n_bins + 1))
    ids = np.searchsorted(edges[1:-1], scores, side="left")  # right-closed bins
    counts = np.bincount(ids, minlength=n_bins).astype(np.int64)
    empty = counts == 0
    safe = np.where(empty, 1, counts)
    mean_conf = np.bincount(ids, weights=scores, minlength=n_bins) / safe
    accuracy = np.bincount(ids, weights=hits, minlength=n_bins) / safe
    for arr in (edges, counts, mean_conf, accuracy, empty):
        arr.setflags(write=False)
    return ReliabilityDiagram(
        edges=edges,
        counts=counts,
        mean_confidence=mean_conf,
        accuracy=accuracy,
        empty=empty,
        strategy=strategy,
        positive_class=None if positive_class is None else int(positive_class),
    )


def expected_calibration_error(
    *,
    y_true: ArrayLike,
    proba: ArrayLike,
    n_bins: int = 15,
    strategy: str = "uniform",
) -> float:
    """Top-label ECE, ``sum_b (n_b / n) |acc_b - conf_b|`` (Guo et al., 2017, eq. 3)."""
    return reliability_diagram(y_true=y_true, proba=proba, n_bins=n_bins, strategy=strategy).ece


def maximum_calibration_error(
    *,
    y_true: ArrayLike,
    proba: ArrayLike,
    n_bins: int = 15,
    strategy: str = "uniform",
) -> float:
    """Top-label MCE, ``max_b |acc_b - conf_b|`` over non-empty bins (Guo et al.)."""
    return reliability_diagram(y_true=y_true, proba=proba, n_bins=n_bins, strategy=strategy).mce


def brier_score(*, y_true: ArrayLike, proba: ArrayLike) -> float:
    """Multi-class Brier score (Brier, 1950): mean of ``sum_k (p_k - [y = k])^2``.

    It lies in ``[0, 2]``; for a binary task it is twice the positive-class
    ``sklearn.metrics.brier_score_loss``.
    """
    y, p = _inputs(y_true, proba)
    onehot = np.zeros_like(p)
    onehot[np.arange(y.shape[0]), y] = 1.0
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


def negative_log_likelihood(*, y_true: ArrayLike, proba: ArrayLike) -> float:
    """Mean ``-log p_y`` with ``p`` clipped to ``[eps, 1 - eps]`` (float64 eps).

    Equal to ``sklearn.metrics.log_loss`` for normalised probabilities.
    """
    y, p = _inputs(y_true, proba)
    picked = np.clip(p[np.arange(y.shape[0]), y], EPS, 1.0 - EPS)
    return float(-np.mean(np.log(picked)))


def _metrics(y: NDArray[np.int64], p: NDArray[np.float64], n_bins: int) -> dict[str, float]:
    diagram = reliability_diagram(y_true=y, proba=p, n_bins=n_bins)
    return {
        "ece": diagram.ece,
        "mce": diagram.mce,
        "brier": brier_score(y_true=y, proba=p),
        "nll": negative_log_likelihood(y_true=y, proba=p),
    }


def calibration_report(
    *,
    y_true: ArrayLike,
    proba: ArrayLike,
    n_bins: int = 15,
    val_logits: ArrayLike | None = None,
    val_y: ArrayLike | None = None,
    test_logits: ArrayLike | None = None,
) -> dict[str, Any]:
    """ECE, MCE, Brier and NLL of ``proba``, plus temperature scaling if asked.

    Keys: ``n_items``, ``n_bins``, ``ece``, ``mce``, ``brier``, ``nll`` (all plain
    numbers). When ``val_logits`` and ``val_y`` are given, a temperature is fitted
    on them and applied to ``test_logits`` (the logits behind ``proba``; when
    omitted, ``log(proba)`` stands in). The report then also holds
    ``temperature`` and ``before`` / ``after`` dicts of the four metrics, all
    measured on the ``y_true`` items.
    """
    n_bins = check_n_bins(n_bins)
    y, p = _inputs(y_true, proba)
    before = _metrics(y, p, n_bins)
    report: dict[str, Any] = {"n_items": int(y.shape[0]), "n_bins": n_bins, **before}
    if val_logits is None and val_y is None:
        if test_logits is not None:
            raise ConfigError(
                "test_logits is only used together with val_logits and val_y",
                fix="pass val_logits and val_y to fit a temperature, or drop it",
            )
        return report
    if val_logits is None or val_y is None:
        raise ConfigError(
            "val_logits and val_y must be given together",
            fix="pass both to fit a temperature, or neither",
        )
    temperature = fit_temperature(logits=val_logits, y_true=val_y)
    if test_logits is None:
        z = proba_to_logits(p)
    else:
        z = as_logits(test_logits, "test_logits")
    if z.shape != p.shape:
        raise DataError(
            "test_logits must have the same shape as proba",
            value=z.shape,
            fix=f"expected {p.shape}",
        )
    report["temperature"] = temperature
    report["before"] = before
    from scipy.special import softmax  # imported where used (results are read without scipy)

    report["after"] = _metrics(y, softmax(z / temperature, axis=1), n_bins)
    return report


__all__ = [
    "BINNINGS",
    "ReliabilityDiagram",
    "apply_temperature",
    "brier_score",
    "calibration_report",
    "expected_calibration_error",
    "fit_temperature",
    "maximum_calibration_error",
    "negative_log_likelihood",
    "proba_to_logits",
    "reliability_diagram",
]
