"""Transferability estimators: rank pretrained models from frozen features.

Each estimator scores how well a model's frozen features (``n x d``, one row per
sample) suit a labelled task, without fine-tuning. Use them to rank candidate
models on the same data; the scales of different estimators are not comparable.

``ESTIMATORS`` is the registry of :class:`Estimator` plugins (entry-point group
``adapteval.estimators``); :func:`estimate` runs several on the same features::

    from adapteval.transferability import estimate
    scores = estimate(features, labels, ["logme", "hscore"])
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

from adapteval.core.errors import ConfigError, IncompatibleError
from adapteval.core.plugin import MODALITIES, Params
from adapteval.core.registry import Registry
from adapteval.transferability.gbc import gbc
from adapteval.transferability.hscore import hscore
from adapteval.transferability.inputs import (
    as_features,
    as_targets,
    encode_labels,
)
from adapteval.transferability.knn import knn_loo_accuracy
from adapteval.transferability.linear import logistic_cv_score
from adapteval.transferability.logme import EvidenceFit, evidence_fit, logme
from adapteval.transferability.ridge import linear_cv_score
from adapteval.transferability.spectra import shared_spectra
from adapteval.transferability.transrate import transrate

__all__ = [
    "ESTIMATORS",
    "Estimator",
    "EvidenceFit",
    "estimate",
    "estimate_with_seconds",
    "evidence_fit",
    "gbc",
    "hscore",
    "knn_loo_accuracy",
    "linear_cv_score",
    "logistic_cv_score",
    "logme",
    "transrate",
]


@dataclass(frozen=True)
class Estimator:
    """One transferability estimator and what a caller needs to know about it.

    ``function(features, labels)`` returns a float; estimators with
    ``supports_regression`` also take ``regression=True`` for real-valued targets.
    """

    name: str
    function: Callable[..., float]
    higher_is_better: bool
    supports_regression: bool
    reference: str
    revision: int = 1  # raised when the method changes, so stored scores are recomputed
    Params: ClassVar[type[Params]] = Params  # estimators take no parameters
    modalities: ClassVar[frozenset[str]] = frozenset(MODALITIES)  # features of any input

    @property
    def description(self) -> str:
        return self.reference

    @property
    def task_types(self) -> frozenset[str]:
        kinds = {"binary", "multiclass"}
        return frozenset(kinds | {"regression"} if self.supports_regression else kinds)

    def __call__(self, features: Any, labels: Any, *, regression: bool = False) -> float:
        if regression and not self.supports_regression:
            raise IncompatibleError(
                f"estimator {self.name!r} needs class labels, not regression targets",
                fix="use logme or linear_cv for regression",
            )
        if self.supports_regression:
            return float(self.function(features, labels, regression=regression))
        return float(self.function(features, labels))


ESTIMATORS: Registry[Estimator] = Registry("estimators", "transferability estimator")
for _estimator in (
        Estimator(
            "logme",
            logme,
            higher_is_better=True,
            supports_regression=True,
            reference="You, Liu, Wang, Long. LogME: Practical Assessment of "
            "Pre-trained Models for Transfer Learning. ICML 2021.",
        ),
        Estimator(
            "hscore",
            hscore,
            higher_is_better=True,
            supports_regression=False,
            reference="Bao, Li, Huang, Zhang, Hu, Chen, Zhang. An Information-"
            "Theoretic Approach to Transferability in Task Transfer Learning. "
            "ICIP 2019.",
        ),
        Estimator(
            "hscore_shrinkage",
            partial(hscore, shrinkage=True),
            higher_is_better=True,
            supports_regression=False,
            reference="Ibrahim, Ponomareva, Mazumder. Newer is not always better: "
            "Rethinking transferability metrics, their peculiarities, stability and "
            "performance. ECML PKDD 2022.",
        ),
        Estimator(
            "knn_loo",
            knn_loo_accuracy,
            higher_is_better=True,
            supports_regression=False,
            reference="Cover, Hart. Nearest neighbor pattern classification. IEEE "
            "Trans. Information Theory 1967 (leave-one-out k-NN accuracy).",
        ),
        Estimator(
            "linear_cv",
            linear_cv_score,
            higher_is_better=True,
            supports_regression=True,
            reference="Kornblith, Shlens, Le. Do Better ImageNet Models Transfer "
            "Better? CVPR 2019 (linear evaluation); here a ridge probe scored by "
            "closed-form leave-one-out (Allen, Technometrics 1974).",
            revision=3,  # 2: logistic, C tuned inside each fold; 3: leave-one-out ridge
        ),
        Estimator(
            "gbc",
            gbc,
            higher_is_better=True,
            supports_regression=False,
            reference="Pándy, Agostinelli, Uijlings, Ferrari, Mensink. "
            "Transferability Estimation using Bhattacharyya Class Separability. "
            "CVPR 2022.",
        ),
        Estimator(
            "transrate",
            transrate,
            higher_is_better=True,
            supports_regression=False,
            reference="Huang, Huang, Rong, Yang, Wei. Frustratingly Easy "
            "Transferability Estimation. ICML 2022.",
        ),
):
    ESTIMATORS.register(_estimator)


def _lookup(name: str) -> Estimator:
    if name in ESTIMATORS:
        return ESTIMATORS.get(name)
    close = difflib.get_close_matches(name, list(ESTIMATORS), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ConfigError(
        f"unknown transferability estimator {name!r}",
        fix=f"{hint}valid estimators: {', '.join(ESTIMATORS)}",
    )


def estimate(
    features: Any,
    labels: Any,
    names: Sequence[str] | None = None,
    *,
    regression: bool = False,
) -> dict[str, float]:
    """Run several estimators on the same features; returns ``{name: score}``.

    ``names=None`` runs every registered estimator that fits the task (all of them
    for class labels, those with ``supports_regression`` for ``regression=True``).
    Inputs are checked once, before any estimator runs, and the estimators share
    their decompositions of the features (:mod:`adapteval.transferability.spectra`),
    so several at once cost less than each on its own.
    """
    return estimate_with_seconds(features, labels, names, regression=regression)[0]


def estimate_with_seconds(
    features: Any,
    labels: Any,
    names: Sequence[str] | None = None,
    *,
    regression: bool = False,
) -> tuple[dict[str, float], dict[str, float]]:
    """:func:`estimate`, with the seconds each estimator took (``{name: seconds}``).

    A decomposition shared by several estimators is counted once, under the first
    of them that needs it (in the order of ``names``).
    """
    if isinstance(names, str):
        names = [names]
    if names is None:
        chosen = [e for e in ESTIMATORS.values() if e.supports_regression or not regression]
    else:
        chosen = [_lookup(name) for name in names]
        for e in chosen:
            if regression and not e.supports_regression:
                raise IncompatibleError(
                    f"estimator {e.name!r} needs class labels, not regression targets",
                    fix="drop it from names or use logme / linear_cv",
                )
    x = as_features(features)
    if regression:
        as_targets(labels, x.shape[0])
    else:
        encode_labels(labels, x.shape[0])
    scores, seconds = {}, {}
    with shared_spectra():
        for e in chosen:
            t0 = time.perf_counter()
            scores[e.name] = e(x, labels, regression=regression)
            seconds[e.name] = time.perf_counter() - t0
    return scores, seconds
