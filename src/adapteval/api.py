"""The Python API: ``run`` a suite, read ``results`` back from a store, ``check`` and
``rank``; and the reports of a suite file or a store folder (``write_report``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from adapteval.core.errors import StoreError
from adapteval.core.paths import inside, sqlite_file
from adapteval.core.progress import Reporter
from adapteval.execution.driver import RunSummary, run_plan
from adapteval.execution.executors import resolve
from adapteval.exports import disagreements
from adapteval.exports import predictions as item_predictions
from adapteval.features import EmbeddingCache
from adapteval.plan import Plan, build_plan
from adapteval.ranking import Ranking, rank_models
from adapteval.report import Format, track
from adapteval.report import write_report as render_report
from adapteval.results import Results
from adapteval.store import RESULTS_FILE, ResultStore
from adapteval.suite.schema import Suite, load_suite, suite_from_dict
from adapteval.summaries.labels import Labels
from adapteval.verdict import Verdict, check_choice, verdict


def as_suite(suite: str | Path | Suite | dict[str, Any]) -> Suite:
    if isinstance(suite, Suite):
        return suite
    if isinstance(suite, dict):
        return suite_from_dict(suite)
    return load_suite(suite)


def results_for(plan: Plan, store: ResultStore) -> Results:
    labels = {
        c.key: Labels(c.model.label, c.task.name, c.strategy.name, c.seed) for c in plan.cells
    }
    rows = store.rows(labels)
    position = {j.key: i for i, j in enumerate(j for jobs in plan.jobs().values() for j in jobs)}
    return Results(
        rows,
        plan=plan,
        analyses=sorted(store.analysis_rows(position), key=lambda a: position[a.key]),
        labels=labels,
        metrics=plan.suite.metrics,
        bootstrap=plan.suite.bootstrap,
        ensembles=plan.suite.ensembles,
        order={
            "model": [m.label for m in plan.models],
            "task": [t.name for t in plan.tasks],
            "strategy": [s.name for s in plan.strategies],
        },
    )


def run(
    suite: str | Path | Suite | dict[str, Any],
    *,
    output_dir: str | Path | None = None,
    reporter: Reporter | None = None,
    tensorboard: str | Path | None = None,
    mlflow: bool | str | None = None,
    executor: dict[str, Any] | None = None,
) -> Results:
    """Run every cell of a suite that the store does not have yet; return all its results.
    ``tensorboard``: a log folder for event files; ``mlflow``: True (SQLite file in the
    output folder) or a tracking URI; ``executor`` overrides the suite's, e.g.
    ``{"workers": 2}`` or ``{"name": "ray"}``.

    >>> results = adapteval.run("examples/sentiment-domains.yaml")   # doctest: +SKIP
    >>> results.to_pandas().head()                                    # doctest: +SKIP
    """
    results, _, _ = run_full(suite, output_dir=output_dir, reporter=reporter,
                             tensorboard=tensorboard, mlflow=mlflow, executor=executor)
    return results


def apply_shortlist(plan: Plan, ranking: Ranking, k: int) -> Plan:
    """Keep every frozen-probe cell and every baseline; adapt only the top-k candidates
    (by the primary estimator's mean rank) with the other strategies, except where a
    strategy names its models (the suite asked for exactly those). Candidates are ranked
    among themselves, each group of candidates on the same tasks on its own
    (:meth:`Plan.shortlist_groups`)."""
    candidates = plan.shortlist_candidates()
    keep = [m for group in plan.shortlist_groups()
            for m in ranking.aggregate(models=group)["model"].head(k).tolist()]
    dropped = [m for m in candidates if m not in keep]
    named = {s.name: set(spec.models) for s, spec in zip(plan.strategies, plan.suite.strategies,
                                                          strict=True)
             if spec.models is not None}
    plan.cells = [
        c for c in plan.cells
        if c.strategy.name == "probe" or not c.model.pretrained or c.model.label in keep
        or c.model.label not in candidates
        or c.model.label in named.get(c.strategy.name, ())
    ]
    if dropped:
        plan.skipped.append(f"shortlist: adapting only {', '.join(keep)}; not {', '.join(dropped)}")
    return plan


def run_full(
    suite: str | Path | Suite | dict[str, Any],
    *,
    output_dir: str | Path | None = None,
    reporter: Reporter | None = None,
    tensorboard: str | Path | None = None,
    mlflow: bool | str | None = None,
    executor: dict[str, Any] | None = None,
) -> tuple[Results, RunSummary, Ranking | None]:
    """Run a suite; with ``shortlist: k``, rank the candidates first and return the ranking."""
    suite = as_suite(suite)
    spec = resolve(suite.executor, executor)  # before the store exists: bad options write nothing
    with _opened(suite, output_dir) as (plan, store, cache):
        results, summary, ranking = _run_opened(plan, store, cache, reporter, spec)
        if tensorboard is not None or mlflow:
            track(results, store.path.parent, tensorboard=tensorboard, mlflow=mlflow)
        return results, summary, ranking


def _run_opened(
    plan: Plan, store: ResultStore, cache: EmbeddingCache, reporter: Reporter | None,
    spec: Any = None,
) -> tuple[Results, RunSummary, Ranking | None]:
    ranking = None
    if plan.suite.shortlist:
        ranking = rank_models(plan, cache, reporter, store)
        apply_shortlist(plan, ranking, plan.suite.shortlist)
    summary = run_plan(plan, store, cache, reporter or Reporter(), spec, ranking=ranking)
    return results_for(plan, store), summary, ranking


def check(
    suite: str | Path | Suite | dict[str, Any],
    *,
    model: str | None = None,
    strategy: str | None = None,
    output_dir: str | Path | None = None,
    reporter: Reporter | None = None,
    executor: dict[str, Any] | None = None,
) -> Verdict:
    """Run what the store lacks, then check the suite's acceptance criteria: the verdict
    per candidate model and strategy, with each rule's measured value and pass/fail.

    >>> v = adapteval.check("suite.yaml", model="all-MiniLM-L6-v2")   # doctest: +SKIP
    >>> v.acceptable, v.to_dict()                                      # doctest: +SKIP
    """
    suite = as_suite(suite)
    spec = resolve(suite.executor, executor)
    with _opened(suite, output_dir) as (plan, store, cache):
        check_choice(plan, model, strategy)
        results, _, _ = _run_opened(plan, store, cache, reporter, spec)
        return verdict(results, plan, model=model, strategy=strategy)


def rank(
    suite: str | Path | Suite | dict[str, Any], *, output_dir: str | Path | None = None
) -> tuple[Ranking, Results]:
    """Rank a suite's models with transferability estimators (no training), and return the
    results already stored for the suite (to compare the ranking with, when there are any)."""
    with _opened(suite, output_dir) as (plan, store, cache):
        return rank_models(plan, cache, store=store), results_for(plan, store)


@contextmanager
def _opened(
    suite: str | Path | Suite | dict[str, Any], output_dir: str | Path | None
) -> Iterator[tuple[Plan, ResultStore, EmbeddingCache]]:
    """The validated plan, with its store and embedding cache open for the block."""
    plan = build_plan(as_suite(suite))
    out = Path(output_dir) if output_dir is not None else plan.suite.output_path
    store = ResultStore(out)
    cache = EmbeddingCache(inside(out, "cache", where=f"{plan.suite.source}: output_dir"))
    try:
        yield plan, store, cache
    finally:
        cache.close()
        store.close()


def results(source: str | Path | Suite) -> Results:
    """Results already in a store: a store folder/file, or a suite (its cells only)."""
    if isinstance(source, Suite) or str(source).endswith((".yaml", ".yml")):
        s = as_suite(source)
        plan = build_plan(s)
        if not sqlite_file(s.output_path, RESULTS_FILE).is_file():  # never run: read, don't create
            return Results([], plan=plan, labels={}, metrics=s.metrics, bootstrap=s.bootstrap)
        store = ResultStore(s.output_path)
        try:
            return results_for(plan, store)
        finally:
            store.close()
    store = ResultStore(source)
    try:
        return Results(store.rows(), analyses=store.analysis_rows())
    finally:
        store.close()


def load(source: str | Path) -> tuple[Results, str | None]:
    """Results of a suite file (its cells) or a store folder, and the suite file if any."""
    path = Path(source)
    if not path.exists():
        raise StoreError("no store or suite here", where=str(source),
                         fix="pass a store folder (e.g. adapteval-results) or a suite YAML")
    is_suite = path.suffix in (".yaml", ".yml")
    res = results(path)
    if not len(res):
        if res.plan is not None:
            raise StoreError(
                f"no cells of suite {res.plan.suite.name!r} are in the store yet "
                f"({len(res.plan.cells)} planned)", where=str(res.plan.suite.output_path),
                fix=f"run it first: adapteval run {source}")
        raise StoreError("the store holds no cells", where=str(source),
                         fix="run a suite into it first, or pass the store folder that has them")
    return res, (str(path.resolve()) if is_suite else None)


def predictions(
    source: str | Path | Results, *, model: str | None = None, task: str | None = None,
    strategy: str | None = None, seed: int | None = None,
    disagree: tuple[str, str] | None = None,
) -> pd.DataFrame:
    """Per-example test predictions of a suite's cells (its YAML), a store folder or a
    ``Results``: one row per item and cell with its id, text, gold and predicted label
    and class probabilities (``p_<label>``; k-shot cells: averaged over experiments).
    ``disagree=(a, b)``: only the items models a and b predict differently, one row each.
    ``frame.attrs["missing"]`` names the tasks whose texts the store could not give, and why.

    >>> adapteval.predictions("suite.yaml", model="all-MiniLM-L6-v2")   # doctest: +SKIP
    """
    res = source if isinstance(source, Results) else load(source)[0]
    frame = item_predictions(res, model=None if disagree else model, task=task,
                             strategy=strategy, seed=seed)
    if disagree:
        missing = frame.attrs["missing"]
        frame = disagreements(frame, *disagree)
        frame.attrs["missing"] = missing
    return frame


def store_folder(source: str | Path) -> Path:
    """The results folder of a suite file or a store path (where mlflow.db goes)."""
    path = Path(source)
    if path.suffix in (".yaml", ".yml"):
        return as_suite(path).output_path
    return path if path.is_dir() else path.parent


def write_report(source: str | Path | Results, output: str | Path | None = None,
                 fmt: Format = "html", *, title: str | None = None) -> Path:
    """Render the report of ``source`` (a suite YAML, a store folder or a ``Results``) to
    ``output`` (default ``report.<ext>`` in the working folder); returns the path."""
    if isinstance(source, Results):
        return render_report(source, output, fmt, title=title)
    return loaded_report(source, output, fmt, title=title)[1]


def loaded_report(source: str | Path, output: str | Path | None = None, fmt: Format = "html",
                  *, title: str | None = None) -> tuple[Results, Path]:
    """The results of ``source`` (a suite YAML or a store folder), read once, and the path
    of the report rendered from them."""
    res, suite_file = load(source)
    return res, render_report(res, output, fmt, title=title, suite_file=suite_file,
                              source=str(Path(source).resolve()))
