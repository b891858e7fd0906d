"""Frozen probe: a linear model on fixed features.

Classification fits logistic regression (on standardised features for dense
embeddings), regression fits ridge. The encoder never changes, so the probe measures
what the pretrained representation already knows.

Three protocols set the head's regularisation:

- ``tuned`` (default): ``C`` is chosen from the grid ``Cs`` by the mean held-out log loss
  over ``cv`` stratified folds of the training split (seeded by the cell seed; fewer
  folds when a class is smaller, the fixed ``C`` when a class has one item, with the
  reason in the cell's info); ``alpha`` from ``alphas`` by leave-one-out squared error.
  Test items are never seen.
- ``fixed``: ``C`` / ``alpha`` as given.
- ``mteb``: MTEB's classification evaluator, for numbers comparable with its
  leaderboard: ``LogisticRegression(C=1, max_iter=100, random_state=42)`` on raw
  (unstandardised) features; regression, as MTEB's, ordinary least squares.

The value used is recorded in the cell's info as ``regularization`` (``{"C": ...}`` or
``{"alpha": ...}``). A model that brings its own head (the baselines) keeps it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from adapteval.contracts.strategy import (
    STRATEGIES,
    CellContext,
    Fitted,
    Predictions,
    Predictor,
    Strategy,
)
from adapteval.core.plugin import IMAGE, TASK_TYPES, TEXT, TEXT_PAIR, Params
from adapteval.data.task import Task, View
from adapteval.strategies.frozen import frozen_features
from adapteval.transferability.regularization import (
    ALPHA_GRID,
    C_GRID,
    select_alpha,
    select_c,
    stratified_folds,
    too_few_reason,
)
from adapteval.transferability.threads import blas_threads

MTEB_SEED = 42  # MTEB's evaluators seed everything with 42
MTEB_MAX_ITER = 100
Positive = Annotated[float, Field(gt=0)]


class ProbeParams(Params):
    protocol: Literal["tuned", "fixed", "mteb"] = Field(
        default="tuned",
        description="tuned: C / alpha chosen by cross-validation on the training split; "
        "fixed: C / alpha as given; mteb: MTEB's LogisticRegression(C=1, max_iter=100) "
        "on raw features",
    )
    C: float = Field(default=1.0, gt=0, description="inverse L2 strength (fixed; tuned fallback)")
    alpha: float = Field(default=1.0, gt=0, description="L2 strength (regression, fixed)")
    Cs: tuple[Positive, ...] = Field(default=C_GRID, min_length=1,
                                     description="C values tried (tuned)")
    alphas: tuple[Positive, ...] = Field(default=ALPHA_GRID, min_length=1,
                                         description="alpha values tried (tuned)")
    cv: int = Field(default=5, ge=2, le=20, description="folds for choosing C (tuned)")
    max_iter: int = Field(default=1000, ge=10)
    class_weight: Literal["balanced"] | None = None
    standardize: bool = True


@dataclass(frozen=True)
class HeadFit:
    """A fitted head and the regularisation it was fitted with.

    ``regularization`` is ``{"C": value}`` or ``{"alpha": value}`` (empty for a head
    without one); ``note`` says why a tuned value fell back to the fixed one.
    """

    head: Any
    regularization: dict[str, float]
    note: str | None = None
    tune_s: float = 0.0


def _own_head_regularization(head: Any) -> dict[str, float]:
    params = head.get_params() if hasattr(head, "get_params") else {}
    return {k: float(params[k]) for k in ("C", "alpha") if isinstance(params.get(k), float | int)}


def fit_head(model: Any, task: Task, params: ProbeParams, x: Any, y: np.ndarray, seed: int,
             fold_seed: Any) -> HeadFit:
    """Fit the head for ``params.protocol`` on training features ``x`` and targets ``y``
    alone; ``fold_seed`` seeds the folds that choose ``C``. Small problems run on one
    BLAS thread (see :mod:`adapteval.transferability.threads`)."""
    k = 1 if task.is_regression else len(task.classes or ())
    with blas_threads(float(x.shape[0]) * x.shape[1] * max(k, 1)):
        return _fit_head(model, task, params, x, y, seed, fold_seed)


def _fit_head(model: Any, task: Task, params: ProbeParams, x: Any, y: np.ndarray, seed: int,
              fold_seed: Any) -> HeadFit:
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    override = model.head(task.is_regression) if hasattr(model, "head") else None
    if override is not None:
        return HeadFit(override.fit(x, y), _own_head_regularization(override))
    if params.protocol == "mteb":
        if task.is_regression:
            return HeadFit(LinearRegression().fit(x, y), {"alpha": 0.0})
        head = LogisticRegression(C=1.0, max_iter=MTEB_MAX_ITER, random_state=MTEB_SEED)
        return HeadFit(head.fit(x, y), {"C": 1.0})
    import scipy.sparse as sp  # imported where used: reading results needs none

    scale = not sp.issparse(x) and params.standardize
    t0 = time.perf_counter()
    value, note = (params.alpha if task.is_regression else params.C), None
    if params.protocol == "tuned":
        xs = StandardScaler().fit_transform(x) if scale else x
        if task.is_regression:
            value = select_alpha(xs, y, params.alphas).value
        elif (fold := stratified_folds(y, params.cv, fold_seed)) is None:
            note = f"C fixed at {params.C:g}, not cross-validated: {too_few_reason(y, task.classes)}"
        else:
            value = select_c(xs, y, fold, params.Cs, max_iter=params.max_iter,
                             class_weight=params.class_weight, random_state=seed).value
    tune_s = time.perf_counter() - t0 if params.protocol == "tuned" else 0.0
    if task.is_regression:
        head, reg = Ridge(alpha=value), {"alpha": value}
    else:
        head = LogisticRegression(C=value, max_iter=params.max_iter,
                                  class_weight=params.class_weight, random_state=seed)
        reg = {"C": value}
    head = make_pipeline(StandardScaler(), head) if scale else head
    return HeadFit(head.fit(x, y), reg, note, tune_s)


class ProbePredictor(Predictor):
    """Frozen features and one or more fitted heads (k-shot averages its draws' heads).

    Each head comes with the training view it was fitted on. New texts are embedded
    through the cell's cached embedder; a non-pretrained model (TF-IDF) is refitted on
    each head's own training texts first (deterministic), so every head sees the feature
    space it was trained in.
    """

    kind = "frozen"

    def __init__(self, ctx: CellContext, fits: list[View], heads: list[Any]) -> None:
        super().__init__(ctx.task)
        assert len(fits) == len(heads)
        self.ctx, self.fits, self.heads = ctx, fits, heads

    def features(self, texts: list[str], pairs: list[str] | None = None, *, head: int = 0) -> Any:
        """Features of new texts in the space of head ``head`` (the same space for every
        head of a pretrained encoder)."""
        view = View(list(texts), list(pairs) if pairs is not None else None, np.zeros(len(texts)))
        return frozen_features(self.ctx, self.fits[head], [view])[0]

    def _head_output(self, head: Any, x: Any) -> np.ndarray:
        if self.regression:
            return head.predict(x).astype(np.float64)
        return head_proba(head, x, len(self.task.classes or ()))

    def head_scores(self, x: Any) -> np.ndarray:
        """Outputs on shared features ``x`` (averaged over heads); pretrained encoders only."""
        return np.mean([self._head_output(h, x) for h in self.heads], axis=0)

    def scores(self, texts: list[str], pairs: list[str] | None = None) -> np.ndarray:
        if not len(texts):
            k = len(self.task.classes or ())
            return np.zeros(0) if self.regression else np.zeros((0, k))
        if self.ctx.model.pretrained:
            return self.head_scores(self.features(texts, pairs))
        return np.mean([self._head_output(h, self.features(texts, pairs, head=i))
                        for i, h in enumerate(self.heads)], axis=0)


def head_proba(head: Any, x: Any, k: int) -> np.ndarray:
    """Class probabilities over all k task classes (a head may have seen fewer)."""
    proba = np.zeros((x.shape[0], k))
    proba[:, head.classes_] = head.predict_proba(x)
    return proba


def fit_predict(
    ctx: CellContext, params: ProbeParams, fit: View, test: View, fold_seed: Any = None
) -> tuple[np.ndarray, np.ndarray | None, dict[str, Any], HeadFit]:
    """Fit a head on ``fit`` and predict ``test``: (y_pred, proba or None, timings, head).

    ``fold_seed`` seeds the folds that tune the head (default: the cell seed)."""
    t0 = time.perf_counter()
    x_fit, x_test = frozen_features(ctx, fit, [fit, test])
    t1 = time.perf_counter()
    fold_seed = [ctx.seed] if fold_seed is None else fold_seed
    fitted = fit_head(ctx.model, ctx.task, params, x_fit, fit.y, ctx.seed, fold_seed)
    t2 = time.perf_counter()
    timing = {"features_s": t1 - t0, "fit_s": t2 - t1, "tune_s": fitted.tune_s}
    head = fitted.head
    if ctx.task.is_regression:
        return head.predict(x_test).astype(np.float64), None, timing, fitted
    proba = head_proba(head, x_test, len(ctx.task.classes or ()))
    return proba.argmax(1), proba, timing, fitted


def regularization_info(fits: list[HeadFit], *, draws: bool = False) -> dict[str, Any]:
    """The info entries of the heads' regularisation: the value (the median over the
    heads; with ``draws``, each head's value in ``regularization_draws``) and any note."""
    values = [f.regularization for f in fits]
    out: dict[str, Any] = {}
    if values[0]:
        (key,) = values[0]
        out["regularization"] = {key: float(np.median([v[key] for v in values]))}
        if draws:
            out["regularization_draws"] = [v[key] for v in values]
    notes = sorted({f.note for f in fits if f.note})
    if notes:
        out["regularization_note"] = "; ".join(notes)
    return out


@STRATEGIES.register
class Probe(Strategy):
    name = "probe"
    description = "frozen encoder + logistic regression (classification) / ridge (regression)"
    rung = 3
    Params = ProbeParams
    modalities = frozenset({TEXT, TEXT_PAIR, IMAGE})  # a pair is [u, v, |u - v|, u * v]
    task_types = frozenset(TASK_TYPES)

    def fit(self, ctx: CellContext) -> Fitted:
        train, test = ctx.split.train, ctx.split.test
        y_pred, proba, timing, fitted = fit_predict(ctx, self.params, train, test)
        info = {"n_train": len(train), "n_test": len(test), **timing,
                **regularization_info([fitted])}
        preds = Predictions(
            test.y, y_pred[None], proba[None] if proba is not None else None, test.rows, info,
        )
        return Fitted(ProbePredictor(ctx, [train], [fitted.head]), preds)
