"""Temperature scaling.

Guo et al., "On Calibration of Modern Neural Networks", ICML 2017, section 4.2.

A single scalar ``T > 0`` divides the logits before the softmax; it is fitted by
minimising the negative log-likelihood on held-out data. ``T > 1`` softens an
over-confident model, ``T < 1`` sharpens an under-confident one; the argmax, and so
the accuracy, never changes.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adapteval.core.checks import EPS, as_labels, as_logits, as_proba, is_real
from adapteval.core.errors import ConfigError

_GRID_POINTS = 41


def proba_to_logits(proba: ArrayLike) -> NDArray[np.float64]:
    """Log-probabilities usable as logits: ``softmax(proba_to_logits(p)) == p``.

    Zeros are clipped to float64 eps so the result stays finite. Use it to
    temperature-scale a model that only exposes probabilities.
    """
    return np.log(np.clip(as_proba(proba), EPS, 1.0))


def _check_temperature(temperature: object) -> float:
    if not is_real(temperature) or temperature <= 0:  # type: ignore[operator]
        raise ConfigError(
            "temperature must be a finite number > 0",
            value=temperature,
            fix="use the value returned by fit_temperature",
        )
    return float(temperature)  # type: ignore[arg-type]


def apply_temperature(logits: ArrayLike, temperature: float) -> NDArray[np.float64]:
    """Calibrated probabilities ``softmax(logits / temperature)``."""
    from scipy.special import softmax  # scipy is imported where it is used: reading
    # results back imports this module but never calls it

    return softmax(as_logits(logits) / _check_temperature(temperature), axis=1)


def _check_bounds(bounds: object) -> tuple[float, float]:
    try:
        lo, hi = (float(b) for b in bounds)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        lo = hi = math.nan
    if not (0 < lo < hi and math.isfinite(hi)):
        raise ConfigError(
            "bounds must be (t_min, t_max) with 0 < t_min < t_max",
            value=bounds,
            fix="e.g. bounds=(0.01, 100.0)",
        )
    return lo, hi


def _nll(z: NDArray[np.float64], y: NDArray[np.int64], log_t: float) -> float:
    from scipy.special import logsumexp

    scaled = z / math.exp(log_t)
    picked = scaled[np.arange(y.shape[0]), y]
    return float(np.mean(logsumexp(scaled, axis=1) - picked))


def fit_temperature(
    *,
    logits: ArrayLike,
    y_true: ArrayLike,
    bounds: tuple[float, float] = (1e-2, 1e2),
) -> float:
    """Temperature ``T`` minimising the NLL of ``softmax(logits / T)``.

    The search runs over ``log T``: a log-spaced grid over ``bounds`` finds the basin
    (the NLL is unimodal in ``log T``), then bounded Brent refines it. The result is
    deterministic and stays inside ``bounds``; perfectly separable data drive it to
    the lower bound.
    """
    lo, hi = _check_bounds(bounds)
    z = as_logits(logits)
    y = as_labels(y_true, z.shape[0], z.shape[1])
    grid = np.linspace(math.log(lo), math.log(hi), _GRID_POINTS)
    losses = np.array([_nll(z, y, g) for g in grid])
    best = int(np.argmin(losses))
    left = grid[max(best - 1, 0)]
    right = grid[min(best + 1, grid.shape[0] - 1)]
    from scipy.optimize import minimize_scalar

    res = minimize_scalar(
        lambda g: _nll(z, y, g),
        bounds=(left, right),
        method="bounded",
        options={"xatol": 1e-7},
    )
    log_t = float(res.x) if res.fun < losses[best] else float(grid[best])
    return math.exp(log_t)


__all__ = ["apply_temperature", "fit_temperature", "proba_to_logits"]
