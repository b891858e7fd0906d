"""Each fast estimator equals a direct, slow evaluation of its published definition."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.covariance import ledoit_wolf_shrinkage as sklearn_lw_shrinkage
from sklearn.neighbors import NearestNeighbors

from adapteval.transferability import (
    gbc,
    hscore,
    knn_loo_accuracy,
    linear_cv_score,
    logistic_cv_score,
    transrate,
)
from adapteval.transferability.hscore import ledoit_wolf_shrinkage


def blobs(n: int, d: int, classes: int, seed: int, sep: float = 1.0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, size=n)
    centres = sep * rng.normal(size=(classes, d))
    return rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, size=d) + centres[labels], labels


def class_means(f: np.ndarray, y: np.ndarray) -> np.ndarray:
    g = np.empty_like(f)
    for c in np.unique(y):
        g[y == c] = f[y == c].mean(axis=0)
    return g


def test_hscore_equals_trace_formula_with_pseudo_inverse() -> None:
    f, y = blobs(300, 20, 4, seed=0)
    cov_f = np.cov(f, rowvar=False)
    cov_g = np.cov(class_means(f, y), rowvar=False)
    direct = np.trace(np.linalg.pinv(cov_f) @ cov_g)
    assert hscore(f, y) == pytest.approx(direct, rel=1e-10)


def test_shrinkage_hscore_equals_its_definition_with_ledoit_wolf() -> None:
    f, y = blobs(60, 80, 3, seed=1)  # more dimensions than samples
    s = sklearn_lw_shrinkage(f)
    cov_f = np.cov(f, rowvar=False, bias=True)
    shrunk = (1 - s) * cov_f + s * np.trace(cov_f) / f.shape[1] * np.eye(f.shape[1])
    cov_g = np.cov(class_means(f, y), rowvar=False, bias=True)
    direct = np.trace(np.linalg.solve(shrunk, (1 - s) * cov_g))
    assert hscore(f, y, shrinkage=True) == pytest.approx(direct, rel=1e-9)
    assert hscore(f, y, shrinkage=0.3) < hscore(f, y, shrinkage=0.0)


def test_ledoit_wolf_intensity_matches_scikit_learn() -> None:
    f, _ = blobs(200, 30, 2, seed=2)
    x = f - f.mean(axis=0)
    eig = np.linalg.eigvalsh(x.T @ x / len(x))
    mine = ledoit_wolf_shrinkage(np.sum(x**2, axis=1), eig, x.shape[1])
    assert mine == pytest.approx(sklearn_lw_shrinkage(f), rel=1e-9)


def test_plain_hscore_saturates_when_dimensions_exceed_samples() -> None:
    # A known weakness of the pseudo-inverse H-score, and why shrinkage exists.
    f, y = blobs(40, 100, 3, seed=3, sep=0.0)
    assert hscore(f, y) == pytest.approx(2.0, rel=1e-9)
    assert hscore(f, y, shrinkage=True) < 1.0


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("k", [1, 4, 7])
def test_knn_matches_brute_force_leave_one_out(metric: str, k: int) -> None:
    f, y = blobs(240, 10, 3, seed=4, sep=0.6)
    nearest = NearestNeighbors(n_neighbors=k + 1, metric=metric).fit(f)
    idx = nearest.kneighbors(f, return_distance=False)[:, 1:]
    expected = 0.0
    for i in range(len(f)):
        votes = np.bincount(y[idx[i]], minlength=3)
        winners = np.flatnonzero(votes == votes.max())
        expected += (y[i] in winners) / len(winners)
    assert knn_loo_accuracy(f, y, k=k, metric=metric) == pytest.approx(expected / len(f))


def test_knn_splits_ties_instead_of_using_sample_order() -> None:
    # On a line at -1, 0, 1 with classes a, a, b and k = 1: the point at 0 has two
    # neighbours at the same distance, one of each class, so it counts 1/2 rather
    # than 0 or 1 depending on which neighbour comes first.
    f = np.array([[-1.0], [0.0], [1.0]])
    y = np.array(["a", "a", "b"])
    assert knn_loo_accuracy(f, y, k=1, metric="euclidean") == pytest.approx(0.5)
    assert knn_loo_accuracy(f[::-1], y[::-1], k=1, metric="euclidean") == pytest.approx(0.5)
    # Identical points: 3 twins (1 of its class, 2 not) share k = 1 place, so the
    # other class gets 2/3 of the vote.
    twins = np.array([[1.0, 0.0]] * 4 + [[0.0, 1.0]] * 4)
    labels = np.array([0, 0, 1, 1, 0, 0, 1, 1])
    assert knn_loo_accuracy(twins, labels, k=1) == 0.0
    assert knn_loo_accuracy(twins, labels, k=3) == 0.0


def test_transrate_equals_coding_rate_definition() -> None:
    f, y = blobs(150, 12, 3, seed=5)
    z = f - f.mean(axis=0)
    eps2 = 1e-2**2

    def rate(m: np.ndarray) -> float:
        return 0.5 * np.linalg.slogdet(np.eye(12) + m.T @ m / (len(m) * eps2))[1]

    direct = rate(z) - sum(np.mean(y == c) * rate(z[y == c]) for c in range(3))
    assert transrate(f, y) == pytest.approx(direct, rel=1e-10)


def test_gbc_equals_pairwise_bhattacharyya_sum() -> None:
    f, y = blobs(120, 6, 3, seed=6)
    expected = 0.0
    for i in range(3):
        for j in range(3):
            if i == j:
                continue
            mi, mj = f[y == i].mean(0), f[y == j].mean(0)
            vi, vj = f[y == i].var(0), f[y == j].var(0)
            v = (vi + vj) / 2
            dist = np.sum((mi - mj) ** 2 / v) / 8 + 0.5 * np.log(
                np.prod(v) / np.sqrt(np.prod(vi) * np.prod(vj))
            )
            expected -= np.exp(-dist)
    assert gbc(f, y, pca_components=None) == pytest.approx(expected, rel=1e-10)
    assert gbc(f, y) == pytest.approx(gbc(f, y, pca_components=None), rel=1e-10)


def test_linear_cv_reaches_high_accuracy_on_separable_classes() -> None:
    f, y = blobs(200, 5, 2, seed=7, sep=6.0)
    assert linear_cv_score(f, y) > 0.95
    assert logistic_cv_score(f, y) > 0.95
    assert 0.0 <= logistic_cv_score(f, y, folds=3, seed=1) <= 1.0
