"""One thin SVD of the centred features, shared by the estimators that decompose it.

H-score (plain and shrunk), GBC and TransRate all start from the singular values (and
vectors) of the same centred feature matrix. Inside a :func:`shared_spectra` block
(:func:`adapteval.transferability.estimate` opens one around the estimators it runs),
:func:`centred_svd` decomposes each features array once: the first estimator pays for
it, the others reuse it. An entry belongs to one array in memory (same buffer, shape,
strides and dtype) and the block holds that array, so its memory cannot pass to other
features while the block lasts; the block is left before any caller code can change
the array. Outside a block nothing is kept. The arrays handed out are read-only, so
no estimator can change what the next one sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np

from adapteval.transferability.threads import blas_threads, svd_work


@dataclass(frozen=True)
class CentredSVD:
    """``centred = u @ diag(s) @ vt`` with ``centred`` the features minus their mean."""

    centred: np.ndarray  # n x d
    u: np.ndarray  # n x r, r = min(n, d)
    s: np.ndarray  # r, descending


_Entry = tuple[np.ndarray, tuple, CentredSVD]
_shared: ContextVar[list[_Entry] | None] = ContextVar("adapteval_shared_spectra", default=None)


@contextmanager
def shared_spectra() -> Iterator[None]:
    """A block in which estimators of the same features share one decomposition."""
    token = _shared.set([])
    try:
        yield
    finally:
        _shared.reset(token)


def _layout(x: np.ndarray) -> tuple:
    return (x.__array_interface__["data"][0], x.shape, x.strides, x.dtype.str)


def _read_only(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def centred_svd(x: np.ndarray) -> CentredSVD:
    """The thin SVD of ``x - x.mean(axis=0)`` (computed once per array in a block)."""
    entries = _shared.get()
    layout = _layout(x)
    for _, seen, done in entries or ():
        if seen == layout:
            return done
    centred = x - x.mean(axis=0)
    with blas_threads(svd_work(*x.shape)):
        u, s, _ = np.linalg.svd(centred, full_matrices=False)
    out = CentredSVD(_read_only(centred), _read_only(u), _read_only(s))
    if entries is not None:
        entries.append((x, layout, out))
    return out
