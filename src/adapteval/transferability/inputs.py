"""Input checks shared by the transferability estimators.

Every estimator takes frozen features (an ``n x d`` matrix, one row per sample) and
one label per sample. Problems a user can fix raise ``DataError`` naming the input,
the bad value and what to do instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adapteval.core.errors import ConfigError, DataError

_NUMERIC_KINDS = "biuf"


def as_features(features: Any) -> np.ndarray:
    """Return the features as a finite, C-contiguous ``float64`` matrix."""
    try:
        x = np.asarray(features)
    except (TypeError, ValueError) as exc:
        raise DataError(
            "features cannot be read as a numeric matrix",
            where="features",
            value=type(features).__name__,
            fix="pass a 2-D float array (samples x feature dimensions)",
        ) from exc
    if x.dtype.kind not in _NUMERIC_KINDS:
        raise DataError(
            f"features must be numbers, not dtype {x.dtype}",
            where="features",
            fix="pass a 2-D float array (samples x feature dimensions)",
        )
    if x.ndim != 2:
        raise DataError(
            f"features must be a 2-D matrix (samples x dimensions), got {x.ndim}-D",
            where="features",
            value=x.shape,
            fix="reshape to (n_samples, n_dims), e.g. flatten or pool token features",
        )
    n, d = x.shape
    if n < 2 or d < 1:
        raise DataError(
            "features need at least 2 samples and 1 dimension",
            where="features",
            value=x.shape,
        )
    x = np.ascontiguousarray(x, dtype=np.float64)
    finite = np.isfinite(x)
    if not finite.all():
        bad = np.argwhere(~finite)
        row, col = (int(i) for i in bad[0])
        kind = "NaN" if np.isnan(x[row, col]) else "infinite values"
        raise DataError(
            f"features contain {kind} ({len(bad)} bad entries, first at row {row}, column {col})",
            where="features",
            fix="drop or impute those samples before estimating transferability",
        )
    if not np.any(x):
        raise DataError(
            "features are all zero, so they carry no information",
            where="features",
            fix="check the feature extraction (wrong layer or empty inputs?)",
        )
    return x


def _check_length(n_labels: int, n: int, where: str) -> None:
    if n_labels != n:
        raise DataError(
            f"features have {n} rows but {where} has {n_labels} entries; their lengths must match",
            where=where,
            fix="pass exactly one label per feature row, in the same order",
        )


def encode_labels(labels: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Encode class labels (strings, ints, ...) as codes ``0..C-1``.

    Returns ``(codes, classes)`` where ``classes`` is sorted, so the codes do not
    depend on the order of the samples. Requires ``n`` labels and at least 2 classes.
    """
    try:
        y = np.asarray(labels)
    except (TypeError, ValueError) as exc:
        raise DataError("labels cannot be read as a 1-D array", where="labels", fix=None) from exc
    if y.ndim == 2 and 1 in y.shape:
        y = y.reshape(-1)
    if y.ndim != 1:
        raise DataError(
            f"labels must be 1-D (one class per sample), got shape {y.shape}",
            where="labels",
            fix="pass class ids or names; for one-hot labels pass onehot.argmax(1)",
        )
    _check_length(len(y), n, "labels")
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise DataError(
            f"labels contain NaN ({int(np.isnan(y).sum())} of {n})",
            where="labels",
            fix="drop unlabelled samples first",
        )
    if y.dtype.kind == "O" and any(v is None for v in y):
        raise DataError("labels contain None", where="labels", fix="drop unlabelled samples first")
    try:
        classes, codes = np.unique(y, return_inverse=True)
    except TypeError as exc:
        raise DataError(
            "labels mix types that cannot be compared (e.g. str and int)",
            where="labels",
            fix="convert all labels to one type, e.g. str",
        ) from exc
    if len(classes) < 2:
        raise DataError(
            "labels contain only one class; transferability needs at least 2 classes",
            where="labels",
            value=classes[0].item() if len(classes) else None,
            fix="use a dataset (or sample) with at least two different labels",
        )
    return codes.reshape(-1).astype(np.intp), classes


def as_targets(targets: Any, n: int) -> np.ndarray:
    """Return regression targets as a finite ``(n, k)`` float64 matrix."""
    y = np.asarray(targets)
    if y.dtype.kind not in _NUMERIC_KINDS:
        raise DataError(
            f"regression targets must be numbers, not dtype {y.dtype}",
            where="labels",
            fix="pass float targets, or use regression=False for class labels",
        )
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2:
        raise DataError(
            f"regression targets must be 1-D or 2-D, got shape {y.shape}",
            where="labels",
        )
    _check_length(y.shape[0], n, "labels")
    y = np.ascontiguousarray(y, dtype=np.float64)
    if not np.isfinite(y).all():
        raise DataError(
            "regression targets contain NaN or infinite values",
            where="labels",
            fix="drop or impute those samples first",
        )
    return y


def classification_inputs(features: Any, labels: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """Checked ``(features, codes, n_classes)`` for a classification task."""
    x = as_features(features)
    codes, classes = encode_labels(labels, x.shape[0])
    return x, codes, len(classes)


def regression_inputs(features: Any, targets: Any) -> tuple[np.ndarray, np.ndarray]:
    """Checked ``(features, targets)`` for a regression task; targets are ``(n, k)``."""
    x = as_features(features)
    return x, as_targets(targets, x.shape[0])


def one_hot(codes: np.ndarray, n_classes: int) -> np.ndarray:
    """``(n, n_classes)`` float64 indicator matrix of the class codes."""
    out = np.zeros((len(codes), n_classes))
    out[np.arange(len(codes)), codes] = 1.0
    return out


def check_int(value: Any, name: str, low: int, high: int | None = None) -> int:
    """An integer option within ``[low, high]``, else ``ConfigError``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(f"{name} must be an integer", value=value)
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"between {low} and {high}"
        raise ConfigError(f"{name} must be {bound}", value=value)
    return int(value)
