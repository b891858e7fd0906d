"""Run small linear-algebra problems on one BLAS thread.

Multi-threaded OpenBLAS gains little on small matrices, and when the cores are busy
with other work its spinning worker threads can make an SVD 10-100x slower than on
one thread (measured: a 1500 x 64 SVD took 1.5 s on 2 busy cores, 14 ms on one
thread). Problems below ``SMALL_WORK`` multiply-adds therefore run single-threaded;
larger ones keep the process's own thread settings (``OPENBLAS_NUM_THREADS`` etc.).
"""

from __future__ import annotations

import functools
from contextlib import AbstractContextManager, nullcontext
from typing import Any

SMALL_WORK = 1e9


@functools.cache
def _controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def blas_threads(work: float) -> AbstractContextManager[Any]:
    """A context that limits BLAS to one thread if ``work`` is small."""
    if work >= SMALL_WORK:
        return nullcontext()
    return _controller().limit(limits=1, user_api="blas")


def svd_work(n: int, d: int) -> float:
    """Multiply-adds of a thin SVD of an ``n x d`` matrix, up to a constant."""
    return float(n) * d * min(n, d)
