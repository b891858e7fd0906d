"""Rank candidate models without training, and check the ranking against real results.

``rank_models`` scores every model's frozen features on every task's training split
with the transferability estimators (seconds once embeddings are cached).
``ranking_agreement`` compares each estimator's ranking with the ranking that adapted
models really reached (Kendall's tau and weighted tau per task and strategy), so users
learn which estimator to trust on their kind of data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adapteval._version import __version__
from adapteval.core.keys import content_key
from adapteval.core.progress import Reporter
from adapteval.features import Embedder, EmbeddingCache, model_items
from adapteval.models.kinds import MODEL_KINDS, load_model
from adapteval.models.ref import ModelRef
from adapteval.plan import Plan
from adapteval.results import Results
from adapteval.store import ResultStore
from adapteval.strategies import CellContext
from adapteval.strategies.frozen import frozen_features
from adapteval.suite.specs import RankSpec
from adapteval.transferability import ESTIMATORS, estimate_with_seconds

SVD_COMPONENTS = 256


def estimators_for(spec: RankSpec, regression: bool) -> list[str]:
    """The suite's estimators (names checked when the plan is built) that fit the task."""
    names = spec.estimators or [n for n, e in ESTIMATORS.items()
                                if e.supports_regression or not regression]
    if regression:
        names = [n for n in names if ESTIMATORS[n].supports_regression]
    return names


def rankable(model: ModelRef) -> bool:
    """A model whose outputs ignore the text (majority class) has no features to rank."""
    return not MODEL_KINDS.get(model.kind).constant


def _dense(x, seed: int) -> np.ndarray:
    """TF-IDF features are sparse and very wide: reduce them (seeded truncated SVD)."""
    import scipy.sparse as sp  # scipy is imported where it is used (results read without it)

    if not sp.issparse(x):
        return np.asarray(x, dtype=np.float64)
    from sklearn.decomposition import TruncatedSVD

    k = min(SVD_COMPONENTS, x.shape[0] - 1, x.shape[1] - 1)
    return TruncatedSVD(n_components=k, random_state=seed).fit_transform(x)


@dataclass
class Ranking:
    """Estimator scores per model and task, with ranks (1 = best)."""

    scores: pd.DataFrame  # model, task, estimator, score, seconds
    primary: str

    def ranks(self) -> pd.DataFrame:
        frame = self.scores.copy()
        frame["rank"] = frame.groupby(["task", "estimator"])["score"].rank(
            ascending=False, method="min")
        return frame

    def aggregate(self, estimator: str | None = None,
                  models: list[str] | None = None) -> pd.DataFrame:
        """Mean rank over tasks per model, on one estimator (the primary by default);
        with ``models``, ranked among those alone."""
        r = self.ranks() if models is None else Ranking(
            self.scores[self.scores["model"].isin(models)], self.primary).ranks()
        r = r[r["estimator"] == (estimator or self.primary)]
        agg = r.groupby("model", sort=False).agg(mean_rank=("rank", "mean"), tasks=("task", "nunique"))
        agg = agg.sort_values("mean_rank", kind="stable").reset_index()
        agg["position"] = np.arange(1, len(agg) + 1)
        return agg

    def top(self, k: int) -> list[str]:
        return self.aggregate()["model"].head(k).tolist()


def revision_of(estimator: str) -> dict[str, int]:
    """The estimator's method revision for a stored score's key (nothing at revision 1,
    so scores of unchanged estimators keep their keys)."""
    revision = ESTIMATORS.get(estimator).revision
    return {"revision": revision} if revision > 1 else {}


def rank_models(
    plan: Plan,
    cache: EmbeddingCache,
    reporter: Reporter | None = None,
    store: ResultStore | None = None,
) -> Ranking:
    """Score every rankable model of a plan on every task with the suite's estimators.

    With a store, scores already computed for the same model, task data, estimator and
    settings are read back instead of recomputed (a model is loaded only when needed).
    """
    reporter = reporter or Reporter()
    spec = plan.suite.rank
    seed = plan.suite.seeds[0]
    records = []
    for model_ref in [m for m in plan.models if rankable(m)]:
        tasks = plan.model_tasks(model_ref)
        wanted = {
            (task.name, name): content_key({
                "model": model_ref.key, "task": task.fingerprint, "estimator": name,
                "seed": seed, "max_items": spec.max_items, "svd": SVD_COMPONENTS,
                "version": __version__, **revision_of(name),
            })
            for task in tasks
            for name in estimators_for(spec, task.is_regression)
        }
        stored = store.rank_scores(list(wanted.values())) if store is not None else {}
        for (task_name, name), key in wanted.items():
            if key in stored:
                records.append({"model": model_ref.label, "task": task_name, "estimator": name,
                                "score": stored[key][0], "seconds": stored[key][1]})
        todo = [t for t in tasks
                if any(k not in stored for (tn, _), k in wanted.items() if tn == t.name)]
        if not todo:
            continue
        model = load_model(model_ref)
        embed = Embedder(model, model_ref, cache, reporter) if model_ref.pretrained else None
        if embed is not None:
            embed(model_items(plan, model_ref))  # the run's own pre-encoding batches
        new = []
        for task in todo:
            x, y = _training_features(task, model, embed, seed, spec.max_items)
            names = [n for n in estimators_for(spec, task.is_regression)
                     if wanted[(task.name, n)] not in stored]
            values, seconds = estimate_with_seconds(x, y, names, regression=task.is_regression)
            for name in names:
                records.append({"model": model_ref.label, "task": task.name, "estimator": name,
                                "score": values[name], "seconds": seconds[name]})
                new.append((wanted[(task.name, name)], model_ref.label, task.name, name,
                            float(values[name]), seconds[name]))
        if store is not None and new:
            store.put_rank_scores(new)
    return Ranking(pd.DataFrame(records), spec.primary)


def _training_features(task, model, embed, seed: int, max_items: int) -> tuple[np.ndarray, np.ndarray]:
    """Dense frozen features and labels of (a seeded sample of) the task's training split."""
    split = task.split(seed)
    train = split.train
    if len(train) > max_items:
        rng = np.random.default_rng(seed)
        train = train.take(np.sort(rng.choice(len(train), max_items, replace=False)))
    ctx = CellContext(task, split, model, seed, embed)
    (x,) = frozen_features(ctx, train, [train])
    return _dense(x, seed), train.y


def ranking_agreement(ranking: Ranking, results: Results) -> pd.DataFrame:
    """Kendall's tau and weighted tau between each estimator's ranking and the real one
    (primary metric, mean over seeds), per task and strategy; needs ≥ 3 common models."""
    summary = results.summary()
    recs = []
    for (task, strategy), group in summary.groupby(["task", "strategy"], sort=False):
        metric = results.primary_metric(task)
        real = group[group["metric"] == metric.name].set_index("model")["value"]
        if not metric.higher_is_better:
            real = -real
        for estimator, e, r in _paired_scores(ranking, task, real):
            from scipy import stats

            recs.append({
                "task": task, "strategy": strategy, "estimator": estimator,
                "n_models": len(e),
                "kendall_tau": float(stats.kendalltau(e, r).statistic),
                "weighted_tau": float(stats.weightedtau(e, r).statistic),
            })
    return pd.DataFrame(recs)


def _paired_scores(ranking: Ranking, task: str, real: pd.Series):
    """Per estimator, its scores and the real scores (higher better) of the models both
    have on ``task``, when there are at least 3 such models."""
    for estimator, est in ranking.scores[ranking.scores["task"] == task].groupby("estimator"):
        common = [m for m in est["model"] if m in real.index]
        if len(common) >= 3:
            yield estimator, est.set_index("model").loc[common, "score"].to_numpy(), \
                real.loc[common].to_numpy()


def size_agreement(ranking: Ranking, results: Results) -> pd.DataFrame:
    """Weighted tau between each estimator's ranking and the real ranking at each size of
    the learning curves (``Results.curves()``: mean over draws), per task and strategy;
    needs >= 3 common models. Shows at which training sizes an estimator can be trusted."""
    points = results.curves().points
    recs = []
    if points.empty:
        return pd.DataFrame(recs)
    from scipy import stats

    for (task, strategy, size), group in points.groupby(["task", "strategy", "size"],
                                                          sort=False):
        metric = results.primary_metric(task)
        real = group.set_index("model")["value"].dropna()
        if not metric.higher_is_better:
            real = -real
        for estimator, e, r in _paired_scores(ranking, task, real):
            recs.append({"task": task, "strategy": strategy, "size": size,
                         "estimator": estimator, "n_models": len(e),
                         "weighted_tau": float(stats.weightedtau(e, r).statistic)})
    return pd.DataFrame(recs)

