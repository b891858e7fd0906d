"""Regularisation of a linear head chosen by cross-validation on training data alone.

Logistic regression: each value of a small log grid of ``C`` is scored by its mean
held-out log loss over stratified folds of the training items; along the grid (``C``
ascending) each fold's model starts from the previous solution (warm start), so the
whole path costs little more than a few fits. Ridge regression: ``alpha`` is chosen
by efficient leave-one-out mean squared error (scikit-learn's ``RidgeCV``). Nothing
outside the items given is ever seen, so a caller passes its training split only::

    fold = stratified_folds(y_train, 5, seed=[0, 0])  # None if a class has one item
    c = select_c(x_train, y_train, fold, C_GRID).value
    alpha = select_alpha(x_train, t_train, ALPHA_GRID).value
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # scikit-learn is imported where it fits: reading results needs none of it
    from sklearn.linear_model import LogisticRegression

C_GRID: tuple[float, ...] = tuple(float(c) for c in np.logspace(-3, 2, 11))
ALPHA_GRID: tuple[float, ...] = tuple(float(a) for a in np.logspace(-2, 4, 13))
PATIENCE = 2  # grid values past the best before the C path stops
TOL = 1e-4  # scikit-learn's default, as LogisticRegressionCV's path uses
_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class Choice:
    """The regularisation value used and how it was found.

    ``losses`` holds the mean held-out loss of each grid value (empty when none was
    cross-validated); ``reason`` says why the fallback value was used instead.
    """

    value: float
    losses: tuple[float, ...] = ()
    folds: int = 0
    reason: str | None = None


def stratified_folds(y: np.ndarray, folds: int, seed: Any) -> np.ndarray | None:
    """A fold number per item: each class's items in a seeded random order, dealt in
    turn into the folds, so every fold holds about ``1/folds`` of each class.

    With a class smaller than ``folds`` the number of folds drops to that class's
    size; ``None`` when a class has a single item (no fold split keeps it in
    training) or there is one class only. ``seed`` is anything ``numpy.random.default_rng`` takes.
    """
    classes, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    k = min(folds, int(counts.min())) if len(classes) > 1 else 0
    if k < 2:
        return None
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(np.flatnonzero(codes == c))
                            for c in range(len(classes))])
    fold = np.empty(len(y), dtype=np.int64)
    fold[order] = np.arange(len(y)) % k
    return fold


def too_few_reason(y: np.ndarray, names: tuple[str, ...] | None = None) -> str:
    """Why no stratified folds exist for labels ``y`` (class codes into ``names``)."""
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        return "one class only"
    small = classes[counts.argmin()]
    label = names[int(small)] if names is not None else small.item()
    return f"class {str(label)!r} has a single training item"


def _held_out_log_loss(model: LogisticRegression, x: np.ndarray, codes: np.ndarray,
                       k: int) -> float:
    """Mean log loss over the classes of all the data (a fold may lack some)."""
    proba = np.zeros((len(x), k))
    proba[:, model.classes_] = model.predict_proba(x)
    p = np.clip(proba[np.arange(len(x)), codes], _EPS, 1.0)
    return float(-np.mean(np.log(p)))


def select_c(
    x: Any,
    y: np.ndarray,
    fold: np.ndarray,
    grid: tuple[float, ...] | list[float] = C_GRID,
    *,
    max_iter: int = 1000,
    class_weight: str | None = None,
    random_state: int = 0,
    patience: int = PATIENCE,
) -> Choice:
    """The ``C`` of ``grid`` with the lowest mean held-out log loss over ``fold``.

    The folds' mean losses are averaged with equal weight (as scikit-learn's
    ``GridSearchCV`` does); a tie goes to the smaller ``C`` (stronger
    regularisation). Held-out loss against ``C`` falls then rises, so the path stops
    once ``patience`` values in a row are worse than the best so far; ``losses``
    then holds only the values tried.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    grid = sorted(float(c) for c in grid)
    classes, codes = np.unique(y, return_inverse=True)
    folds = np.unique(fold)
    splits = [(fold != f, fold == f) for f in folds]
    models = [LogisticRegression(max_iter=max_iter, tol=TOL, warm_start=True,
                                 class_weight=class_weight, random_state=random_state)
              for _ in folds]
    mean: list[float] = []
    with warnings.catch_warnings():  # weak-regularisation ends of the path may stop early
        warnings.simplefilter("ignore", ConvergenceWarning)
        for c in grid:
            losses = []
            for model, (train, held) in zip(models, splits, strict=True):
                model.set_params(C=c)
                model.fit(x[train], codes[train])
                losses.append(_held_out_log_loss(model, x[held], codes[held], len(classes)))
            mean.append(float(np.mean(losses)))
            if len(mean) - 1 - int(np.argmin(mean)) >= patience:
                break
    return Choice(grid[int(np.argmin(mean))], tuple(mean), len(folds))


def select_alpha(x: Any, y: np.ndarray, grid: tuple[float, ...] | list[float] = ALPHA_GRID
                 ) -> Choice:
    """The ``alpha`` of ``grid`` with the lowest leave-one-out squared error (exact and
    cheap for ridge: scikit-learn's ``RidgeCV`` generalised cross-validation)."""
    from sklearn.linear_model import RidgeCV

    grid = sorted(float(a) for a in grid)
    model = RidgeCV(alphas=grid, store_cv_results=True).fit(x, y)
    per_alpha = model.cv_results_.reshape(len(y), -1, len(grid)).mean(axis=(0, 1))
    return Choice(float(model.alpha_), tuple(float(v) for v in per_alpha), len(y))
