"""TransRate: mutual information between features and labels via coding rate.

Huang, Huang, Rong, Yang and Wei, "Frustratingly Easy Transferability Estimation",
ICML 2022. With centred features ``Z`` (``n x d``) and distortion ``eps``, the coding
rate (Ma et al., "Segmentation of multivariate mixed data via lossy data coding and
compression", TPAMI 2007) is::

    R(Z, eps) = 1/2 log det( I + Z'Z / (n eps^2) )

and TransRate is the rate reduction from knowing the labels::

    TrR = R(Z, eps) - sum_c (n_c / n) R(Z_c, eps)

with ``Z_c`` the rows of class ``c`` (centred globally, not per class). The score is
an estimate of ``I(Z; Y)`` in nats: higher is better. It depends on the scale of
the features relative to ``eps``. ``log det`` is computed as
``sum log1p(lambda_i / (n eps^2))`` over the eigenvalues of the Gram matrix, which
is stable even when ``Z'Z`` is singular; for all of ``Z`` they are the squared singular
values of the SVD the other estimators of the same features share
(:mod:`adapteval.transferability.spectra`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adapteval.core.errors import ConfigError
from adapteval.transferability.inputs import classification_inputs
from adapteval.transferability.spectra import centred_svd
from adapteval.transferability.threads import blas_threads, svd_work


def coding_rate(z: np.ndarray, eps: float) -> float:
    """``1/2 log det(I + Z'Z / (n eps^2))`` for the rows of ``z``.

    The eigenvalues of the smaller Gram matrix (``Z'Z`` or ``ZZ'``, same non-zero
    spectrum) suffice: ``I + c Z'Z`` has condition number ``1 + c lambda_max`` at
    most, so rounding in the small eigenvalues changes the result only at the
    level of machine precision relative to the largest term.
    """
    gram = z.T @ z if z.shape[0] >= z.shape[1] else z @ z.T
    lam = np.clip(np.linalg.eigvalsh(gram), 0.0, None)
    return 0.5 * float(np.sum(np.log1p(lam / (len(z) * eps**2))))


def transrate(features: Any, labels: Any, *, eps: float = 1e-2) -> float:
    """TransRate (Huang et al., ICML 2022), in nats; higher means more transferable features.

    ``eps`` is the allowed distortion (default ``1e-2``, i.e. ``eps^2 = 1e-4``);
    compare scores only between runs with the same ``eps``.
    """
    if not (isinstance(eps, (int, float)) and eps > 0):
        raise ConfigError("eps must be a positive number", value=eps)
    x, codes, n_classes = classification_inputs(features, labels)
    svd = centred_svd(x)
    z = svd.centred
    n = len(z)
    total = 0.5 * float(np.sum(np.log1p(svd.s**2 / (n * eps**2))))
    with blas_threads(svd_work(*z.shape)):
        for c in range(n_classes):
            members = z[codes == c]
            total -= len(members) / n * coding_rate(members, eps)
    return total
