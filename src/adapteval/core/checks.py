"""Shared argument and array checks for the calibration and perturbation toolkits.

Bad parameters raise ``ConfigError``; arrays of the wrong shape or content raise
``DataError``. Each message names the offending argument.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adapteval.core.errors import ConfigError, DataError

EPS = float(np.finfo(np.float64).eps)
BINNINGS = ("uniform", "quantile")
_ROW_SUM_TOL = 1e-3


def is_int(x: object) -> bool:
    """True for Python and numpy integers, false for ``bool``."""
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def is_real(x: object) -> bool:
    """True for finite Python and numpy real numbers, false for ``bool``."""
    ok = isinstance(x, (int, float, np.integer, np.floating))
    return ok and not isinstance(x, bool) and math.isfinite(x)  # type: ignore[arg-type]


def check_n_bins(n_bins: object) -> int:
    if not is_int(n_bins) or n_bins < 1:  # type: ignore[operator]
        raise ConfigError("n_bins must be an int >= 1", value=n_bins, fix="pass e.g. n_bins=15")
    return int(n_bins)  # type: ignore[call-overload]


def check_strategy(strategy: object) -> str:
    if strategy not in BINNINGS:
        raise ConfigError(
            "strategy must be 'uniform' or 'quantile'",
            value=strategy,
            fix="use 'uniform' (equal-width bins) or 'quantile' (equal-count bins)",
        )
    return str(strategy)


def _check_matrix(arr: NDArray[np.float64], name: str) -> None:
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] < 2:
        raise DataError(
            f"{name} must be a non-empty (n_items, n_classes) array, n_classes >= 2",
            value=arr.shape,
        )
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{name} must be finite", fix="replace inf and NaN values")


def as_proba(proba: ArrayLike, name: str = "proba") -> NDArray[np.float64]:
    """Probabilities as a float64 ``(n, K)`` array; 1-D input is binary ``P(y=1)``."""
    arr = np.asarray(proba, dtype=np.float64)
    if arr.ndim == 1:
        arr = np.column_stack([1.0 - arr, arr])
    _check_matrix(arr, name)
    if arr.min() < 0.0 or arr.max() > 1.0:
        raise DataError(f"{name} must hold probabilities in [0, 1]")
    if not np.allclose(arr.sum(axis=1), 1.0, atol=_ROW_SUM_TOL, rtol=0.0):
        raise DataError(
            f"each row of {name} must sum to 1",
            fix="pass softmax outputs, or logits to the temperature functions",
        )
    return arr


def as_logits(logits: ArrayLike, name: str = "logits") -> NDArray[np.float64]:
    """Unnormalised scores as a finite float64 ``(n, K)`` array."""
    arr = np.asarray(logits, dtype=np.float64)
    _check_matrix(arr, name)
    return arr


def as_labels(
    y: ArrayLike, n_items: int, n_classes: int, name: str = "y_true"
) -> NDArray[np.int64]:
    """Class indices in ``[0, n_classes)``, one per row of the scores."""
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.shape[0] != n_items:
        raise DataError(
            f"{name} must be 1-D with one label per row of the scores",
            value=arr.shape,
            fix=f"expected shape ({n_items},)",
        )
    integral = arr.dtype.kind in "biu" or (
        arr.dtype.kind == "f" and bool(np.all(arr == np.round(arr)))
    )
    if not integral:
        raise DataError(f"{name} must hold integer class indices", fix="encode labels as 0..K-1")
    labels = arr.astype(np.int64)
    if labels.min() < 0 or labels.max() >= n_classes:
        raise DataError(
            f"{name} must hold class indices in [0, {n_classes - 1}]",
            value=(int(labels.min()), int(labels.max())),
        )
    return labels
