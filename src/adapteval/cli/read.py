"""Commands that read stored results: ``results``, ``rank``, ``report`` and ``compare``."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from adapteval.cli.common import (
    DeviceOption,
    TableOrJson,
    app,
    err,
    fail,
    on_device,
    out,
    print_results,
)


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
    from adapteval.api import load

    try:
        res = load(source)[0]
        if fmt is Format.table:
            print_results(res)
        elif fmt is Format.csv:
            sys.stdout.write(res.to_pandas().drop(columns=["key"]).to_csv(index=False))
        else:  # each cell's provenance with its scores (null: stored before it was recorded)
            frame = res.to_pandas()
            if "key" in frame:
                frame["provenance"] = frame["key"].map({r.key: r.provenance for r in res.rows})
            sys.stdout.write(frame.to_json(orient="records", indent=1) + "\n")
    except (Exception, KeyboardInterrupt) as exc:
        fail(exc)


@app.command()
def predictions(
    source: Annotated[
        Path, typer.Argument(help="a store folder or a suite YAML (its cells, with their texts)")
    ] = Path("adapteval-results"),
    output: Annotated[Path | None, typer.Option(
        "--out", "-o", help="FILE.csv, FILE.jsonl or FILE.parquet (default: CSV on stdout)")] = None,
    model: Annotated[str | None, typer.Option(help="only this model")] = None,
    task: Annotated[str | None, typer.Option(help="only this task")] = None,
    strategy: Annotated[str | None, typer.Option(help="only this strategy")] = None,
    seed: Annotated[int | None, typer.Option(help="only this seed")] = None,
    disagree: Annotated[tuple[str, str] | None, typer.Option(
        "--disagree", metavar="MODEL_A MODEL_B",
        help="only the items two models predict differently (same task, strategy, seed)")] = None,
) -> None:
    """Export per-example test predictions: id, text, gold and predicted label, class
    probabilities (k-shot: averaged over its experiments), model, strategy, seed."""
    from adapteval.api import predictions as export
    from adapteval.exports import write

    try:
        frame = export(source, model=model, task=task, strategy=strategy, seed=seed,
                       disagree=disagree if disagree and all(disagree) else None)
        for name, why in frame.attrs.get("missing", {}).items():
            err.print(f"{name}: no {why}", highlight=False, soft_wrap=True)
        text = write(frame, output)
        if text is None:
            err.print(f"wrote {len(frame)} rows to {output}", highlight=False)
        else:
            sys.stdout.write(text)
    except (Exception, KeyboardInterrupt) as exc:
        fail(exc)


@app.command()
def rank(
    suite: Annotated[Path, typer.Argument(help="suite YAML file")],
    output_dir: Annotated[Path | None, typer.Option("--output-dir", "-o")] = None,
    device: DeviceOption = None,
) -> None:
    """Rank the suite's models with transferability estimators (no training); when the
    store has adapted results, report how well each estimator predicted them."""
    import time

    from adapteval.api import rank as rank_api
    from adapteval.ranking import ranking_agreement, size_agreement
    from adapteval.terminal import ranking_tables

    try:
        t0 = time.perf_counter()
        ranking, results = rank_api(on_device(suite, device), output_dir=output_dir)
        err.print(f"ranked in {time.perf_counter() - t0:.1f} s", highlight=False)
        agreement = ranking_agreement(ranking, results) if len(results) else None
        by_size = size_agreement(ranking, results) if len(results) else None
        for t in ranking_tables(ranking, agreement, by_size):
            out.print(t)
            out.print()
    except (Exception, KeyboardInterrupt) as exc:
        fail(exc)


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
    from adapteval.api import loaded_report, store_folder
    from adapteval.report import track

    try:
        results, path = loaded_report(source, output, fmt.value)
        err.print(f"wrote {path}", highlight=False)
        if mlflow or mlflow_uri:
            done = track(results, store_folder(source), mlflow=mlflow_uri or True, report=path)
            err.print(f"logged {done['mlflow']['runs_added']} new run(s) and the report to "
                      f"{done['mlflow']['uri']}", highlight=False)
    except (Exception, KeyboardInterrupt) as exc:
        fail(exc)


@app.command()
def compare(
    a: Annotated[Path, typer.Argument(help="result set A (store folder or suite YAML), e.g. old")],
    b: Annotated[Path, typer.Argument(help="result set B, e.g. new")],
    model_a: Annotated[str | None, typer.Option("--model-a", help="model of A to compare")] = None,
    model_b: Annotated[str | None, typer.Option("--model-b", help="model of B to compare")] = None,
    fmt: Annotated[TableOrJson, typer.Option("--format", "-f")] = TableOrJson.table,
) -> None:
    """Compare two result sets per task and strategy: B − A with paired significance."""
    import json

    from adapteval.api import load
    from adapteval.report.compare import compare as compare_sets
    from adapteval.report.compare import unmatched

    try:
        set_a, set_b = load(a)[0], load(b)[0]
        rows = compare_sets(set_a, set_b, model_a=model_a, model_b=model_b)
        for line in unmatched(set_a, set_b, model_a=model_a, model_b=model_b):
            err.print(f"not compared, {line}", highlight=False)
        if fmt is TableOrJson.json:
            sys.stdout.write(json.dumps(rows, indent=1) + "\n")
        else:
            from adapteval.terminal import compare_table

            out.print(compare_table(rows))
    except (Exception, KeyboardInterrupt) as exc:
        fail(exc)
