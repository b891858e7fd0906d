"""Properties a user relies on when ranking models with transferability estimators."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

from adapteval.transferability import ESTIMATORS, estimate, estimate_with_seconds, hscore

NAMES = sorted(ESTIMATORS)
REGRESSION_NAMES = sorted(n for n, e in ESTIMATORS.items() if e.supports_regression)


def informative(n: int = 400, d: int = 80, classes: int = 4, seed: int = 0):
    """Features carrying the label in a few directions, plus noise everywhere."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(["red", "green", "blue", "grey"][:classes], size=n)
    codes = np.unique(labels, return_inverse=True)[1]
    signal = np.zeros((n, d))
    signal[:, :classes] = 1.5 * np.eye(classes)[codes]
    mixing = np.linalg.qr(rng.normal(size=(d, d)))[0]  # spread over all dimensions
    return (signal + rng.normal(size=(n, d))) @ mixing, labels


@pytest.fixture(scope="module")
def sms(shared: Path) -> tuple[np.ndarray, np.ndarray]:
    """Frozen-like features of real SMS messages: TF-IDF then a 64-d SVD."""
    path = shared / "sms-spam" / "SMSSpamCollection"
    rows = [line.split("\t", 1) for line in path.read_text(encoding="utf-8").splitlines()]
    labels = np.array([r[0] for r in rows if len(r) == 2])
    texts = [r[1] for r in rows if len(r) == 2]
    pick = np.random.default_rng(0).choice(len(texts), size=1500, replace=False)
    tfidf = TfidfVectorizer(sublinear_tf=True, min_df=2).fit_transform([texts[i] for i in pick])
    features = TruncatedSVD(64, algorithm="arpack", random_state=0).fit_transform(tfidf)
    return features, labels[pick]


def shuffled(features: np.ndarray, seed: int = 1) -> np.ndarray:
    """The same features attached to the wrong samples."""
    return features[np.random.default_rng(seed).permutation(len(features))]


@pytest.mark.parametrize("name", NAMES)
def test_estimator_prefers_informative_over_shuffled_features(name: str) -> None:
    f, y = informative()
    good = estimate(f, y, [name])[name]
    bad = estimate(shuffled(f), y, [name])[name]
    assert good > bad


def test_every_estimator_ranks_real_text_features_above_shuffled(sms) -> None:
    f, y = sms
    assert set(np.unique(y)) == {"ham", "spam"}
    good = estimate(f, y)
    bad = estimate(shuffled(f), y)
    assert set(good) == set(NAMES)
    for name in NAMES:
        assert good[name] > bad[name], name


@pytest.mark.parametrize("name", NAMES)
def test_estimator_ignores_sample_order(name: str) -> None:
    f, y = informative(n=300, d=90, seed=2)
    f[50:60] = f[40:50]  # exact duplicates make neighbour and fold ties
    y[50:60] = y[40:50]
    order = np.random.default_rng(3).permutation(len(f))
    before = estimate(f, y, [name])[name]
    after = estimate(f[order], y[order], [name])[name]
    assert after == pytest.approx(before, rel=1e-8, abs=1e-12)


@pytest.mark.parametrize("name", REGRESSION_NAMES)
def test_regression_estimator_ignores_sample_order(name: str) -> None:
    rng = np.random.default_rng(4)
    f = rng.normal(size=(200, 12))
    y = f @ rng.normal(size=12) + rng.normal(size=200)
    order = rng.permutation(len(f))
    before = estimate(f, y, [name], regression=True)[name]
    after = estimate(f[order], y[order], [name], regression=True)[name]
    assert after == pytest.approx(before, rel=1e-8, abs=1e-12)


@pytest.mark.parametrize("name", REGRESSION_NAMES)
def test_regression_estimator_prefers_predictive_features(name: str) -> None:
    rng = np.random.default_rng(5)
    f = rng.normal(size=(300, 20))
    y = np.tanh(f[:, 0]) + 0.5 * f[:, 1] + 0.3 * rng.normal(size=300)
    good = estimate(f, y, [name], regression=True)[name]
    assert good > estimate(shuffled(f), y, [name], regression=True)[name]


@pytest.mark.parametrize("shrinkage", [False, True])
def test_hscore_is_invariant_to_rotating_the_features(shrinkage: bool) -> None:
    f, y = informative(n=250, d=30, seed=6)
    q = np.linalg.qr(np.random.default_rng(7).normal(size=(30, 30)))[0]
    assert hscore(f @ q, y, shrinkage=shrinkage) == pytest.approx(
        hscore(f, y, shrinkage=shrinkage), rel=1e-8
    )


def test_plain_hscore_is_invariant_to_any_invertible_linear_map() -> None:
    f, y = informative(n=250, d=30, seed=8)
    m = np.random.default_rng(9).normal(size=(30, 30))
    assert hscore(f @ m, y) == pytest.approx(hscore(f, y), rel=1e-7)


def test_string_and_integer_labels_give_the_same_scores() -> None:
    f, y = informative(n=200, d=40, seed=10)
    as_ints = np.unique(y, return_inverse=True)[1]
    by_name = estimate(f, y)
    by_code = estimate(f, as_ints)
    for name in NAMES:
        assert by_code[name] == pytest.approx(by_name[name], rel=1e-12)


@pytest.mark.parametrize("name", ["hscore", "hscore_shrinkage", "gbc", "transrate"])
def test_scores_follow_features_changed_in_place(name: str) -> None:
    """The estimators share one decomposition of the same features; a changed array
    (or another array) is decomposed afresh, never answered from the last one."""
    f, y = informative(n=200, d=30, seed=11)
    fresh = f.copy()
    fresh[:, 0] *= 3.0
    expected = estimate(fresh, y, [name])[name]
    estimate(f, y, [name])
    f[:, 0] *= 3.0  # the caller edits its array between two calls
    assert estimate(f, y, [name])[name] == expected
    assert estimate(f.copy(), y, [name])[name] == expected


def test_estimators_run_together_score_as_each_alone() -> None:
    f, y = informative(n=300, d=40, seed=12)
    together, seconds = estimate_with_seconds(f, y, NAMES)
    assert together == {name: estimate(f.copy(), y, [name])[name] for name in NAMES}
    assert list(seconds) == NAMES and all(s >= 0 for s in seconds.values())
