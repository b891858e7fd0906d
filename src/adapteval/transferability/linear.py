"""Nested cross-validated logistic regression (or ridge) on frozen features.

The linear-evaluation protocol with the frozen probe's own head (Kornblith, Shlens and
Le, "Do Better ImageNet Models Transfer Better?", CVPR 2019): logistic regression on
standardised frozen features, scored by its held-out accuracy over outer folds; for
regression targets, ridge regression and its held-out R^2. This was ``linear_cv``'s
method up to revision 2; the estimator now uses the closed-form leave-one-out ridge
probe (:mod:`adapteval.transferability.ridge`), which takes well under a hundredth of
this one's time (``benchmarks/rank.py`` prints both methods' seconds and agreement with
the adapted models). This one stays for comparison and for users who want exactly the
probe's head; it fits ``folds x (INNER_FOLDS x path + 1)`` logistic models per score,
more than the frozen probe itself. The regularisation is tuned as the probe tunes it
(:mod:`adapteval.transferability.regularization`), inside each outer fold on that
fold's training rows alone: ``C`` by the held-out log loss of ``INNER_FOLDS`` inner
stratified folds (fewer than the probe's five: nesting multiplies the fits),
``alpha`` by efficient leave-one-out (``RidgeCV``).

Folds are assigned from a keyed hash (BLAKE2b, key = ``seed``) of each sample's
feature bytes and label, not from its position: samples are put in a canonical
order (by label, then hash) and dealt round-robin into the folds, which stratifies
by class. The inner folds deal each class's training rows round-robin in the same
canonical order. Every model is fitted on rows in that canonical order, so the
score is exactly the same for any order of the input samples.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from adapteval.transferability.inputs import (
    check_int,
    classification_inputs,
    regression_inputs,
)
from adapteval.transferability.regularization import ALPHA_GRID, C_GRID, select_c
from adapteval.transferability.threads import blas_threads, svd_work

FIXED_C = 1.0  # when an outer fold's training rows cannot be split into inner folds
MAX_ITER = 2000
INNER_FOLDS = 3


def _hashes(x: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    """A 64-bit keyed hash of each (feature row, label) pair."""
    key = seed.to_bytes(8, "little", signed=True)
    y2 = np.ascontiguousarray(y.reshape(len(y), -1))
    out = np.empty(len(x), dtype=np.uint64)
    for i in range(len(x)):
        h = hashlib.blake2b(x[i].tobytes(), digest_size=8, key=key)
        h.update(y2[i].tobytes())
        out[i] = int.from_bytes(h.digest(), "little")
    return out


def canonical_folds(
    x: np.ndarray, y: np.ndarray, folds: int, seed: int, groups: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """``(order, fold)``: a canonical sample order and each sorted sample's fold.

    ``groups`` (class codes) makes the folds stratified; duplicated samples may
    swap places, which changes nothing because they are identical.
    """
    hashes = _hashes(x, y, seed)
    keys = (hashes,) if groups is None else (hashes, groups)
    order = np.lexsort(keys)
    return order, np.arange(len(x)) % folds


def _cv_accuracy(x: np.ndarray, codes: np.ndarray, fold: np.ndarray, folds: int) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    correct = 0
    for f in range(folds):
        train, test = fold != f, fold == f
        if not test.any():
            continue
        seen = np.unique(codes[train])
        if len(seen) == 1:
            correct += int(np.sum(codes[test] == seen[0]))
            continue
        scaler = StandardScaler().fit(x[train])
        x_train = scaler.transform(x[train])
        inner = _inner_folds(codes[train], INNER_FOLDS)
        c = FIXED_C if inner is None else select_c(
            x_train, codes[train], inner, C_GRID, max_iter=MAX_ITER).value
        model = LogisticRegression(C=c, max_iter=MAX_ITER).fit(x_train, codes[train])
        correct += int(np.sum(model.predict(scaler.transform(x[test])) == codes[test]))
    return correct / len(codes)


def _inner_folds(codes: np.ndarray, folds: int) -> np.ndarray | None:
    """Stratified inner folds of rows sorted by class: each class's rows dealt in turn,
    as many folds as the smallest class allows (``None`` below two)."""
    _, first, counts = np.unique(codes, return_index=True, return_counts=True)
    k = min(folds, int(counts.min()))
    if k < 2:
        return None
    rank = np.arange(len(codes)) - np.repeat(first, counts)
    return rank % k


def _cv_r2(x: np.ndarray, y: np.ndarray, fold: np.ndarray, folds: int) -> float:
    from sklearn.linear_model import RidgeCV
    from sklearn.metrics import r2_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pred = np.empty_like(y)
    for f in range(folds):
        train, test = fold != f, fold == f
        model = make_pipeline(StandardScaler(), RidgeCV(alphas=ALPHA_GRID))
        model.fit(x[train], y[train])
        pred[test] = model.predict(x[test]).reshape(-1, y.shape[1])
    return float(r2_score(y, pred))


def logistic_cv_score(
    features: Any,
    labels: Any,
    *,
    folds: int = 5,
    seed: int = 0,
    regression: bool = False,
) -> float:
    """Out-of-fold accuracy of logistic regression, or R^2 of ridge regression.

    The score pools the out-of-fold predictions of all ``folds`` folds (stratified
    by class for classification). ``seed`` changes the fold assignment. Higher
    means more transferable features; R^2 can be negative.
    """
    seed = check_int(seed, "seed", -(2**63), 2**63 - 1)
    if regression:
        x, y = regression_inputs(features, labels)
        folds = check_int(folds, "folds", 2, x.shape[0])
        order, fold = canonical_folds(x, y, folds, seed, None)
        with blas_threads(folds * svd_work(*x.shape)):
            return _cv_r2(x[order], y[order], fold, folds)
    x, codes, _ = classification_inputs(features, labels)
    folds = check_int(folds, "folds", 2, x.shape[0])
    order, fold = canonical_folds(x, codes, folds, seed, codes)
    with blas_threads(folds * svd_work(*x.shape)):
        return _cv_accuracy(x[order], codes[order], fold, folds)
