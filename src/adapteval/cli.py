"""The ``adapteval`` command line.

Exit codes: 0 ok, 2 bad input (one line on stderr naming what, where, the value and the
fix), 1 internal error (``--debug`` shows the traceback), 130 interrupted (finished
cells are kept; rerun to resume); ``check`` exits 3 when the model is not acceptable.
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from adapteval.core.env import apply_defaults

apply_defaults()

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Does a pretrained model fit your tasks? Adapt, evaluate and summarise.",
)
out = Console(width=None if Console().is_terminal or "COLUMNS" in os.environ else 120)
err = Console(stderr=True)
STATE = {"debug": False}


def _fail(exc: BaseException) -> None:
    from adapteval.core.errors import AdaptEvalError

    if STATE["debug"]:
        raise exc
    if isinstance(exc, AdaptEvalError):
        err.print(f"[bold red]{exc.kind}:[/] {exc.one_line()}", highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    if isinstance(exc, KeyboardInterrupt):
        err.print("interrupted: finished cells are kept in the store; rerun to resume")
        raise typer.Exit(130)
    line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    err.print(
        f"[bold red]internal error:[/] {type(exc).__name__}: {line} "
        "(rerun with --debug for the traceback)", highlight=False, soft_wrap=True,
    )
    raise typer.Exit(1)


@app.callback()
def main(
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks")] = False,
    allow_download: Annotated[
        bool, typer.Option("--allow-download", help="let hub ids not in the cache download")
    ] = False,
    threads: Annotated[
        int | None, typer.Option("--threads", min=1, help="torch/onnxruntime threads "
                                 "(fewer than cores helps on a shared machine)")
    ] = None,
) -> None:
    STATE["debug"] = debug
    if threads is not None:
        os.environ["ADAPTEVAL_THREADS"] = str(threads)
    if allow_download:
        os.environ["ADAPTEVAL_ALLOW_DOWNLOAD"] = "1"


def _print_results(results) -> None:
    from adapteval.terminal import all_tables

    tables = all_tables(results)
    if not tables:
        out.print("no results in the store yet")
    for t in tables:
        out.print(t)
        out.print()


def _reporter(quiet: bool):
    from adapteval.core.progress import Reporter, RichReporter

    show = not quiet and (err.is_terminal or os.environ.get("ADAPTEVAL_PROGRESS"))
    return RichReporter(err) if show else Reporter()


def _run(suite_path: Path, output_dir: Path | None, quiet: bool, *,
         tensorboard: Path | None = None, mlflow: bool | str | None = None,
         executor: dict[str, str | None] | None = None):
    from adapteval.api import run_full
    from adapteval.ranking import ranking_agreement
    from adapteval.terminal import ranking_tables

    results, summary, ranking = run_full(suite_path, output_dir=output_dir,
                                         reporter=_reporter(quiet), tensorboard=tensorboard,
                                         mlflow=mlflow, executor=executor)
    others = f", {summary.by_others} by another run" if summary.by_others else ""
    err.print(
        f"{summary.total} cells: {summary.ran} run, {summary.skipped_done} already in the store"
        f"{others} ({summary.seconds:.1f} s)", highlight=False,
    )
    _print_results(results)
    if ranking is not None:
        for t in ranking_tables(ranking, ranking_agreement(ranking, results)):
            out.print(t)
            out.print()
    return results


@app.command()
def run(
    suite: Annotated[Path, typer.Argument(help="suite YAML file")],
    output_dir: Annotated[
        Path | None, typer.Option("--output-dir", "-o", help="store folder (default: the suite's)")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bars")] = False,
    tensorboard: Annotated[
        Path | None, typer.Option("--tensorboard", help="write TensorBoard event files here")
    ] = None,
    mlflow: Annotated[
        bool, typer.Option("--mlflow", help="log cells to MLflow (default: <output_dir>/mlflow.db)")
    ] = False,
    mlflow_uri: Annotated[
        str | None, typer.Option("--mlflow-uri", help="MLflow tracking URI (implies --mlflow)")
    ] = None,
    executor: Annotated[
        str | None, typer.Option("--executor", help="local (default) or ray; overrides the suite")
    ] = None,
    workers: Annotated[
        str | None, typer.Option("--workers", help="local: worker processes (model groups "
                                 "side by side, cores split between them)")
    ] = None,
    address: Annotated[
        str | None, typer.Option("--address", help="ray: cluster address (default: a private "
                                 "local cluster)")
    ] = None,
    num_cpus: Annotated[
        str | None, typer.Option("--num-cpus", help="ray: CPUs of the local cluster")
    ] = None,
) -> None:
    """Run a suite: every cell not yet in the store, then print the tables."""
    try:
        _run(suite, output_dir, quiet, tensorboard=tensorboard, mlflow=mlflow_uri or mlflow,
             executor={"name": executor, "workers": workers, "address": address,
                       "num_cpus": num_cpus})
    except (Exception, KeyboardInterrupt) as exc:
        _fail(exc)


@app.command()
def demo(
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o")] = Path("adapteval-results"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Run the bundled offline demo (two MiniLM encoders vs baselines on four real tasks,
    with analyses and acceptance criteria), then write its HTML report."""
    try:
        suite_file = resources.files("adapteval") / "suites" / "demo.yaml"
        with resources.as_file(suite_file) as path:
            results = _run(path, output_dir, quiet)
        from adapteval.report import write_report

        report = write_report(results, output_dir / "report.html", title="demo")
        err.print(f"report: {report}", highlight=False)
    except (Exception, KeyboardInterrupt) as exc:
        _fail(exc)


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


@app.command()
def results(
    source: Annotated[
        Path, typer.Argument(help="a store folder or file, or a suite YAML (its cells only)")
    ] = Path("adapteval-results"),
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
) -> None:
    """Show what is in the store."""
    from adapteval.api import results as load_results
    from adapteval.core.errors import StoreError

    try:
        if not source.exists():
            raise StoreError(
                "no store here", where=str(source),
                fix="run a suite first, or pass the store folder / suite file",
            )
        res = load_results(source)
        if fmt is Format.table:
            _print_results(res)
        elif fmt is Format.csv:
            sys.stdout.write(res.to_pandas().drop(columns=["key"]).to_csv(index=False))
        else:
            sys.stdout.write(res.to_pandas().to_json(orient="records", indent=1) + "\n")
    except (Exception, KeyboardInterrupt) as exc:
        _fail(exc)


@app.command()
def rank(
    suite: Annotated[Path, typer.Argument(help="suite YAML file")],
    output_dir: Annotated[Path | None, typer.Option("--output-dir", "-o")] = None,
) -> None:
    """Rank the suite's models with transferability estimators (no training); when the
    store has adapted results, report how well each estimator predicted them."""
    import time

    from adapteval.api import rank as rank_api
    from adapteval.ranking import ranking_agreement
    from adapteval.terminal import ranking_tables

    try:
        t0 = time.perf_counter()
        ranking, results = rank_api(suite, output_dir=output_dir)
        err.print(f"ranked in {time.perf_counter() - t0:.1f} s", highlight=False)
        agreement = ranking_agreement(ranking, results) if len(results) else None
        for t in ranking_tables(ranking, agreement):
            out.print(t)
            out.print()
    except (Exception, KeyboardInterrupt) as exc:
        _fail(exc)


class ReportFormat(str, Enum):
    html = "html"
    md = "md"
    json = "json"


@app.command()
def report(
    source: Annotated[
        Path, typer.Argument(help="a suite YAML (its cells) or a store folder")
    ] = Path("adapteval-results"),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="default: report.html / .md / .json")
    ] = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f")] = ReportFormat.html,
    mlflow: Annotated[
        bool, typer.Option("--mlflow", help="log cells and the report to MLflow "
                           "(default: <output_dir>/mlflow.db)")
    ] = False,
    mlflow_uri: Annotated[
        str | None, typer.Option("--mlflow-uri", help="MLflow tracking URI (implies --mlflow)")
    ] = None,
) -> None:
    """Write a report: offline HTML with plots, a Markdown summary or a JSON export."""
    from adapteval.report import load, store_folder, track, write_report

    try:
        results, _ = load(source)
        path = write_report(source, output, fmt.value)
        err.print(f"wrote {path}", highlight=False)
        if mlflow or mlflow_uri:
            done = track(results, store_folder(source), mlflow=mlflow_uri or True, report=path)
            err.print(f"logged {done['mlflow']['runs_added']} new run(s) and the report to "
                      f"{done['mlflow']['uri']}", highlight=False)
    except (Exception, KeyboardInterrupt) as exc:
        _fail(exc)


class CompareFormat(str, Enum):
    table = "table"
    json = "json"


@app.command()
def compare(
    a: Annotated[Path, typer.Argument(help="result set A (store folder or suite YAML), e.g. old")],
    b: Annotated[Path, typer.Argument(help="result set B, e.g. new")],
    model_a: Annotated[str | None, typer.Option("--model-a", help="model of A to compare")] = None,
    model_b: Annotated[str | None, typer.Option("--model-b", help="model of B to compare")] = None,
    fmt: Annotated[CompareFormat, typer.Option("--format", "-f")] = CompareFormat.table,
) -> None:
    """Compare two result sets per task and strategy: B − A with paired significance."""
    import json

    from adapteval.report import load
    from adapteval.report.compare import compare as compare_sets

    try:
        rows = compare_sets(load(a)[0], load(b)[0], model_a=model_a, model_b=model_b)
        if fmt is CompareFormat.json:
            sys.stdout.write(json.dumps(rows, indent=1) + "\n")
        else:
            from adapteval.report.compare import compare_table

            out.print(compare_table(rows))
    except (Exception, KeyboardInterrupt) as exc:
        _fail(exc)


@app.command()
def validate(suite: Annotated[Path, typer.Argument(help="suite YAML file")]) -> None:
    """Check a suite (schema, models, data, metrics) without running anything."""
    from adapteval.api import as_suite
    from adapteval.plan import build_plan

    try:
        plan = build_plan(as_suite(suite))
        out.print(
            f"ok: {len(plan.models)} models × {len(plan.tasks)} tasks × "
            f"{len(plan.strategies)} strategies × {len(plan.suite.seeds)} seeds = "
            f"{len(plan.cells)} cells"
        )
        for note in plan.skipped:
            out.print(f"  skipped: {note}")
    except (Exception, KeyboardInterrupt) as exc:
        _fail(exc)


class CheckFormat(str, Enum):
    table = "table"
    json = "json"


@app.command()
def check(
    suite: Annotated[Path, typer.Argument(help="suite YAML file with criteria:")],
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="the model to judge (default: any)")
    ] = None,
    strategy: Annotated[
        str | None, typer.Option("--strategy", "-s", help="judge only this strategy")
    ] = None,
    fmt: Annotated[CheckFormat, typer.Option("--format", "-f")] = CheckFormat.table,
    output_dir: Annotated[Path | None, typer.Option("--output-dir", "-o")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bars")] = False,
) -> None:
    """Run what is missing, then check the suite's acceptance criteria. Exit 0 when the
    chosen model (without --model: at least one candidate) is acceptable, 3 when not."""
    import json

    from adapteval.api import check as check_api
    from adapteval.verdict import verdict_table

    try:
        v = check_api(suite, model=model, strategy=strategy, output_dir=output_dir,
                      reporter=_reporter(quiet))
    except (Exception, KeyboardInterrupt) as exc:
        _fail(exc)
    if fmt is CheckFormat.json:
        sys.stdout.write(json.dumps(v.to_dict(), indent=1) + "\n")
    else:
        out.print(verdict_table(v))
        best = v.best
        if model is not None:
            out.print(f"{model}: {'acceptable' if v.acceptable else 'NOT acceptable'}"
                      + (f" (with {best.strategy})" if best else ""), highlight=False)
        elif best is not None:
            out.print(f"acceptable: best is {best.model} ({best.strategy})", highlight=False)
        else:
            out.print("no candidate is acceptable", highlight=False)
    raise typer.Exit(0 if v.acceptable else 3)


class Kind(str, Enum):
    models = "models"
    tasks = "tasks"
    strategies = "strategies"
    metrics = "metrics"
    analyses = "analyses"


@app.command("list")
def list_(kind: Annotated[Kind, typer.Argument(help="what to list")]) -> None:
    """List short model names, bundled tasks, strategies or metrics."""
    from rich.table import Table

    table = Table(box=None)
    if kind is Kind.models:
        from adapteval.models.catalog import CATALOG

        table.add_column("name")
        table.add_column("kind")
        table.add_column("description")
        for e in CATALOG.values():
            table.add_row(e.name, e.kind, e.description)
    elif kind is Kind.tasks:
        from adapteval.data.bundled import BUNDLED

        table.add_column("bundled task")
        table.add_column("description")
        for t in BUNDLED.values():
            table.add_row(t.name, t.description)
    elif kind is Kind.strategies:
        from adapteval.strategies import STRATEGIES

        table.add_column("strategy")
        table.add_column("parameters")
        table.add_column("description")
        for name in STRATEGIES.names():
            cls = STRATEGIES.get(name)
            table.add_row(name, ", ".join(cls.Params.model_fields), cls.description)
    elif kind is Kind.analyses:
        from adapteval.analyses import ANALYSES

        table.add_column("analysis")
        table.add_column("parameters")
        table.add_column("provides")
        table.add_column("description")
        for name in ANALYSES.names():
            cls = ANALYSES.get(name)
            table.add_row(name, ", ".join(cls.Params.model_fields), ", ".join(cls.provides),
                          cls.description)
    else:
        from adapteval.metrics import METRICS

        table.add_column("metric")
        table.add_column("tasks")
        table.add_column("better")
        table.add_column("description")
        for name in METRICS.names():
            m = METRICS.get(name)
            table.add_row(name, m.task, "higher" if m.higher_is_better else "lower", m.description)
    out.print(table)


if __name__ == "__main__":  # pragma: no cover
    app()
