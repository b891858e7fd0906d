"""Leave-one-out ridge probe on frozen features, in closed form.

The ``linear_cv`` estimator: a linear model on standardised frozen features, scored on
samples it was not fitted on (the linear-evaluation protocol of Kornblith, Shlens and
Le, CVPR 2019, with a least-squares head). Class labels become one-hot target columns
and a sample counts as right when its held-out output is highest for its own class
(the ridge classifier, scikit-learn's ``RidgeClassifierCV``); real-valued targets
are scored by the R^2 of the held-out predictions. With two classes one target column
suffices: the other's held-out outputs are one minus the first's, with the same errors.

Ridge regression with an unpenalised intercept is a linear smoother: the fitted values
are ``H y`` and the residual of sample ``i`` left out of the fit is exactly
``(y_i - (H y)_i) / (1 - H_ii)`` (Allen, "The relationship between variable selection
and data augmentation and a method for prediction", Technometrics 1974). One
eigendecomposition thus gives every sample's held-out prediction for every ``alpha`` of
the grid, at the cost of a few fits instead of ``n`` per value. With ``Z`` the
standardised (so centred) features, ``y_c`` the centred targets and more samples than
dimensions, ``Z'Z = V diag(lambda) V'`` and ``P = Z V``::

    H         = 11'/n + P diag(1 / (lambda + alpha)) P'
    1 - H_ii  = 1 - 1/n - sum_j P_ij^2 / (lambda_j + alpha)

which is at least ``(1 - 1/n) alpha / (lambda_max + alpha)``, far above rounding for the
grid's ``alpha`` on standardised features. With at most as many samples as dimensions
the fit nearly interpolates and ``1 - H_ii`` is small, so it is built from parts that
do not cancel: ``ZZ' = U diag(lambda) U'`` (``U`` square), ``a_j = alpha / (lambda_j +
alpha)``::

    y - H y   = (y_c - U U'y_c) + U diag(a) U'y_c
    1 - H_ii  = sum_j U_ij^2 a_j + (1 - 1/n - sum_j U_ij^2)

(exact for any orthonormal ``U``; the bracket is ``-1/n`` as ``U`` holds the direction
of the intercept). These are the two decompositions scikit-learn's ``RidgeCV`` uses.
``alpha`` is the grid value with the lowest mean held-out squared error over all
samples and target columns, as ``RidgeCV`` / ``RidgeClassifierCV`` choose it (ties:
the smaller value). The score is read off the same held-out predictions: a smooth loss
picks one of a few values, which adds little optimism to the accuracy, and every
candidate model is treated alike. The scaling of the features uses no labels and is
computed once on all samples. Nothing depends on the order of the samples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from adapteval.core.errors import ConfigError
from adapteval.transferability.inputs import classification_inputs, one_hot, regression_inputs
from adapteval.transferability.regularization import ALPHA_GRID
from adapteval.transferability.threads import blas_threads, svd_work

_REL_TIE = 1e-12  # class outputs this close (relative) share a held-out sample's credit


@dataclass(frozen=True)
class HeldOut:
    """Leave-one-out predictions of the ridge model at the chosen ``alpha``.

    ``losses`` is the mean held-out squared error of each grid value (sorted
    ascending), ``predictions`` the ``n x k`` held-out outputs at ``alpha``.
    """

    alpha: float
    predictions: np.ndarray
    losses: tuple[float, ...]


def _check_grid(alphas: Any) -> list[float]:
    try:
        grid = sorted(float(a) for a in alphas)
    except (TypeError, ValueError) as exc:
        raise ConfigError("alphas must be a list of positive numbers", value=alphas) from exc
    if not grid or not all(np.isfinite(a) and a > 0 for a in grid):
        raise ConfigError("alphas must be a non-empty list of positive numbers", value=alphas)
    return grid


def _residuals(z: np.ndarray, centred: np.ndarray) -> Callable[[float], np.ndarray]:
    """``alpha -> n x k`` leave-one-out residuals of ridge on standardised ``z``."""
    n, d = z.shape
    if n > d:
        lam, v = np.linalg.eigh(z.T @ z)
        p = z @ v
        q = p.T @ centred
        p2 = p * p
        lam = np.clip(lam, 0.0, None)

        def primal(alpha: float) -> np.ndarray:
            inv = 1.0 / (lam + alpha)
            leave = 1.0 - 1.0 / n - p2 @ inv
            return (centred - p @ (inv[:, None] * q)) / leave[:, None]

        return primal
    lam, u = np.linalg.eigh(z @ z.T)
    lam = np.clip(lam, 0.0, None)
    uty = u.T @ centred
    outside = centred - u @ uty
    u2 = u * u
    bracket = 1.0 - 1.0 / n - u2.sum(axis=1)

    def dual(alpha: float) -> np.ndarray:
        a = alpha / (lam + alpha)
        return (outside + u @ (a[:, None] * uty)) / (u2 @ a + bracket)[:, None]

    return dual


def leave_one_out(features: np.ndarray, targets: np.ndarray,
                  alphas: Any = ALPHA_GRID) -> HeldOut:
    """Held-out predictions of ridge regression (intercept unpenalised) on the
    standardised ``features`` for ``n x k`` ``targets``, ``alpha`` chosen from ``alphas``
    by the mean leave-one-out squared error."""
    grid = _check_grid(alphas)
    from sklearn.preprocessing import StandardScaler

    z = StandardScaler().fit_transform(features)
    mean = targets.mean(axis=0)
    centred = targets - mean
    with blas_threads(svd_work(*z.shape)):
        held_out = _residuals(z, centred)
        losses, residuals = [], None
        for alpha in grid:
            resid = held_out(alpha)
            losses.append(float(np.mean(resid * resid)))
            if len(losses) == 1 or losses[-1] < min(losses[:-1]):
                residuals = resid
    assert residuals is not None
    best = int(np.argmin(losses))
    return HeldOut(grid[best], targets - residuals, tuple(losses))


def held_out_accuracy(outputs: np.ndarray, codes: np.ndarray) -> float:
    """Share of samples whose own class has the highest output; a tie between classes
    gives ``1 / (number tied)`` when the sample's class is among them."""
    top = outputs.max(axis=1, keepdims=True)
    winners = outputs >= top - _REL_TIE * np.maximum(np.abs(top), 1.0)
    right = winners[np.arange(len(codes)), codes]
    return float(np.mean(right / winners.sum(axis=1)))


def linear_cv_score(features: Any, labels: Any, *, regression: bool = False,
                    alphas: Any = ALPHA_GRID) -> float:
    """Leave-one-out accuracy of a ridge classifier, or R^2 of ridge regression.

    ``alphas`` is the grid the regularisation is chosen from (default: the frozen
    probe's ridge grid). Higher means more transferable features; R^2 can be negative.
    """
    if regression:
        x, y = regression_inputs(features, labels)
        held = leave_one_out(x, y, alphas)
        from sklearn.metrics import r2_score

        return float(r2_score(y, held.predictions))
    x, codes, n_classes = classification_inputs(features, labels)
    if n_classes == 2:  # the second column's outputs and errors mirror the first's
        held = leave_one_out(x, one_hot(codes, 2)[:, :1], alphas)
        return held_out_accuracy(np.hstack([held.predictions, 1.0 - held.predictions]), codes)
    held = leave_one_out(x, one_hot(codes, n_classes), alphas)
    return held_out_accuracy(held.predictions, codes)
