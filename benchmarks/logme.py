"""LogME speed: adapteval's ``logme`` against one SVD of the same feature matrix.

LogME (You et al., ICML 2021) needs one thin SVD of the ``n x d`` features; the
evidence maximisation after it costs ``O(min(n, d))`` per class and iteration. So one
``numpy.linalg.svd(features, full_matrices=False)`` is the physical floor, and the
ratio printed here says how close ``logme`` (input checks and one-hot included)
gets to it. Runs are interleaved so CPU drift hits both alike; medians are reported.

    .venv/bin/python benchmarks/logme.py [--n 10000] [--d 384] [--classes 10]
                                         [--repeats 5] [--threads N]

Exits 1 if the score is not finite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext

import numpy as np
from threadpoolctl import threadpool_limits

from adapteval.transferability import logme


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="samples")
    parser.add_argument("--d", type=int, default=384, help="feature dimensions")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    features = rng.normal(size=(args.n, args.d))
    labels = rng.integers(0, args.classes, size=args.n)

    limit = threadpool_limits(args.threads, user_api="blas") if args.threads else nullcontext()
    with limit:
        score = logme(features, labels)  # warm-up (thread pools, caches)
        logme_s, svd_s = [], []
        for _ in range(args.repeats):
            logme_s.append(timed(lambda: logme(features, labels)))
            svd_s.append(timed(lambda: np.linalg.svd(features, full_matrices=False)))

    t_logme = statistics.median(logme_s)
    t_svd = statistics.median(svd_s)
    threads = args.threads or "default"
    print(
        f"LogME on {args.n} x {args.d} features, {args.classes} classes, "
        f"BLAS threads: {threads}, median of {args.repeats}"
    )
    print(f"  logme            {t_logme:8.3f} s   (score {score:.6f})")
    print(f"  one thin SVD     {t_svd:8.3f} s")
    print(f"  ratio            {t_logme / t_svd:8.2f} x the SVD floor")
    return 0 if np.isfinite(score) else 1


if __name__ == "__main__":
    sys.exit(main())
