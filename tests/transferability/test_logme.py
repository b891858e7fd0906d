"""LogME returns the true maximum of the Bayesian evidence (You et al., ICML 2021)."""

from __future__ import annotations

import numpy as np
import pytest

from adapteval.transferability import evidence_fit, logme


def dense_log_evidence(f: np.ndarray, y: np.ndarray, alpha: float, beta: float) -> float:
    """The paper's evidence formula with dense matrices, divided by n."""
    n, d = f.shape
    a = alpha * np.eye(d) + beta * f.T @ f
    m = beta * np.linalg.solve(a, f.T @ y)
    sign, logdet = np.linalg.slogdet(a)
    assert sign > 0
    total = (
        0.5 * n * np.log(beta)
        + 0.5 * d * np.log(alpha)
        - 0.5 * n * np.log(2 * np.pi)
        - 0.5 * beta * np.sum((f @ m - y) ** 2)
        - 0.5 * alpha * m @ m
        - 0.5 * logdet
    )
    return float(total / n)


def problem(n: int, d: int, kind: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Features with a 3-dimensional signal; the optimum of these is interior."""
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, size=d)
    signal = 2.0 * f[:, :3].sum(axis=1)
    noisy = signal + 2.0 * rng.normal(size=n)
    if kind == "regression":
        return f, noisy
    return f, (noisy > 0).astype(float)  # a one-hot class column, as LogME uses


CASES = [
    (60, 8, "regression"),
    (60, 8, "class"),
    (25, 50, "regression"),  # fewer samples than dimensions
    (25, 50, "class"),
    (40, 40, "class"),
]


@pytest.mark.parametrize(("n", "d", "kind"), CASES)
def test_fast_evidence_equals_dense_formula(n: int, d: int, kind: str) -> None:
    f, y = problem(n, d, kind, seed=1)
    fit = evidence_fit(f, y)
    assert fit.converged and np.isfinite([fit.alpha, fit.beta]).all()
    assert fit.evidence == pytest.approx(dense_log_evidence(f, y, fit.alpha, fit.beta), rel=1e-10)


@pytest.mark.parametrize(("n", "d", "kind"), CASES)
def test_converged_alpha_beta_maximise_the_evidence(n: int, d: int, kind: str) -> None:
    f, y = problem(n, d, kind, seed=5)
    fit = evidence_fit(f, y)
    assert np.isfinite([fit.alpha, fit.beta]).all()
    best = dense_log_evidence(f, y, fit.alpha, fit.beta)
    steps = [-0.5, -0.05, -1e-3, 0.0, 1e-3, 0.05, 0.5]
    grid = [
        dense_log_evidence(f, y, fit.alpha * np.exp(da), fit.beta * np.exp(db))
        for da in steps
        for db in steps
    ]
    assert max(grid) <= best + 1e-12 * abs(best)
    # Stationary: central differences in log alpha and log beta vanish.
    h = 1e-4
    for da, db in [(h, 0.0), (0.0, h)]:
        up = dense_log_evidence(f, y, fit.alpha * np.exp(da), fit.beta * np.exp(db))
        down = dense_log_evidence(f, y, fit.alpha * np.exp(-da), fit.beta * np.exp(-db))
        assert abs(up - down) / (2 * h) < 1e-7


@pytest.mark.parametrize(("n", "d", "kind"), CASES[:3])
def test_converged_point_satisfies_the_papers_fixed_point(n: int, d: int, kind: str) -> None:
    f, y = problem(n, d, kind, seed=3)
    fit = evidence_fit(f, y)
    ftf = f.T @ f
    a = fit.alpha * np.eye(d) + fit.beta * ftf
    m = fit.beta * np.linalg.solve(a, f.T @ y)
    gamma = np.sum(fit.beta * np.linalg.eigvalsh(np.linalg.solve(a, ftf)))
    assert fit.alpha == pytest.approx(gamma / (m @ m), rel=1e-8)
    assert fit.beta == pytest.approx((n - gamma) / np.sum((f @ m - y) ** 2), rel=1e-8)


def test_exactly_interpolated_target_gives_the_noise_free_limit() -> None:
    # With n < d the evidence may rise all the way to beta -> inf; the limit is the
    # evidence of the noise-free model y ~ N(0, F F' / alpha) at its best alpha.
    rng = np.random.default_rng(9)
    f = rng.normal(size=(10, 40))
    y = f @ rng.normal(size=40)
    fit = evidence_fit(f, y)
    n = len(y)
    q = y @ np.linalg.solve(f @ f.T, y)
    limit = (
        0.5 * np.log(n / q)
        - 0.5
        - 0.5 * np.log(2 * np.pi)
        - np.linalg.slogdet(f @ f.T)[1] / (2 * n)
    )
    assert fit.beta == np.inf
    assert fit.alpha == pytest.approx(n / q, rel=1e-9)
    assert fit.evidence == pytest.approx(limit, rel=1e-10)
    assert dense_log_evidence(f, y, fit.alpha, 1e4) < fit.evidence


def test_target_unrelated_to_features_gives_the_no_signal_limit() -> None:
    # y orthogonal to every feature column: the evidence grows towards alpha -> inf
    # (w = 0), where it equals the likelihood of pure noise with variance |y|^2/n.
    rng = np.random.default_rng(3)
    f = rng.normal(size=(50, 5))
    y = rng.normal(size=50)
    y -= f @ np.linalg.lstsq(f, y, rcond=None)[0]
    fit = evidence_fit(f, y)
    n = len(y)
    limit = 0.5 * np.log(n / (y @ y)) - 0.5 - 0.5 * np.log(2 * np.pi)
    assert fit.alpha == np.inf
    assert fit.evidence == pytest.approx(limit, rel=1e-12)
    for alpha in [1.0, 1e3, 1e6]:
        assert dense_log_evidence(f, y, alpha, fit.beta) < fit.evidence


def test_logme_is_the_mean_evidence_of_the_one_hot_columns() -> None:
    rng = np.random.default_rng(4)
    labels = rng.choice(["cat", "dog", "eel"], size=90)
    f = rng.normal(size=(90, 12)) + 2.0 * (labels == "dog")[:, None]
    per_class = [
        evidence_fit(f, (labels == c).astype(float)).evidence for c in ["cat", "dog", "eel"]
    ]
    assert logme(f, labels) == pytest.approx(np.mean(per_class), rel=1e-10)


def test_logme_does_not_depend_on_feature_units() -> None:
    f, y = problem(80, 10, "class", seed=5)
    assert logme(1e3 * f, y) == pytest.approx(logme(f, y), rel=1e-9)


def test_regression_logme_prefers_features_that_predict_the_target() -> None:
    rng = np.random.default_rng(6)
    f = rng.normal(size=(300, 16))
    y = np.column_stack([f @ rng.normal(size=16), f[:, 0] - f[:, 1]])
    y += 0.5 * rng.normal(size=y.shape)
    shuffled = f[rng.permutation(len(f))]
    good = logme(f, y, regression=True)
    assert good > logme(shuffled, y, regression=True) + 0.5
    per_column = [logme(f, y[:, j], regression=True) for j in range(2)]
    assert good == pytest.approx(np.mean(per_column), rel=1e-10)


def test_logme_on_ten_thousand_samples_is_finite_for_random_labels() -> None:
    # Random features and labels are the flat, slow case of the fixed point.
    rng = np.random.default_rng(8)
    f = rng.normal(size=(3000, 64))
    score = logme(f, rng.integers(0, 10, size=3000))
    assert np.isfinite(score)
