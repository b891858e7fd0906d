"""LogME: the maximised log evidence of a Bayesian linear model on frozen features.

You, Liu, Wang and Long, "LogME: Practical Assessment of Pre-trained Models for
Transfer Learning", ICML 2021.

For features ``F`` (``n x d``) and one target column ``y`` the model is
``w ~ N(0, alpha^-1 I)``, ``y | F, w ~ N(F w, beta^-1 I)``. Its log evidence is::

    L(alpha, beta) = n/2 log beta + d/2 log alpha - n/2 log 2 pi
                     - beta/2 ||F m - y||^2 - alpha/2 m'm - 1/2 log |A|
    A = alpha I + beta F'F,   m = beta A^-1 F'y

and the paper maximises it with the fixed-point updates::

    gamma = sum_i beta s_i^2 / (alpha + beta s_i^2)
    alpha <- gamma / m'm,   beta <- (n - gamma) / ||F m - y||^2

Evaluation uses the thin SVD ``F = U diag(s) V'`` (``r = min(n, d)`` values, zeros
allowed) and ``z = U'y``. With ``t = alpha / beta``, ``w_i = s_i^2 / (t + s_i^2)`` and
``a_i = 1 - w_i = t / (t + s_i^2)`` (both computed directly)::

    m'm = sum z^2 w a / t,   ||F m - y||^2 = sum z^2 a^2 + ||y - U z||^2
    E(t) = ||F m - y||^2 + t m'm = sum z^2 a + ||y - U z||^2

Every term is a sum of non-negative parts, so nothing cancels. ``m`` depends on
``t`` only, so ``dL/dbeta = 0`` gives ``beta = n / E(t)`` in closed form and
(``log |A|`` split as ``r log beta + sum log(t + s^2) + (d - r) log alpha``)::

    L = n/2 log(n / E) - n/2 - n/2 log 2 pi - 1/2 sum log1p(s^2 / t)

a one-dimensional problem in ``log t``. The fixed-point update above is exactly a
map on ``t`` (``t <- gamma ||F m - y||^2 / (m'm (n - gamma))``); it is the default
step. It converges only linearly, and extremely slowly when the evidence is flat
(features unrelated to the labels), so a Newton step on the same stationarity
condition ``gamma = n t m'm / E`` replaces it wherever the evidence is locally
concave; each step is halved until the evidence does not decrease. When ``t``
grows past every ``s^2`` by 16 orders of magnitude the maximum is the limit
``alpha -> inf`` (the model ``w = 0``), returned as ``alpha = inf``. With
``n <= d`` the evidence can instead rise towards ``t -> 0`` (exact interpolation,
``beta -> inf``); once ``t`` is 11 orders of magnitude below every ``s^2`` the
value equals that finite limit (the evidence of ``y ~ N(0, F F' / alpha)``) to
about 1e-11 and is returned with ``beta = inf``.
One SVD serves every target column; each iteration costs ``O(r)`` per column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from adapteval.core.errors import DataError
from adapteval.transferability.inputs import (
    as_features,
    as_targets,
    classification_inputs,
    one_hot,
    regression_inputs,
)
from adapteval.transferability.threads import blas_threads, svd_work

_LOG_2PI = float(np.log(2.0 * np.pi))
_TINY = np.finfo(np.float64).tiny
_MAX_STEP = 10.0  # largest change of log t in one step
_NULL_MARGIN = 37.0  # log t beyond log(max s^2) + this: w_i < 1e-16, i.e. w = 0
_EXACT_MARGIN = 25.0  # log t below log(min s^2) - this: a_i < 1e-11, i.e. t = 0


@dataclass(frozen=True)
class EvidenceFit:
    """The maximiser of the log evidence for one target column.

    ``evidence`` is the maximised log evidence divided by ``n`` (the LogME value of
    that column). ``alpha`` is ``inf`` when the maximum is the limit ``w = 0`` (no
    signal), ``beta`` is ``inf`` when it is the noise-free limit (``n <= d`` only);
    ``converged`` is False if ``max_iter`` was reached first.
    """

    alpha: float
    beta: float
    evidence: float
    iterations: int
    converged: bool


@dataclass(frozen=True)
class _Spectrum:
    """The parts of the SVD the evidence needs, for ``k`` target columns."""

    s2: np.ndarray  # (r, 1) squared singular values
    z2: np.ndarray  # (r, k) squared projections of the targets onto U
    perp2: np.ndarray  # (k,) squared norm of the target part outside span(U)
    n: int


def _spectrum(features: np.ndarray, targets: np.ndarray) -> _Spectrum:
    n = features.shape[0]
    u, s, _ = np.linalg.svd(features, full_matrices=False)
    z = u.T @ targets
    if u.shape[1] < n:
        outside = targets - u @ z
        perp2 = np.einsum("ij,ij->j", outside, outside)
    else:
        perp2 = np.zeros(targets.shape[1])
    return _Spectrum(s2=(s**2)[:, None], z2=z**2, perp2=perp2, n=n)


def _objective(spec: _Spectrum, log_t: np.ndarray) -> np.ndarray:
    """``L - (n/2)(log n - 1 - log 2 pi)`` at ``beta = n / E``, per column."""
    t = np.exp(log_t)
    a = t / (t + spec.s2)
    e = np.sum(spec.z2 * a, axis=0) + spec.perp2
    return -0.5 * spec.n * np.log(e) - 0.5 * np.sum(np.log1p(spec.s2 / t), axis=0)


def _steps(spec: _Spectrum, log_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The step in ``log t`` (Newton where concave, else fixed point) and its size.

    The second value is the Newton or fixed-point step before safeguards; it is
    the convergence measure.
    """
    n = spec.n
    t = np.exp(log_t)
    w = spec.s2 / (t + spec.s2)
    a = t / (t + spec.s2)
    wa = w * a
    gamma = np.sum(w, axis=0)
    n_minus_gamma = (n - len(spec.s2)) + np.sum(a, axis=0)
    zwa = spec.z2 * wa
    big_n = np.sum(zwa, axis=0)  # t m'm
    resid = np.sum(spec.z2 * a * a, axis=0) + spec.perp2
    e = big_n + resid
    fixed = (
        np.log(np.maximum(gamma, _TINY))
        + np.log(np.maximum(resid, _TINY))
        - np.log(np.maximum(big_n, _TINY))
        - np.log(np.maximum(n_minus_gamma, _TINY))
    )
    grad = 0.5 * (gamma - n * big_n / e)
    d_big_n = np.sum(zwa * (w - a), axis=0)
    hess = 0.5 * (-np.sum(wa, axis=0) - n * d_big_n / e + n * (big_n / e) ** 2)
    concave = hess < 0
    newton = np.where(concave, -grad / np.where(concave, hess, -1.0), fixed)
    return np.clip(newton, -_MAX_STEP, _MAX_STEP), np.abs(newton)


def _maximise(
    spec: _Spectrum, *, tol: float = 1e-11, max_iter: int = 500
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, np.ndarray]:
    """Maximise the evidence of every target column at once.

    Returns ``alpha, beta, log evidence, iterations, converged`` (arrays over
    columns). A column stops when its step in ``log t`` is below ``tol``.
    """
    k = spec.z2.shape[1]
    s2_max = float(spec.s2.max())
    log_t = np.full(k, np.log(float(spec.s2.mean())))
    null_at = np.log(s2_max) + _NULL_MARGIN
    floor_at = np.log(max(float(spec.s2.min()), 1e-30 * s2_max)) - _EXACT_MARGIN
    done = np.zeros(k, dtype=bool)
    iterations = 0
    while iterations < max_iter and not done.all():
        iterations += 1
        current = _objective(spec, log_t)
        step, size = _steps(spec, log_t)
        done |= size < tol
        step = np.where(done, 0.0, step)
        for _ in range(60):
            trial = _objective(spec, log_t + step)
            worse = trial < current - 1e-13 * np.abs(current)
            if not worse.any():
                break
            step = np.where(worse, 0.5 * step, step)
        # A step cut below tol by rounding noise cannot improve the evidence further.
        done |= np.abs(step) < tol
        log_t = np.clip(log_t + step, floor_at, null_at)
        done |= (log_t >= null_at) | (log_t <= floor_at)
    null = log_t >= null_at
    t = np.exp(log_t)
    e = np.sum(spec.z2 * np.where(null, 1.0, t / (t + spec.s2)), axis=0) + spec.perp2
    exact = log_t <= floor_at  # y interpolated: alpha/beta -> 0 with beta -> inf
    alpha = np.where(null, np.inf, t * spec.n / e)
    beta = np.where(exact, np.inf, spec.n / e)
    n = spec.n
    value = np.where(null, -0.5 * n * np.log(e), _objective(spec, log_t))
    evidence = value + 0.5 * n * (np.log(n) - 1.0 - _LOG_2PI)
    return alpha, beta, evidence, iterations, done


def evidence_fit(features: Any, target: Any) -> EvidenceFit:
    """Maximise the evidence for one real-valued target column.

    Exposes the converged ``alpha``, ``beta`` so callers (and tests) can check the
    maximum against a direct evaluation of the evidence formula.
    """
    x = as_features(features)
    y = as_targets(target, x.shape[0])
    if y.shape[1] != 1:
        raise DataError("evidence_fit takes one target column", value=y.shape)
    with blas_threads(svd_work(*x.shape)):
        spec = _spectrum(x, y)
    alpha, beta, evidence, iterations, done = _maximise(spec)
    return EvidenceFit(
        alpha=float(alpha[0]),
        beta=float(beta[0]),
        evidence=float(evidence[0]) / x.shape[0],
        iterations=iterations,
        converged=bool(done[0]),
    )


def logme(features: Any, labels: Any, *, regression: bool = False) -> float:
    """LogME score (You et al., ICML 2021): higher means more transferable features.

    Classification labels become one-hot target columns; regression targets are
    used as given (1-D or ``n x k``). Returns the mean over target columns of the
    maximised log evidence divided by the number of samples. Features are used as
    given (no centring), as in the paper.
    """
    if regression:
        x, y = regression_inputs(features, labels)
        empty = ~np.any(y, axis=0)
        if empty.any():
            raise DataError(
                "a regression target column is all zeros, so its evidence is unbounded",
                where="labels",
                value=int(np.flatnonzero(empty)[0]),
                fix="drop constant-zero target columns",
            )
    else:
        x, codes, n_classes = classification_inputs(features, labels)
        y = one_hot(codes, n_classes)
    with blas_threads(svd_work(*x.shape)):
        spec = _spectrum(x, y)
    _, _, evidence, _, _ = _maximise(spec)
    return float(np.mean(evidence) / x.shape[0])
