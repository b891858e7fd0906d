"""The nested logistic estimator (linear_cv up to revision 2) tunes C inside each outer
fold, as the frozen probe does."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from adapteval.transferability import logistic_cv_score
from adapteval.transferability.linear import (
    INNER_FOLDS,
    MAX_ITER,
    _inner_folds,
    canonical_folds,
)
from adapteval.transferability.regularization import C_GRID, select_c


def weak_signal(n: int = 240, d: int = 60, seed: int = 0):
    """Many noisy dimensions and a weak label direction: C = 1 overfits."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    x = rng.normal(size=(n, d))
    x[:, 0] += 0.8 * (2 * y - 1)
    return x, y


def reference(x: np.ndarray, y: np.ndarray, folds: int, seed: int) -> float:
    """The nested procedure written out: outer canonical folds, C chosen by inner
    stratified folds of each outer-training part, refit, pooled accuracy."""
    order, fold = canonical_folds(x, y, folds, seed, y)
    x, y = x[order], y[order]
    correct = 0
    for f in range(folds):
        train, test = fold != f, fold == f
        scaler = StandardScaler().fit(x[train])
        xt, yt = scaler.transform(x[train]), y[train]
        inner = _inner_folds(yt, INNER_FOLDS)
        for c in range(2):  # each class's rows dealt in turn into the inner folds
            counts = np.bincount(inner[yt == c], minlength=INNER_FOLDS)
            assert counts.max() - counts.min() <= 1
        c = select_c(xt, yt, inner, C_GRID, max_iter=MAX_ITER).value
        model = LogisticRegression(C=c, max_iter=MAX_ITER).fit(xt, yt)
        correct += int(np.sum(model.predict(scaler.transform(x[test])) == y[test]))
    return correct / len(y)


def test_logistic_cv_chooses_c_inside_each_outer_fold() -> None:
    x, y = weak_signal()
    assert logistic_cv_score(x, y, folds=5, seed=3) == pytest.approx(reference(x, y, 5, 3))


def test_tuning_beats_the_fixed_c_when_fixed_overfits() -> None:
    x, y = weak_signal(seed=1)
    order, fold = canonical_folds(x, y, 5, 0, y)
    xs, ys = x[order], y[order]
    fixed = np.mean(np.concatenate([
        LogisticRegression(max_iter=MAX_ITER).fit(
            StandardScaler().fit(xs[fold != f]).transform(xs[fold != f]), ys[fold != f])
        .predict(StandardScaler().fit(xs[fold != f]).transform(xs[fold == f])) == ys[fold == f]
        for f in range(5)]))
    assert logistic_cv_score(x, y, folds=5, seed=0) > fixed
