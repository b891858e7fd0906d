"""Leave-one-out k-nearest-neighbour accuracy on frozen features.

The classic non-parametric classifier (Cover and Hart, "Nearest neighbor pattern
classification", IEEE Trans. Information Theory 1967), used as a training-free
transferability baseline: each sample is classified by the majority label of its
``k`` nearest other samples.

Ties are split rather than broken by position, so the score does not depend on the
order of the samples: neighbours tied with the ``k``-th nearest (within a relative
``1e-10``) share the remaining places fractionally (each casts a fractional vote),
and a sample whose vote is tied between several classes counts
``1 / (number tied)`` if its label is among them.
Similarities are computed in row chunks of at most ``2**22`` entries (32 MB), so
memory stays ``O(n)`` beyond the features themselves.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adapteval.core.errors import ConfigError
from adapteval.transferability.inputs import check_int, classification_inputs, one_hot
from adapteval.transferability.threads import blas_threads

_CHUNK_ENTRIES = 2**22
_REL_TIE = 1e-10
METRICS = ("cosine", "euclidean")


def _prepare(x: np.ndarray, metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return points, a per-point bias and a per-point tie scale.

    The similarity of ``i`` to ``j`` is ``x_i . x_j + bias_j`` (higher is nearer):
    cosine normalises the rows; euclidean uses ``-||x_j||^2 / 2``, which ranks like
    ``-||x_i - x_j||^2`` for a fixed ``i``.
    """
    sq = np.einsum("ij,ij->i", x, x)
    if metric == "cosine":
        norms = np.sqrt(sq)
        points = x / np.where(norms > 0, norms, 1.0)[:, None]
        return points, np.zeros(len(x)), np.ones(len(x))
    return x, -0.5 * sq, sq + sq.max()


def _votes_chunk(
    sim: np.ndarray, k: int, labels: np.ndarray, onehot: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    """Class votes (``rows x C``) of the ``k`` nearest columns of each row."""
    rows = np.arange(sim.shape[0])
    order = np.argpartition(-sim, [k - 1, k], axis=1)
    kth = sim[rows, order[:, k - 1]]
    nxt = sim[rows, order[:, k]]
    tol = _REL_TIE * scale
    n_classes = onehot.shape[1]
    flat = (rows[:, None] * n_classes + labels[order[:, :k]]).ravel()
    votes = np.bincount(flat, minlength=len(rows) * n_classes)
    votes = votes.reshape(len(rows), n_classes).astype(np.float64)
    tied = np.flatnonzero(kth - nxt <= tol)
    if tied.size:
        sub = sim[tied]
        above = sub > (kth[tied] + tol[tied])[:, None]
        level = np.abs(sub - kth[tied][:, None]) <= tol[tied][:, None]
        share = (k - above.sum(axis=1)) / level.sum(axis=1)
        weights = above + level * share[:, None]
        votes[tied] = weights @ onehot
    return votes


def _chunk_credit(
    points: np.ndarray,
    bias: np.ndarray,
    scale: np.ndarray,
    codes: np.ndarray,
    onehot: np.ndarray,
    k: int,
    rows: slice,
) -> float:
    """Summed leave-one-out credit of the samples in ``rows``."""
    size = rows.stop - rows.start
    local = np.arange(size)
    sim = points[rows] @ points.T + bias
    sim[local, local + rows.start] = -np.inf
    votes = _votes_chunk(sim, k, codes, onehot, scale[rows])
    winners = votes >= votes.max(axis=1, keepdims=True) - 1e-9
    right = winners[local, codes[rows]]
    return float(np.sum(right / winners.sum(axis=1)))


def knn_loo_accuracy(features: Any, labels: Any, *, k: int = 5, metric: str = "cosine") -> float:
    """Leave-one-out ``k``-NN accuracy (0..1); higher means more transferable features.

    Each sample is excluded from its own neighbours. ``metric`` is ``"cosine"``
    (zero vectors are at similarity 0 to everything) or ``"euclidean"``.
    """
    if metric not in METRICS:
        raise ConfigError(
            f"unknown kNN metric {metric!r}", value=metric, fix=f"use one of {METRICS}"
        )
    x, codes, n_classes = classification_inputs(features, labels)
    n = x.shape[0]
    k = check_int(k, "k", 1, n - 1)
    points, bias, scale = _prepare(x, metric)
    onehot = one_hot(codes, n_classes)
    step = max(1, _CHUNK_ENTRIES // n)
    credit = 0.0
    with blas_threads(float(n) * n * x.shape[1]):
        for start in range(0, n, step):
            rows = slice(start, min(n, start + step))
            credit += _chunk_credit(points, bias, scale, codes, onehot, k, rows)
    return credit / n
