"""`adapteval rank` time against a frozen-probe run of the same suite.

Both start with the suite's embeddings already cached (the first pass below warms the
cache), so the comparison is estimator time against probe-fitting time, the cost a user
saves by ranking before adapting. Prints seconds and the ratio.

    python benchmarks/rank.py [examples/rank.yaml]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import yaml  # noqa: E402

from adapteval.core.progress import Reporter  # noqa: E402
from adapteval.execution.driver import run_plan  # noqa: E402
from adapteval.features import EmbeddingCache
from adapteval.plan import build_plan  # noqa: E402
from adapteval.ranking import rank_models  # noqa: E402
from adapteval.store import ResultStore  # noqa: E402
from adapteval.suite.schema import suite_from_dict  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("suite", nargs="?", default=str(ROOT / "examples" / "rank.yaml"))
    args = ap.parse_args()
    path = Path(args.suite)
    data = yaml.safe_load(path.read_text())
    data.update(shortlist=None, strategies=["probe"])
    suite = suite_from_dict(data, source=str(path), base_dir=path.resolve().parent)
    plan = build_plan(suite)
    cache = EmbeddingCache(suite.output_path / "cache")
    rank_models(plan, cache)  # warm: every embedding cached

    t0 = time.perf_counter()
    ranking = rank_models(plan, cache)
    rank_s = time.perf_counter() - t0

    tmp = Path(tempfile.mkdtemp())
    try:
        store = ResultStore(tmp)
        t0 = time.perf_counter()
        run_plan(plan, store, cache, Reporter())
        probe_s = time.perf_counter() - t0
        store.close()
    finally:
        shutil.rmtree(tmp)
    cache.close()

    n_models = ranking.scores["model"].nunique()
    n_tasks = ranking.scores["task"].nunique()
    per_est = ranking.scores.groupby("estimator")["seconds"].sum().sort_values()
    print(f"suite: {args.suite}: {n_models} rankable models x {n_tasks} tasks, "
          f"{len(plan.cells)} probe cells (seeds {suite.seeds})")
    print("estimator seconds (all models and tasks):")
    for name, sec in per_est.items():
        print(f"  {name:18s} {sec:7.2f}")
    print(f"rank (all estimators): {rank_s:7.2f} s")
    print(f"probe run:             {probe_s:7.2f} s")
    print(f"rank / probe:          {rank_s / probe_s:7.2f}")


if __name__ == "__main__":
    main()
