"""Non-pretrained reference models: majority class and TF-IDF + a linear model.

They answer "how much does pretraining buy at all?". Unlike pretrained encoders they
are fitted on the training texts a strategy sees (TF-IDF learns its vocabulary there).
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

