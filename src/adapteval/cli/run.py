"""Commands that run a suite: ``run`` and the bundled ``demo``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from adapteval.cli.common import app, err, fail, out, print_results, reporter


def _run(suite_path: Path, output_dir: Path | None, quiet: bool, *,
         tensorboard: Path | None = None, mlflow: bool | str | None = None,
         executor: dict[str, str | None] | None = None):
    from adapteval.api import run_full
    from adapteval.ranking import ranking_agreement
    from adapteval.terminal import ranking_tables

    results, summary, ranking = run_full(suite_path, output_dir=output_dir,
                                         reporter=reporter(quiet), tensorboard=tensorboard,
                                         mlflow=mlflow, executor=executor)
    others = f", {summary.by_others} by another run" if summary.by_others else ""
    err.print(
        f"{summary.total} cells: {summary.ran} run, {summary.skipped_done} already in the store"
        f"{others} ({summary.seconds:.1f} s)", highlight=False,
    )
    print_results(results)
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
        fail(exc)


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
        fail(exc)
