"""Frozen probe: a linear model on fixed features.

Classification fits logistic regression (on standardised features for dense
embeddings), regression fits ridge. The encoder never changes, so the probe measures
what the pretrained representation already knows.
"""

from __future__ import annotations

import time
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from pydantic import Field

from adapteval.contracts.strategy import (
    STRATEGIES,
    CellContext,
    Fitted,
    Predictions,
    Predictor,
    Strategy,
)
from adapteval.core.plugin import TASK_TYPES, TEXT, TEXT_PAIR, Params
from adapteval.data.task import Task, View
from adapteval.strategies.frozen import frozen_features


class ProbeParams(Params):
    C: float = Field(default=1.0, gt=0, description="inverse L2 strength (classification)")
    alpha: float = Field(default=1.0, gt=0, description="L2 strength (regression)")
    max_iter: int = Field(default=1000, ge=10)
    class_weight: Literal["balanced"] | None = None
    standardize: bool = True


def make_head(model: Any, task: Task, params: ProbeParams, seed: int, dense: bool):
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    override = model.head(task.is_regression) if hasattr(model, "head") else None
    if override is not None:
        return override
    if task.is_regression:
        head = Ridge(alpha=params.alpha)
    else:
        head = LogisticRegression(
            C=params.C, max_iter=params.max_iter, class_weight=params.class_weight,
            random_state=seed,
        )
    return make_pipeline(StandardScaler(), head) if dense and params.standardize else head


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
    ctx: CellContext, params: ProbeParams, fit: View, test: View
) -> tuple[np.ndarray, np.ndarray | None, dict[str, Any], Any]:
    """Fit a head on ``fit`` and predict ``test``: (y_pred, proba or None, timings, head)."""
    t0 = time.perf_counter()
    x_fit, x_test = frozen_features(ctx, fit, [fit, test])
    t1 = time.perf_counter()
    head = make_head(ctx.model, ctx.task, params, ctx.seed, dense=not sp.issparse(x_fit))
    head.fit(x_fit, fit.y)
    t2 = time.perf_counter()
    timing = {"features_s": t1 - t0, "fit_s": t2 - t1}
    if ctx.task.is_regression:
        return head.predict(x_test).astype(np.float64), None, timing, head
    proba = head_proba(head, x_test, len(ctx.task.classes or ()))
    return proba.argmax(1), proba, timing, head


@STRATEGIES.register
class Probe(Strategy):
    name = "probe"
    description = "frozen encoder + logistic regression (classification) / ridge (regression)"
    Params = ProbeParams
    modalities = frozenset({TEXT, TEXT_PAIR})  # a pair is [u, v, |u - v|, u * v]
    task_types = frozenset(TASK_TYPES)

    def fit(self, ctx: CellContext) -> Fitted:
        train, test = ctx.split.train, ctx.split.test
        y_pred, proba, timing, head = fit_predict(ctx, self.params, train, test)
        preds = Predictions(
            test.y, y_pred[None], proba[None] if proba is not None else None, test.rows,
            {"n_train": len(train), "n_test": len(test), **timing},
        )
        return Fitted(ProbePredictor(ctx, [train], [head]), preds)
