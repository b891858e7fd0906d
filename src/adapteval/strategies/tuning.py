"""Fair tuning: choose a strategy's parameters on data carved from its training split.

Every combination of the declared ``space`` is fitted on the training items minus a
validation part (seeded, stratified), and scored on that part with the task's first
metric (accuracy for classification, Spearman for regression); the best (ties:
the first listed) is refitted on all training items and predicts the test split. The
test split never reaches selection: each selection fit gets a split whose train and
"test" are both training items, checked by :func:`check_disjoint` before it runs. A
trained strategy's own early stopping then carves its validation from the selection
fit's training part, never from the held-out part nor the test split.

``protocol: vtab1k`` is VTAB-1k's: 1000 training items drawn (seeded; all when fewer),
selection on 800 / 200, the chosen values refitted on the 1000.

Inside a learning curve the tuning runs on each point's drawn items, so selection is
nested in the draw. The chosen values and every candidate's validation score are in
the cell's info as ``tuning``.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import numpy as np

from adapteval.contracts.strategy import CellContext, Fitted, Strategy
from adapteval.core.errors import ConfigError
from adapteval.data.task import Split, Task, View
from adapteval.metrics import metrics_for, score
from adapteval.strategies.text_batches import carve_validation

VTAB_TRAIN, VTAB_VALIDATION = 1000, 200


class LeakError(RuntimeError):
    """A selection fit was about to see test items."""


def check_disjoint(selection: Split, test: View) -> None:
    """Refuse a selection fit that holds any test row (in its train or its held-out part)."""
    for part in (selection.train, selection.test):
        leaked = np.intersect1d(part.rows, test.rows)
        if leaked.size:
            raise LeakError(f"{leaked.size} test rows reached tuning (first: row {leaked[0]})")


def combinations(space: dict[str, list[Any]]) -> list[dict[str, Any]]:
    names = list(space)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*space.values())]


class Tuned(Strategy):
    """``inner`` with its parameters chosen on a validation part of the training data.
    Not registered: the plan builds it from a strategy entry's ``tune:``; stored cells
    keep the inner strategy's name, their config adds ``tune``."""

    def __init__(self, inner: Strategy, space: dict[str, list[Any]], validation: float = 0.2,
                 protocol: str = "holdout", *, where: str | None = None) -> None:
        self.inner, self.space, self.validation, self.protocol = inner, space, validation, protocol
        base = inner.params.model_dump()
        for name in space:
            if name not in base:
                raise ConfigError(
                    f"tune.space names {name!r}, not a parameter of strategy {inner.name!r}",
                    where=where, fix=f"use some of: {', '.join(base)}")
        self.candidates = [self._with(c, where) for c in combinations(space)]
        super().__init__(inner.params)
        self.name = inner.name
        self.description = inner.description
        self.frozen, self.embeds = inner.frozen, inner.embeds
        self.modalities, self.task_types, self.rung = inner.modalities, inner.task_types, inner.rung

    def _with(self, values: dict[str, Any], where: str | None) -> Strategy:
        return type(self.inner).from_params({**self.inner.params.model_dump(), **values},
                                            where=where)

    def config(self) -> dict[str, Any]:
        return {**self.inner.config(), "tune": {"space": self.space, "validation":
                                                self.validation, "protocol": self.protocol}}

    def supports(self, model_kind: Any) -> bool:
        return self.inner.supports(model_kind)

    def check_task(self, task: Task) -> None:
        self.inner.check_task(task)

    def training(self, task: Task, train: View, seed: int) -> np.ndarray:
        """Indices of the training items the protocol uses (all, or VTAB's 1000)."""
        if self.protocol != "vtab1k" or len(train) <= VTAB_TRAIN:
            return np.arange(len(train))
        rng = np.random.default_rng([seed, VTAB_TRAIN])
        return np.sort(rng.choice(len(train), size=VTAB_TRAIN, replace=False))

    def carve(self, task: Task, train: View, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """(selection-fit, held-out) indices into ``train``."""
        fraction = (VTAB_VALIDATION / VTAB_TRAIN if self.protocol == "vtab1k"
                    else self.validation)
        k = None if task.is_regression else len(task.classes or ())
        return carve_validation(train, fraction, seed, k)

    def selection(self, train: View, fit_idx: np.ndarray, val_idx: np.ndarray,
                  split: Split) -> Split:
        """The split every candidate is fitted and scored on: the selection-fit part
        and, as its "test", the held-out part, both from ``train`` alone (``split``, the
        cell's, is given so that the leak check has something to catch)."""
        return Split(train.take(fit_idx), train.take(val_idx), None)

    def embedded(self, task: Task, split: Split, seed: int) -> list[View]:
        train = split.train.take(self.training(task, split.train, seed))
        return self.inner.embedded(task, Split(train, split.test, None), seed)

    def fit(self, ctx: CellContext) -> Fitted:
        train = ctx.split.train.take(self.training(ctx.task, ctx.split.train, ctx.seed))
        fit_idx, val_idx = self.carve(ctx.task, train, ctx.seed)
        metric = metrics_for(ctx.task.type, None)[0]
        trials: list[dict[str, Any]] = []
        best, best_score = 0, None
        if len(self.candidates) > 1 and len(val_idx):
            selection = self.selection(train, fit_idx, val_idx, ctx.split)
            check_disjoint(selection, ctx.split.test)
            for i, candidate in enumerate(self.candidates):
                preds = candidate.fit(dataclasses.replace(ctx, split=selection)).predictions
                value = score(metric, y_true=preds.y_true, y_pred=preds.y_pred,
                              proba=preds.proba, n_classes=len(ctx.task.classes or ()) or None,
                              idx=np.arange(len(preds.y_true))[None]).value
                trials.append({**combinations(self.space)[i], metric.name: value})
                better = best_score is None or (
                    value > best_score if metric.higher_is_better else value < best_score)
                if np.isfinite(value) and better:
                    best, best_score = i, value
        chosen = combinations(self.space)[best]
        fitted = self.candidates[best].fit(dataclasses.replace(
            ctx, split=Split(train, ctx.split.test, ctx.split.validation)))
        note = (None if trials else "one candidate or too few items to hold out: "
                "the first values are used")
        fitted.predictions.info["tuning"] = {
            "chosen": chosen, "metric": metric.name, "protocol": self.protocol,
            "n_selection_fit": int(len(fit_idx)), "n_validation": int(len(val_idx)),
            "n_refit": len(train), "trials": trials, **({"note": note} if note else {})}
        return fitted

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.inner, self.space, self.validation, self.protocol))


def _rebuild(inner: Strategy, space: dict[str, list[Any]], validation: float,
             protocol: str) -> Tuned:
    return Tuned(inner, space, validation, protocol)
