"""k-shot probe: the frozen probe trained on k examples per label, resampled.

Each of ``n_experiments`` draws ``samples_per_label`` training items per class (or
``n_samples`` items for regression) with a generator seeded by (seed, experiment), fits
the probe and predicts the whole test split. Scores are the mean over experiments,
with their spread. The probe's protocol applies inside each draw: ``tuned`` chooses
``C`` by stratified folds of that draw's items alone (with 8 items per label, 5 folds
of 6-7 training items per label; fewer folds for fewer items, the fixed ``C`` with the
reason recorded for one item per label).

``protocol: mteb`` follows MTEB's classification tasks exactly, so MTEB's published
numbers are reproduced: 10 experiments unless given, and MTEB's undersampling. One
index array over the training split is shuffled in place before each experiment by a
generator freshly seeded with 42, the same for every cell seed (so experiment e
applies the same permutation e + 1 times); each experiment takes, in that order, the
first ``samples_per_label`` items of each label. The head is MTEB's evaluator (see
:mod:`adapteval.strategies.probe`).

A class with fewer training items than ``samples_per_label`` contributes all it has;
the cell's info records it as ``capped`` (``{label: items available}``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field, model_validator

from adapteval.contracts.strategy import STRATEGIES, CellContext, Fitted, Predictions, Strategy
from adapteval.core.plugin import IMAGE, TASK_TYPES, TEXT, TEXT_PAIR
from adapteval.data.task import Split, Task, View
from adapteval.strategies.probe import (
    MTEB_SEED,
    ProbeParams,
    ProbePredictor,
    fit_predict,
    regularization_info,
)

MTEB_EXPERIMENTS = 10


class KShotParams(ProbeParams):
    samples_per_label: int = Field(default=8, ge=1, le=100_000)
    n_experiments: int = Field(default=5, ge=1, le=1000,
                               description="draws (default 10 with protocol mteb)")
    n_samples: int = Field(default=32, ge=2, description="training items per draw (regression)")

    @model_validator(mode="before")
    @classmethod
    def _mteb_experiments(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("protocol") == "mteb":
            return {"n_experiments": MTEB_EXPERIMENTS, **data}
        return data


def draw(train: View, params: KShotParams, seed: int, experiment: int, regression: bool) -> np.ndarray:
    """Indices of one k-shot training draw, sorted."""
    if params.protocol == "mteb" and not regression:
        return mteb_draws(train.y, params.samples_per_label, experiment + 1)[experiment]
    rng = np.random.default_rng([seed, experiment])
    if regression:
        n = min(params.n_samples, len(train))
        return np.sort(rng.choice(len(train), size=n, replace=False))
    picked = []
    for label in np.unique(train.y):
        members = np.flatnonzero(train.y == label)
        n = min(params.samples_per_label, len(members))
        picked.append(rng.choice(members, size=n, replace=False))
    return np.sort(np.concatenate(picked))


def mteb_draws(y: np.ndarray, samples_per_label: int, n_experiments: int,
               seed: int = MTEB_SEED) -> list[np.ndarray]:
    """MTEB's undersampling of training labels ``y``: the sorted indices of each
    experiment's items (see the module docstring)."""
    step = np.random.RandomState(seed).permutation(len(y))  # one in-place shuffle
    order = np.arange(len(y))
    draws = []
    for _ in range(n_experiments):
        order = order[step]
        labels = y[order]
        by_label = np.argsort(labels, kind="stable")
        first = np.searchsorted(labels[by_label], labels[by_label], side="left")
        rank = np.empty(len(y), dtype=np.int64)
        rank[by_label] = np.arange(len(y)) - first  # position among its label's items
        draws.append(np.sort(order[rank < samples_per_label]))
    return draws


def capped(task: Task, train: View, samples_per_label: int) -> dict[str, int]:
    """Classes with fewer training items than asked: ``{label: items available}``."""
    classes = task.classes or ()
    counts = np.bincount(np.asarray(train.y, dtype=np.int64), minlength=len(classes))
    return {str(classes[c]): int(n) for c, n in enumerate(counts) if n < samples_per_label}


@STRATEGIES.register
class KShot(Strategy):
    name = "kshot"
    description = "frozen probe on k examples per label, resampled n_experiments times"
    rung = 2
    Params = KShotParams
    modalities = frozenset({TEXT, TEXT_PAIR, IMAGE})  # it works on features
    task_types = frozenset(TASK_TYPES)  # regression draws n_samples items

    def draws(self, task: Task, train: View, seed: int) -> list[np.ndarray]:
        """The sorted training indices of each experiment."""
        regression = task.is_regression
        n = self.params.n_experiments
        if self.params.protocol == "mteb" and not regression:
            return mteb_draws(train.y, self.params.samples_per_label, n)
        return [draw(train, self.params, seed, e, regression) for e in range(n)]

    def embedded(self, task: Task, split: Split, seed: int) -> list[View]:
        """The union of the draws and the test split: nothing else is encoded."""
        drawn = np.unique(np.concatenate(self.draws(task, split.train, seed)))
        return [split.train.take(drawn), split.test]

    def fit(self, ctx: CellContext) -> Fitted:
        """The predictor left for analyses averages the heads of all draws."""
        train, test = ctx.split.train, ctx.split.test
        regression = ctx.task.is_regression
        n = self.params.n_experiments
        indices = self.draws(ctx.task, train, ctx.seed)
        preds, probas, heads, fits, fit_s, tune_s = [], [], [], [], 0.0, 0.0
        for e, idx in enumerate(indices):
            sub = train.take(idx)
            y_pred, proba, timing, fitted = fit_predict(
                ctx, self.params, sub, test, fold_seed=[ctx.seed, e, 1])
            heads.append(fitted)
            fits.append(sub)
            preds.append(y_pred)
            probas.append(proba)
            fit_s += timing["fit_s"]
            tune_s += timing["tune_s"]
            if ctx.progress is not None:
                ctx.progress("experiments", e + 1, n)
        info = {"n_train": int(len(sub)), "n_test": len(test), "fit_s": fit_s, "tune_s": tune_s,
                **regularization_info(heads, draws=True)}
        if not regression and (short := capped(ctx.task, train, self.params.samples_per_label)):
            info["capped"] = short
        predictions = Predictions(
            test.y,
            np.stack(preds),
            np.stack(probas) if probas[0] is not None else None,
            test.rows,
            info,
        )
        return Fitted(ProbePredictor(ctx, fits, [h.head for h in heads]), predictions)
