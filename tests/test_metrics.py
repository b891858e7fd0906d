"""Metrics and their bootstrap replicates agree with scikit-learn / scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from adapteval.metrics import METRICS, bootstrap_indices, interval, score

RNG = np.random.default_rng(0)
N, K = 300, 4
Y = RNG.integers(0, K, N)
PROBA = RNG.dirichlet(np.ones(K), N)
PROBA[np.arange(N), Y] += 0.6  # informative but imperfect
PROBA /= PROBA.sum(1, keepdims=True)
PRED = PROBA.argmax(1)
TARGET = RNG.normal(size=N)
GUESS = TARGET + RNG.normal(scale=0.7, size=N)

REFERENCE = {
    "accuracy": lambda y, p, pr: skm.accuracy_score(y, p),
    "macro_f1": lambda y, p, pr: skm.f1_score(y, p, average="macro"),
    "mcc": lambda y, p, pr: skm.matthews_corrcoef(y, p),
    "log_loss": lambda y, p, pr: skm.log_loss(y, pr, labels=np.arange(K)),
    "mse": lambda y, p, pr: skm.mean_squared_error(y, p),
    "mae": lambda y, p, pr: skm.mean_absolute_error(y, p),
    "r2": lambda y, p, pr: skm.r2_score(y, p),
    "spearman": lambda y, p, pr: stats.spearmanr(y, p).statistic,
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_every_bootstrap_replicate_equals_the_reference_on_that_resample(name):
    metric = METRICS.get(name)
    classification = metric.task == "classification"
    y, p = (Y, PRED) if classification else (TARGET, GUESS)
    idx = bootstrap_indices(N, 200, seed=3)
    s = score(metric, y_true=y, y_pred=p[None], proba=PROBA[None] if classification else None,
              n_classes=K if classification else None, idx=idx)
    assert s.value == pytest.approx(REFERENCE[name](y, p, PROBA), rel=1e-12, abs=1e-12)
    expected = [REFERENCE[name](y[i], p[i], PROBA[i]) for i in idx[:40]]
    np.testing.assert_allclose(s.replicates[:40], expected, rtol=1e-9, atol=1e-12)


EDGE_CASES = {  # y_true, y_pred over K classes: the degenerate corners of each formula
    "a class never predicted": ([0, 1, 2, 3, 0, 1, 2, 3], [0, 1, 1, 3, 0, 1, 1, 3]),
    "a class in neither": ([0, 1, 0, 1, 0, 2], [0, 1, 1, 1, 0, 0]),
    "perfect": ([0, 1, 2, 3, 3], [0, 1, 2, 3, 3]),
    "all wrong": ([0, 0, 1, 1], [1, 1, 0, 0]),
    "one class predicted": ([0, 1, 2, 0, 1], [1, 1, 1, 1, 1]),
    "one class true": ([2, 2, 2, 2], [2, 0, 2, 1]),
}


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
@pytest.mark.parametrize("name", ["accuracy", "macro_f1", "mcc", "log_loss"])
def test_point_values_equal_scikit_learn_on_degenerate_predictions(name, case):
    """The point value is the replicate formula on the items as they are; it must give
    scikit-learn's number where the formula has a corner (an absent class, a zero
    denominator), not only on well-behaved predictions."""
    y, p = (np.array(v) for v in EDGE_CASES[case])
    proba = np.full((len(y), K), 0.1)
    proba[np.arange(len(y)), p] = 0.7
    value = METRICS.get(name).compute(y, p, proba, K)
    assert value == pytest.approx(REFERENCE[name](y, p, proba), rel=1e-12, abs=1e-12)


def test_macro_f1_replicates_average_only_classes_present_like_sklearn():
    y = np.array([0, 0, 1, 1, 2, 2, 0, 1])
    p = np.array([0, 1, 1, 1, 0, 2, 0, 1])
    idx = np.array([[0, 1, 2, 3, 6, 7, 0, 1]])  # class 2 absent from this resample
    rep = METRICS.get("macro_f1").replicates(y, p, None, idx, 3)
    assert rep[0] == pytest.approx(skm.f1_score(y[idx[0]], p[idx[0]], average="macro"))


def test_bootstrap_ci_matches_the_binomial_width_and_brackets_the_estimate():
    y = np.zeros(1000, dtype=int)
    pred = (RNG.random(1000) < 0.2).astype(int)  # accuracy ~0.8
    idx = bootstrap_indices(1000, 4000, seed=0)
    s = score(METRICS.get("accuracy"), y_true=y, y_pred=pred[None], proba=None, n_classes=2, idx=idx)
    lo, hi = interval(s.replicates, 0.95)
    p = s.value
    half = 1.96 * np.sqrt(p * (1 - p) / 1000)
    assert lo < p < hi
    assert (hi - lo) == pytest.approx(2 * half, rel=0.08)


def test_resamples_depend_only_on_seed_and_size_so_cells_are_paired():
    assert np.array_equal(bootstrap_indices(50, 100, 0), bootstrap_indices(50, 100, 0))
    assert not np.array_equal(bootstrap_indices(50, 100, 0), bootstrap_indices(50, 100, 1))


def test_kshot_experiments_average_and_report_spread():
    preds = np.stack([PRED, np.where(RNG.random(N) < 0.5, PRED, Y)])
    s = score(METRICS.get("accuracy"), y_true=Y, y_pred=preds, proba=None, n_classes=K,
              idx=bootstrap_indices(N, 100, 0))
    each = [skm.accuracy_score(Y, p) for p in preds]
    assert s.value == pytest.approx(np.mean(each))
    assert s.spread == pytest.approx(np.std(each, ddof=1))
