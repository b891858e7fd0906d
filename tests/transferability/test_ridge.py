"""The linear-probe estimator: closed-form leave-one-out ridge equals refitting without
each sample, and chooses alpha as scikit-learn's RidgeCV / RidgeClassifierCV do."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge, RidgeClassifierCV, RidgeCV
from sklearn.metrics import r2_score
from sklearn.preprocessing import StandardScaler

from adapteval.transferability import linear_cv_score, logistic_cv_score
from adapteval.transferability.inputs import one_hot
from adapteval.transferability.regularization import ALPHA_GRID
from adapteval.transferability.ridge import held_out_accuracy, leave_one_out


def classes(n: int, d: int, k: int, seed: int, sep: float = 0.7):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, size=n)
    centres = sep * rng.normal(size=(k, d))
    return rng.normal(size=(n, d)) * rng.uniform(0.2, 3.0, size=d) + 5.0 + centres[y], y


def refit_without_each(x: np.ndarray, t: np.ndarray, alpha: float) -> np.ndarray:
    """Held-out predictions the slow way: one ridge fit per left-out sample."""
    z = StandardScaler().fit_transform(x)
    out = np.empty_like(t)
    for i in range(len(z)):
        keep = np.arange(len(z)) != i
        out[i] = Ridge(alpha=alpha).fit(z[keep], t[keep]).predict(z[i : i + 1])[0]
    return out


@pytest.mark.parametrize(("n", "d"), [(90, 12), (30, 50)])  # more and fewer samples than dims
def test_held_out_predictions_equal_refitting_without_each_sample(n: int, d: int) -> None:
    x, y = classes(n, d, 3, seed=n)
    t = one_hot(y, 3)
    grid = (0.03, 1.0, 30.0, 1000.0)
    held = leave_one_out(x, t, grid)
    slow = {a: refit_without_each(x, t, a) for a in grid}
    losses = [float(np.mean((t - slow[a]) ** 2)) for a in grid]
    assert held.losses == pytest.approx(losses, rel=1e-8)
    assert held.alpha == grid[int(np.argmin(losses))]
    np.testing.assert_allclose(held.predictions, slow[held.alpha], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("k", [2, 5])
def test_alpha_and_score_match_scikit_learns_ridge_classifier(k: int) -> None:
    x, y = classes(150, 20, k, seed=k)
    z = StandardScaler().fit_transform(x)
    reference = RidgeClassifierCV(alphas=ALPHA_GRID).fit(z, y)
    held = leave_one_out(x, one_hot(y, k))
    assert held.alpha == reference.alpha_
    slow = refit_without_each(x, one_hot(y, k).astype(float), held.alpha)
    assert linear_cv_score(x, y) == pytest.approx(np.mean(slow.argmax(axis=1) == y))
    assert linear_cv_score(x, np.array(["ab"[c % 2] + str(c) for c in y])) == linear_cv_score(x, y)


def test_regression_score_is_held_out_r2_at_ridge_cvs_alpha() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(120, 15)) * rng.uniform(0.5, 4.0, size=15)
    t = x[:, :3] @ np.array([1.0, -0.5, 0.2]) + rng.normal(size=120)
    reference = RidgeCV(alphas=ALPHA_GRID).fit(StandardScaler().fit_transform(x), t)
    slow = refit_without_each(x, t[:, None], float(reference.alpha_))
    assert linear_cv_score(x, t, regression=True) == pytest.approx(r2_score(t, slow[:, 0]))


def test_tied_class_outputs_share_the_credit() -> None:
    outputs = np.array([[0.5, 0.5, 0.0], [0.2, 0.7, 0.1], [1 / 3, 1 / 3, 1 / 3]])
    assert held_out_accuracy(outputs, np.array([0, 1, 2])) == pytest.approx((0.5 + 1 + 1 / 3) / 3)


def test_orders_feature_sets_as_the_nested_logistic_probe_does() -> None:
    """What a user ranks with it: stronger class signal, higher score, for both methods."""
    rng = np.random.default_rng(4)
    y = rng.integers(0, 3, size=240)
    noise = rng.normal(size=(240, 30))
    sets = [noise + np.eye(30)[y] * strength for strength in (0.3, 0.9, 1.6, 2.5)]
    ridge = [linear_cv_score(f, y) for f in sets]
    logistic = [logistic_cv_score(f, y) for f in sets]
    assert np.all(np.diff(ridge) > 0) and np.all(np.diff(logistic) > 0)
