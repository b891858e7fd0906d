"""Image predictors and contexts for the image analysis tests, on the shared contract:
image items are uint8 (H, W, 3) arrays and an analysis reaches the adapted model only
through ``predictor.scores(items, None)``.

- ``PlantedRule``: class 1 exactly when the top-left 8x8 patch is bright (a known answer
  for attribution: only that patch matters).
- ``PixelLinear``: scikit-learn's linear discriminant analysis (a linear softmax
  classifier) on 14x14 grey pixels, trained on real Fashion-MNIST images (a real,
  imperfect classifier, fitted in well under a second).

``image_context`` builds the context an analysis of one image cell receives; the task is a
small stand-in with the fields analyses read (name, classes, type, modality), until image
tasks are read from files by the task readers.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from adapteval.contracts.analysis import AnalysisContext
from adapteval.contracts.strategy import Predictions, Predictor
from adapteval.data.task import Split, View


@dataclass(frozen=True)
class ImageTask:
    name: str
    classes: tuple[str, ...]
    type: str = "multiclass"
    modality: str = "image"

    @property
    def is_regression(self) -> bool:
        return False


class PlantedRule(Predictor):
    """p(class 1) rises steeply with the mean brightness of the top-left 8x8 patch."""

    def scores(self, items, pairs=None):
        bright = np.array([float(im[:8, :8].mean()) for im in items])
        p1 = 1.0 / (1.0 + np.exp(-(bright - 100.0) / 8.0))
        return np.stack([1 - p1, p1], axis=1)


class PixelLinear(Predictor):
    """A linear classifier on 2x2-pooled grey pixels (scaled to [0, 1])."""

    def __init__(self, task, images, labels):
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

        super().__init__(task)
        self.clf = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto").fit(
            self.features(images), labels)

    @staticmethod
    def features(images):
        x = np.stack([im.mean(-1) for im in images]) / 255.0
        n, h, w = x.shape
        return x[:, : h // 2 * 2, : w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2).mean((2, 4)) \
            .reshape(n, -1)

    def scores(self, items, pairs=None):
        return self.clf.predict_proba(self.features(items))


def planted_images(n: int, seed: int = 0, size: int = 32) -> tuple[list[np.ndarray], np.ndarray]:
    """Random dim colour images; the top-left 8x8 patch is bright in half of them (their
    label is 1). Elsewhere a bright distractor patch appears at random."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for i in range(n):
        im = rng.integers(0, 90, size=(size, size, 3), dtype=np.uint8)
        y, x = rng.integers(8, size - 8, size=2)
        im[y:y + 8, x:x + 8] = rng.integers(180, 256, size=(8, 8, 3), dtype=np.uint8)
        if i % 2:
            im[:8, :8] = rng.integers(170, 256, size=(8, 8, 3), dtype=np.uint8)
        images.append(im)
        labels.append(i % 2)
    return images, np.array(labels)


def image_context(predictor: Predictor, images, labels, *, seed: int = 0,
                  name: str = "images") -> AnalysisContext:
    task = predictor.task
    view = View(list(images), None, np.asarray(labels), rows=np.arange(len(images)) + 1000)
    proba = predictor.scores(view.items)
    preds = Predictions(view.y, proba.argmax(1)[None], proba[None], view.rows)
    cell = SimpleNamespace(task=task, seed=seed, key=f"cell-{name}",
                           strategy=SimpleNamespace(name="probe", frozen=True),
                           model=SimpleNamespace(label="pixels"))
    return AnalysisContext(cell, Split(view, view), preds, predictor)
