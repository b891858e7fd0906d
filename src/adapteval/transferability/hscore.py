"""H-score and its shrinkage-regularised variant.

Bao, Li, Huang, Zhang, Hu, Chen and Zhang, "An Information-Theoretic Approach to
Transferability in Task Transfer Learning", ICIP 2019::

    H(f) = tr( cov(f)^-1 cov(E[f | y]) )

Ibrahim, Ponomareva and Mazumder, "Newer is not always better: Rethinking
transferability metrics, their peculiarities, stability and performance", ECML PKDD
2022, replace ``cov(f)`` by the Ledoit-Wolf shrinkage estimate
``(1 - s) cov(f) + s mu I`` (``mu = tr cov(f) / d``) and the between-class covariance
by ``(1 - s) cov(E[f | y])``.

Both are computed from one thin SVD of the centred features ``X = U diag(s) V'``.
With ``E`` the ``n x C`` matrix whose column ``c`` is the indicator of class ``c``
divided by ``sqrt(n_c)``, ``cov(E[f|y]) = X' E E' X / n`` and ``cov(f) = X' X / n``,
so the pseudo-inverse form collapses to ``H = ||U_r' E||_F^2`` over the ``r``
numerically non-zero singular values: no matrix is inverted, and the score is
exactly invariant to any invertible linear map of the features. It lies in
``[0, C - 1]``. The shrunk score weights the same terms by
``(1 - s) lambda_i / ((1 - s) lambda_i + s mu)`` with ``lambda_i = s_i^2 / n``. The SVD
is shared with the other estimators of the same features
(:mod:`adapteval.transferability.spectra`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adapteval.core.errors import ConfigError
from adapteval.transferability.inputs import classification_inputs, one_hot
from adapteval.transferability.spectra import centred_svd
from adapteval.transferability.threads import blas_threads, svd_work


def ledoit_wolf_shrinkage(sq_norms: np.ndarray, eigvals: np.ndarray, d: int) -> float:
    """Ledoit-Wolf shrinkage intensity from the spectrum of centred data.

    ``sq_norms`` are the squared norms of the centred samples and ``eigvals`` the
    non-zero eigenvalues of the (biased) sample covariance ``S`` of dimension ``d``.
    Ledoit and Wolf, "A well-conditioned estimator for large-dimensional covariance
    matrices", J. Multivariate Analysis 2004: ``min(b, delta) / delta`` with
    ``delta = ||S - mu I||_F^2 / d`` and
    ``b = (sum_i ||x_i||^4 / n - ||S||_F^2) / (n d)``.
    """
    n = len(sq_norms)
    mu = float(eigvals.sum()) / d
    frob2 = float(np.sum(eigvals**2))
    delta = (frob2 - 2.0 * mu * float(eigvals.sum()) + d * mu**2) / d
    b = (float(np.sum(sq_norms**2)) / n - frob2) / (n * d)
    b = min(max(b, 0.0), delta)
    return 0.0 if delta <= 0.0 else b / delta


def hscore(features: Any, labels: Any, *, shrinkage: bool | float = False) -> float:
    """H-score (Bao et al., ICIP 2019): higher means better class separation.

    ``shrinkage=True`` gives the regularised H-score of Ibrahim et al. (2022) with
    the Ledoit-Wolf intensity; a float in ``[0, 1]`` fixes the intensity instead.
    The plain score uses the pseudo-inverse of ``cov(f)``; with more dimensions
    than samples it saturates at ``C - 1``, which is what shrinkage is for.
    """
    if isinstance(shrinkage, bool):
        fixed = None
    elif isinstance(shrinkage, (int, float)) and 0.0 <= shrinkage <= 1.0:
        fixed = float(shrinkage)
    else:
        raise ConfigError("shrinkage must be True, False or a number in [0, 1]", value=shrinkage)
    x, codes, n_classes = classification_inputs(features, labels)
    n, d = x.shape
    svd = centred_svd(x)
    centred, u, s = svd.centred, svd.u, svd.s
    with blas_threads(svd_work(n, d)):
        ue = u.T @ one_hot(codes, n_classes)  # U' E before the 1/sqrt(n_c) scaling
    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
    ue /= np.sqrt(counts)
    per_direction = np.sum(ue**2, axis=1)
    keep = s > s[0] * max(n, d) * np.finfo(np.float64).eps
    if shrinkage is False:
        return float(per_direction[keep].sum())
    eigvals = s[keep] ** 2 / n
    if fixed is None:
        fixed = ledoit_wolf_shrinkage(np.einsum("ij,ij->i", centred, centred), eigvals, d)
    mu = float(eigvals.sum()) / d
    shrunk = (1.0 - fixed) * eigvals
    weight = shrunk / (shrunk + fixed * mu)
    return float(np.sum(weight * per_direction[keep]))
