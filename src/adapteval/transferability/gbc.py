"""GBC: Gaussian Bhattacharyya Coefficient.

Pándy, Agostinelli, Uijlings, Ferrari and Mensink, "Transferability Estimation using
Bhattacharyya Class Separability", CVPR 2022.

Each class ``c`` is modelled as a Gaussian ``N(mu_c, Sigma_c)`` with diagonal
covariance in the feature space. For two classes, with ``Sigma = (Sigma_i +
Sigma_j) / 2``, the Bhattacharyya distance and coefficient are::

    D_B = 1/8 (mu_i - mu_j)' Sigma^-1 (mu_i - mu_j)
          + 1/2 log( det Sigma / sqrt(det Sigma_i det Sigma_j) )
    BC  = exp(-D_B)

and ``GBC = - sum_{i != j} BC(c_i, c_j)`` (ordered pairs): 0 for perfectly separated
classes, more negative the more classes overlap.

Features are first projected on their leading principal components
(``pca_components``, default 64; ``None`` keeps the raw features), computed with a
deterministic SVD that the other estimators of the same features share
(:mod:`adapteval.transferability.spectra`). Variances are floored at ``1e-10`` times
the mean feature variance so singleton or constant classes stay finite.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adapteval.transferability.inputs import check_int, classification_inputs, one_hot
from adapteval.transferability.spectra import centred_svd
from adapteval.transferability.threads import blas_threads, svd_work

_VAR_FLOOR = 1e-10


def principal_components(x: np.ndarray, k: int) -> np.ndarray:
    """Scores of the centred ``x`` on its ``k`` leading principal directions."""
    if k >= x.shape[1]:
        return x - x.mean(axis=0)
    svd = centred_svd(x)
    k = min(k, len(svd.s))
    return svd.u[:, :k] * svd.s[:k]


def class_gaussians(
    x: np.ndarray, codes: np.ndarray, n_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-class means and (floored, biased) diagonal variances, ``C x d`` each."""
    onehot = one_hot(codes, n_classes)
    counts = onehot.sum(axis=0)[:, None]
    means = (onehot.T @ x) / counts
    spread = x - means[codes]
    variances = (onehot.T @ spread**2) / counts
    floor = _VAR_FLOOR * max(float(x.var(axis=0).mean()), np.finfo(np.float64).tiny)
    return means, np.maximum(variances, floor)


def gbc(features: Any, labels: Any, *, pca_components: int | None = 64) -> float:
    """GBC score (Pándy et al., CVPR 2022): higher (closer to 0) is better."""
    x, codes, n_classes = classification_inputs(features, labels)
    with blas_threads(svd_work(*x.shape)):
        if pca_components is not None:
            x = principal_components(x, check_int(pca_components, "pca_components", 1))
        means, variances = class_gaussians(x, codes, n_classes)
    log_var = np.log(variances)
    total = 0.0
    for i in range(n_classes):
        pooled = 0.5 * (variances[i] + variances)
        dist = 0.125 * np.sum((means[i] - means) ** 2 / pooled, axis=1) + 0.5 * np.sum(
            np.log(pooled) - 0.5 * (log_var[i] + log_var), axis=1
        )
        dist[i] = np.inf
        total += float(np.sum(np.exp(-dist)))
    return -total
