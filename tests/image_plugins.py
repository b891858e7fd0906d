"""A test-only image strategy and model kind, so image tasks run end to end through the
plan, the store, the analyses and the reports without a pretrained vision model:
``test-pixel-probe`` fits a linear classifier (scikit-learn's LDA) on 2x2-pooled grey
pixels; ``test-pixels`` is the model it adapts (nothing to load: the strategy reads the
pixels). ``registered()`` adds both for the duration of a ``with`` block."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from adapteval.contracts.strategy import STRATEGIES, Fitted, Predictions, Predictor, Strategy
from adapteval.core.plugin import IMAGE
from adapteval.models.kinds import MODEL_KINDS, ModelKind


class PooledPixels(Predictor):
    clf = None

    @staticmethod
    def features(images) -> np.ndarray:
        x = np.stack([im.mean(-1) for im in images]) / 255.0
        n, h, w = x.shape
        return x[:, : h // 2 * 2, : w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2).mean((2, 4)) \
            .reshape(n, -1)

    def scores(self, items, pairs=None):
        return self.clf.predict_proba(self.features(items))


class PixelProbe(Strategy):
    """A linear classifier on pooled pixels (the test's own image strategy)."""

    name = "test-pixel-probe"
    description = "a linear classifier on 2x2-pooled grey pixels"
    modalities = frozenset({IMAGE})
    embeds = False

    def fit(self, ctx):
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

        train, test = ctx.split.train, ctx.split.test
        predictor = PooledPixels(ctx.task)
        predictor.clf = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto").fit(
            PooledPixels.features(train.items), train.y)
        proba = predictor.scores(test.items)
        info = {"n_train": len(train), "n_test": len(test)}
        return Fitted(predictor, Predictions(test.y, proba.argmax(1)[None], proba[None],
                                             test.rows, info))


class Pixels(ModelKind):
    name = "test-pixels"
    description = "raw pixels: the test's strategy reads the images itself"
    modalities = frozenset({IMAGE})

    def resolve(self, spec, base_dir, *, where):
        return self.ref(spec, None, "test-pixels-v1")

    def load(self, ref):
        return None


MODEL = {"source": "pixels", "kind": "test-pixels"}


@contextmanager
def registered() -> Iterator[None]:
    STRATEGIES.register(PixelProbe, replace=True)
    MODEL_KINDS.register(Pixels(), replace=True)
    try:
        yield
    finally:
        STRATEGIES._items.pop("test-pixel-probe", None)
        MODEL_KINDS._items.pop("test-pixels", None)
