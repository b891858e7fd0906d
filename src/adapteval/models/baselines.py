"""Non-pretrained reference models: majority class, TF-IDF + a linear model (text) and
downsampled pixels + a linear model (images).

They answer "how much does pretraining buy at all?". Unlike pretrained encoders they
are fitted on the training items a strategy sees (TF-IDF learns its vocabulary there).
"""

from __future__ import annotations

from typing import Any

import numpy as np


class MajorityBaseline:
    """Predicts the training prior (classification) or mean (regression)."""

    kind = "majority"
    pretrained = False

    def fit_transform(self, fit_texts: list[str], fit_pairs, views) -> list[np.ndarray]:
        return [np.zeros((len(texts), 1), dtype=np.float32) for texts, _ in views]

    def head(self, regression: bool) -> Any:
        from sklearn.dummy import DummyClassifier, DummyRegressor

        return DummyRegressor(strategy="mean") if regression else DummyClassifier(strategy="prior")


class TfidfBaseline:
    """TF-IDF of word 1-2 grams (sublinear tf) with logistic regression (C=10) or ridge;
    pairs use [a, b, a*b] blocks."""

    kind = "tfidf"
    pretrained = False

    def __init__(self, *, max_features: int = 50_000) -> None:
        self.max_features = max_features

    def vectorizer(self, fit_texts: list[str], fit_pairs=None) -> Any:
        """The TF-IDF vectorizer fitted on the training texts (and pair texts)."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(
            ngram_range=(1, 2), sublinear_tf=True, min_df=1, max_features=self.max_features
        )
        return vec.fit(list(fit_texts) + (list(fit_pairs) if fit_pairs is not None else []))

    def fit_transform(self, fit_texts: list[str], fit_pairs, views) -> list[Any]:
        vec = self.vectorizer(fit_texts, fit_pairs)
        out = []
        for texts, pairs in views:
            a = vec.transform(texts)
            if pairs is None:
                out.append(a)
            else:
                b = vec.transform(pairs)
                import scipy.sparse as sp  # imported where used: reading results needs none

                out.append(sp.hstack([a, b, a.multiply(b)]).tocsr())
        return out

    def head(self, regression: bool) -> Any:
        """Sparse unit-norm TF-IDF rows need weaker regularisation than dense embeddings."""
        from sklearn.linear_model import LogisticRegression, Ridge

        return Ridge(alpha=1.0) if regression else LogisticRegression(C=10.0, max_iter=2000)


PIXEL_SIDE = 16


def pixel_features(images: list[np.ndarray], side: int = PIXEL_SIDE) -> np.ndarray:
    """Each uint8 RGB image resized to ``side`` x ``side`` (Pillow, bilinear with its
    antialiasing when shrinking), as float32 values in [0, 1]: ``side * side * 3``
    columns, channels last."""
    from PIL import Image

    out = np.empty((len(images), side * side * 3), dtype=np.float32)
    for i, image in enumerate(images):
        small = Image.fromarray(np.asarray(image, dtype=np.uint8), "RGB").resize(
            (side, side), Image.Resampling.BILINEAR)
        out[i] = np.asarray(small, dtype=np.float32).reshape(-1) / 255.0
    return out


class PixelBaseline:
    """The images' own pixels, downsampled to 16 x 16 RGB (768 numbers), standardised,
    with logistic regression (C=1) or ridge: what a linear model learns without any
    pretraining, as TF-IDF is for text."""

    kind = "pixels"
    pretrained = False

    def transform(self, images: list[np.ndarray]) -> np.ndarray:
        return pixel_features(images)

    def fit_transform(self, fit_images, fit_pairs, views) -> list[np.ndarray]:
        return [pixel_features(images) for images, _ in views]

    def head(self, regression: bool) -> Any:
        from sklearn.linear_model import LogisticRegression, Ridge
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        linear = Ridge(alpha=1.0) if regression else LogisticRegression(C=1.0, max_iter=2000)
        return make_pipeline(StandardScaler(), linear)
