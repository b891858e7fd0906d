"""`adapteval rank` time against a frozen-probe run of the same suite, and how well
each estimator's ranking agrees with the rankings that adapting really reached.

Both start with the suite's embeddings already cached (the first pass below warms the
cache), so the comparison is estimator time against probe-fitting time, the cost a user
saves by ranking before adapting. Prints the rank and probe seconds and their ratio,
each estimator's seconds, and each estimator's agreement (weighted and plain Kendall's
tau, mean over tasks) with the ranking of every adapting strategy of the suite (the
probe, timed; the others, e.g. k-shot, run untimed afterwards). The linear-probe
estimator's previous method (nested cross-validated logistic regression,
``logistic_cv_score``) is timed and scored on the same features as ``linear_cv@2``,
beside the current one.

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

import pandas as pd  # noqa: E402
import yaml  # noqa: E402

from adapteval.api import results_for  # noqa: E402
from adapteval.core.progress import Reporter  # noqa: E402
from adapteval.execution.driver import run_plan  # noqa: E402
from adapteval.features import EmbeddingCache  # noqa: E402
from adapteval.plan import build_plan  # noqa: E402
from adapteval.ranking import Ranking, rank_models, ranking_agreement  # noqa: E402
from adapteval.store import ResultStore  # noqa: E402
from adapteval.suite.schema import suite_from_dict  # noqa: E402
from adapteval.transferability import ESTIMATORS, Estimator, logistic_cv_score  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PREVIOUS = "linear_cv@2"


def _register_previous_method() -> None:
    current = ESTIMATORS.get("linear_cv")
    ESTIMATORS.register(Estimator(
        PREVIOUS, logistic_cv_score, higher_is_better=True, supports_regression=True,
        reference=current.reference, revision=2,
    ), replace=True)


def _agreement_table(scores: pd.DataFrame, agreement: pd.DataFrame) -> list[str]:
    per_est = scores.groupby("estimator")["seconds"].sum()
    wt = agreement.pivot_table(index="estimator", columns="strategy", values="weighted_tau")
    kt = agreement.groupby("estimator")["kendall_tau"].mean()
    strategies = list(dict.fromkeys(agreement["strategy"]))
    head = "".join(f"{'wtau ' + s:>14s}" for s in strategies)
    lines = [f"  {'estimator':18s} {'seconds':>8s}{head}{'wtau all':>10s}{'Kendall all':>13s}"]
    for name in sorted(per_est.index, key=lambda n: per_est[n]):
        cells = "".join(f"{wt.loc[name, s]:14.3f}" for s in strategies)
        note = "  (previous method, not in rank)" if name == PREVIOUS else ""
        lines.append(f"  {name:18s} {per_est[name]:8.2f}{cells}{wt.loc[name].mean():10.3f}"
                     f"{kt[name]:13.3f}{note}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("suite", nargs="?", default=str(ROOT / "examples" / "rank.yaml"))
    args = ap.parse_args()
    path = Path(args.suite)
    data = yaml.safe_load(path.read_text())
    data.update(shortlist=None)

    def load(**changes):
        return suite_from_dict({**data, **changes}, source=str(path),
                               base_dir=path.resolve().parent)

    suite = load(strategies=["probe"])
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
        adapted = build_plan(load())  # the suite's other strategies, untimed
        run_plan(adapted, store, cache, Reporter())
        results = results_for(adapted, store)
        store.close()
    finally:
        shutil.rmtree(tmp)

    _register_previous_method()
    previous = load(strategies=["probe"], rank={"estimators": [PREVIOUS], "primary": PREVIOUS})
    before = rank_models(build_plan(previous), cache)
    cache.close()

    scores = pd.concat([ranking.scores, before.scores], ignore_index=True)
    agreement = ranking_agreement(Ranking(scores, ranking.primary), results)
    per_est = scores.groupby("estimator")["seconds"].sum()
    estimators_s = float(ranking.scores["seconds"].sum())
    swapped_s = rank_s - per_est["linear_cv"] + per_est[PREVIOUS]

    n_models = ranking.scores["model"].nunique()
    n_tasks = ranking.scores["task"].nunique()
    print(f"suite: {args.suite}: {n_models} rankable models x {n_tasks} tasks, "
          f"{len(plan.cells)} probe cells (seeds {suite.seeds})")
    print("estimator seconds (all models and tasks) and agreement with the adapted "
          "models' ranking (mean over tasks):")
    print("\n".join(_agreement_table(scores, agreement)))
    print(f"rank (all estimators): {rank_s:7.2f} s  (estimators {estimators_s:.2f} s, "
          f"features and models {rank_s - estimators_s:.2f} s)")
    print(f"probe run:             {probe_s:7.2f} s")
    print(f"rank / probe:          {rank_s / probe_s:7.2f}  "
          f"(estimators alone {estimators_s / probe_s:.2f})")
    print(f"with {PREVIOUS} instead of linear_cv: rank ~{swapped_s:.2f} s, "
          f"rank / probe ~{swapped_s / probe_s:.2f}")
    cv = agreement[agreement["estimator"].isin(["linear_cv", PREVIOUS])]
    print("weighted tau per task, linear_cv vs " + PREVIOUS + ":")
    print(cv.pivot_table(index=["strategy", "task"], columns="estimator",
                         values="weighted_tau").round(3).to_string())


if __name__ == "__main__":
    main()
