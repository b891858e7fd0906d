"""k-shot probe: the frozen probe trained on k examples per label, resampled.

Each of ``n_experiments`` draws ``samples_per_label`` training items per class (or
``n_samples`` items for regression) with a generator seeded by (seed, experiment), fits
the probe and predicts the whole test split. Scores are the mean over experiments,
with their spread.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from adapteval.contracts.strategy import STRATEGIES, CellContext, Fitted, Predictions, Strategy
from adapteval.core.plugin import TASK_TYPES, TEXT, TEXT_PAIR
from adapteval.data.task import View
from adapteval.strategies.probe import ProbeParams, ProbePredictor, fit_predict


class KShotParams(ProbeParams):
    samples_per_label: int = Field(default=8, ge=1, le=100_000)
    n_experiments: int = Field(default=5, ge=1, le=1000)
    n_samples: int = Field(default=32, ge=2, description="training items per draw (regression)")


def draw(train: View, params: KShotParams, seed: int, experiment: int, regression: bool) -> np.ndarray:
    """Indices of one k-shot training draw, sorted."""
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


@STRATEGIES.register
class KShot(Strategy):
    name = "kshot"
    description = "frozen probe on k examples per label, resampled n_experiments times"
    Params = KShotParams
    modalities = frozenset({TEXT, TEXT_PAIR})
    task_types = frozenset(TASK_TYPES)  # regression draws n_samples items

    def fit(self, ctx: CellContext) -> Fitted:
        """The predictor left for analyses averages the heads of all draws."""
        train, test = ctx.split.train, ctx.split.test
        preds, probas, heads, fits, fit_s = [], [], [], [], 0.0
        for e in range(self.params.n_experiments):
            sub = train.take(draw(train, self.params, ctx.seed, e, ctx.task.is_regression))
            y_pred, proba, timing, head = fit_predict(ctx, self.params, sub, test)
            heads.append(head)
            fits.append(sub)
            preds.append(y_pred)
            probas.append(proba)
            fit_s += timing["fit_s"]
            if ctx.progress is not None:
                ctx.progress("experiments", e + 1, self.params.n_experiments)
        predictions = Predictions(
            test.y,
            np.stack(preds),
            np.stack(probas) if probas[0] is not None else None,
            test.rows,
            {"n_train": int(len(sub)), "n_test": len(test), "fit_s": fit_s},
        )
        return Fitted(ProbePredictor(ctx, fits, heads), predictions)
