"""Commands that judge and list: ``validate``, ``check`` (runs what is missing, then judges
the criteria) and ``list``."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from adapteval.cli.common import app, fail, out, reporter


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
        fail(exc)


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
    from adapteval.terminal import verdict_table

    try:
        v = check_api(suite, model=model, strategy=strategy, output_dir=output_dir,
                      reporter=reporter(quiet))
    except (Exception, KeyboardInterrupt) as exc:
        fail(exc)
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
            table.add_row(name, ", ".join(cls.Params.model_fields), ", ".join(cls.offers),
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
