"""Commands that run a suite: ``run`` and the bundled ``demo``.

Before any work the plan is shown (what will run, what the store holds, what the
shortlist chose); a run ends with a short summary (best per task, P_avg and sigma_P,
the verdict, where the report is); ``--tables`` adds every table."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from adapteval.cli.common import (
    DeviceOption,
    app,
    err,
    fail,
    on_device,
    out,
    print_plan,
    print_results,
    reporter,
)

TABLES_HELP = "after the summary, print every table (as `adapteval results` does)"


def _run(suite_path: Path, output_dir: Path | None, quiet: bool, *,
         tensorboard: Path | None = None, mlflow: bool | str | None = None,
         executor: dict[str, str | None] | None = None, device: str | None = None):
    from adapteval.api import run_full

    results, summary, ranking = run_full(on_device(suite_path, device), output_dir=output_dir,
                                         reporter=reporter(quiet), tensorboard=tensorboard,
                                         mlflow=mlflow, executor=executor)
    err.print(summary.line(), highlight=False)
    return results, ranking


def _show(results, ranking, full: bool, more: list[str]) -> None:
    """The summary, then (``full``) every table and the shortlist's ranking."""
    from adapteval.terminal import summary_view

    out.print(summary_view(results, more))
    if not full:
        return
    out.print()
    print_results(results)
    if ranking is not None:
        from adapteval.ranking import ranking_agreement
        from adapteval.terminal import ranking_tables

        for t in ranking_tables(ranking, ranking_agreement(ranking, results)):
            out.print(t)
            out.print()


def _dry_run(suite_path: Path, output_dir: Path | None, device: str | None = None) -> None:
    """The plan against the store, without training: with a shortlist, the candidates are
    ranked first (their features are encoded and cached for the run)."""
    from adapteval.api import apply_shortlist, as_suite
    from adapteval.core.paths import inside
    from adapteval.execution.driver import plan_status
    from adapteval.features import EmbeddingCache
    from adapteval.plan import build_plan
    from adapteval.ranking import rank_models
    from adapteval.store import ResultStore

    plan = build_plan(as_suite(on_device(suite_path, device)))
    folder = Path(output_dir) if output_dir is not None else plan.suite.output_path
    store = ResultStore(folder)
    try:
        ranking = None
        if plan.suite.shortlist:
            err.print("ranking the candidates for the shortlist (no training)", highlight=False)
            cache = EmbeddingCache(inside(folder, "cache", where=f"{plan.suite.source}: output_dir"))
            try:
                ranking = rank_models(plan, cache, reporter(False, plan=False), store)
            finally:
                cache.close()
            apply_shortlist(plan, ranking, plan.suite.shortlist)
        print_plan(plan_status(plan, store, ranking), out)
        out.print("dry run: nothing was trained; `adapteval run` without --dry-run runs it",
                  highlight=False)
    finally:
        store.close()


@app.command()
def run(
    suite: Annotated[Path, typer.Argument(help="suite YAML file", metavar="SUITE")],
    output_dir: Annotated[
        Path | None, typer.Option("--output-dir", "-o", metavar="FOLDER",
                                  help="store folder (default: the suite's)")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no plan, no progress")] = False,
    tables: Annotated[bool, typer.Option("--tables", "--full", help=TABLES_HELP)] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="print the plan (what would run, what is "
                           "stored, the shortlist's choice) and exit without training")
    ] = False,
    tensorboard: Annotated[
        Path | None, typer.Option("--tensorboard", metavar="FOLDER",
                                  help="write TensorBoard event files here")
    ] = None,
    mlflow: Annotated[
        bool, typer.Option("--mlflow", help="log cells to MLflow (default: <output_dir>/mlflow.db)")
    ] = False,
    mlflow_uri: Annotated[
        str | None, typer.Option("--mlflow-uri", metavar="URI",
                                 help="MLflow tracking URI (implies --mlflow)")
    ] = None,
    executor: Annotated[
        str | None, typer.Option("--executor", metavar="local|ray",
                                 help="local (default) or ray; overrides the suite")
    ] = None,
    workers: Annotated[
        str | None, typer.Option("--workers", metavar="INTEGER",
                                 help="local: worker processes (cells side by side, "
                                 "cores split between them)")
    ] = None,
    address: Annotated[
        str | None, typer.Option("--address", metavar="ADDRESS",
                                 help="ray: cluster address (default: a private local cluster)")
    ] = None,
    num_cpus: Annotated[
        str | None, typer.Option("--num-cpus", metavar="INTEGER",
                                 help="ray: CPUs of the local cluster")
    ] = None,
    device: DeviceOption = None,
) -> None:
    """Run a suite: show the plan, run every cell not yet in the store, then print a
    summary (every table with --tables)."""
    try:
        if dry_run:
            _dry_run(suite, output_dir, device)
            return
        results, ranking = _run(
            suite, output_dir, quiet, tensorboard=tensorboard, mlflow=mlflow_uri or mlflow,
            executor={"name": executor, "workers": workers, "address": address,
                      "num_cpus": num_cpus}, device=device)
        # with --output-dir the store is not the suite's, so the hints name the store
        source = output_dir if output_dir is not None else suite
        store = output_dir if output_dir is not None else results.plan.suite.output_path
        _show(results, ranking, tables, [
            *([] if tables else [f"every table: adapteval results {source}  (or run with "
                                 "--tables)"]),
            f"report: adapteval report {source}  (store: {store})"])
    except (Exception, KeyboardInterrupt) as exc:
        fail(exc)


@app.command()
def demo(
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "-o", metavar="FOLDER", help="store and report folder")
    ] = Path("adapteval-results"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no plan, no progress")] = False,
    tables: Annotated[bool, typer.Option("--tables", "--full", help=TABLES_HELP)] = False,
    device: DeviceOption = None,
) -> None:
    """Run the bundled offline demo (two MiniLM encoders vs baselines on four real tasks,
    SmolLM2's ladder from prompting to LoRA on one, with analyses and acceptance
    criteria), write its HTML report, then print a summary (every table with --tables)."""
    try:
        suite_file = resources.files("adapteval") / "suites" / "demo.yaml"
        with resources.as_file(suite_file) as path:
            results, ranking = _run(path, output_dir, quiet, device=device)
        from adapteval.report import write_report

        report = write_report(results, output_dir / "report.html", title="demo")
        _show(results, ranking, tables, [
            *([] if tables else [f"every table: adapteval demo -o {output_dir} --tables  "
                                 "(reads the store, recomputes nothing)"]),
            f"report: {report}"])
    except (Exception, KeyboardInterrupt) as exc:
        fail(exc)
