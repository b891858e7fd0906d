"""Commands that judge and list: ``validate``, ``check`` (runs what is missing, then judges
the criteria) and ``list``."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from adapteval.cli.common import DeviceOption, TableOrJson, app, fail, on_device, out, reporter


@app.command()
def validate(suite: Annotated[Path, typer.Argument(help="suite YAML file")],
             device: DeviceOption = None) -> None:
    """Check a suite (schema, models, data, metrics) without running anything."""
    from adapteval.api import as_suite
    from adapteval.plan import build_plan

    try:
        plan = build_plan(as_suite(on_device(suite, device)))
        baselines = sum(not m.pretrained for m in plan.models)

        def n(count: int, what: str) -> str:
            return f"{count} {what}" if count == 1 else f"{count} {what}s"

        out.print(
            f"ok: {n(len(plan.models) - baselines, 'pretrained model')} and "
            f"{n(baselines, 'baseline')}, {n(len(plan.tasks), 'task')}, "
            f"{len(plan.strategies)} {'strategy' if len(plan.strategies) == 1 else 'strategies'}, "
            f"{n(len(plan.suite.seeds), 'seed')}: {n(len(plan.cells), 'cell')}", highlight=False,
        )
        for note in plan.skipped:
            out.print(f"  skipped: {note}", highlight=False)
        for warning in plan.warnings:
            out.print(f"  warning: {warning}", highlight=False)
    except (Exception, KeyboardInterrupt) as exc:
        fail(exc)


@app.command()
def check(
    suite: Annotated[Path, typer.Argument(help="suite YAML file with criteria:")],
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="the model to judge (default: any)")
    ] = None,
    strategy: Annotated[
        str | None, typer.Option("--strategy", "-s", help="judge only this strategy")
    ] = None,
    fmt: Annotated[TableOrJson, typer.Option("--format", "-f")] = TableOrJson.table,
    output_dir: Annotated[Path | None, typer.Option("--output-dir", "-o")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bars")] = False,
    device: DeviceOption = None,
) -> None:
    """Run what is missing, then check the suite's acceptance criteria. Exit 0 when the
    chosen model (without --model: at least one candidate) is acceptable, 3 when not."""
    import json

    from adapteval.api import check as check_api
    from adapteval.terminal import verdict_table

    try:
        v = check_api(on_device(suite, device), model=model, strategy=strategy, output_dir=output_dir,
                      reporter=reporter(quiet))
    except (Exception, KeyboardInterrupt) as exc:
        fail(exc)
    if fmt is TableOrJson.json:
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
    analyses = "analyses"
    metrics = "metrics"
    model_kinds = "model-kinds"
    perturbations = "perturbations"
    corruptions = "corruptions"
    estimators = "estimators"
    readers = "readers"
    sections = "sections"


def _registry(kind: Kind):
    """The plugin registry behind a listable kind (None for models and tasks)."""
    if kind is Kind.strategies:
        from adapteval.strategies import STRATEGIES as registry
    elif kind is Kind.analyses:
        from adapteval.analyses import ANALYSES as registry
    elif kind is Kind.metrics:
        from adapteval.metrics import METRICS as registry
    elif kind is Kind.model_kinds:
        from adapteval.models.kinds import MODEL_KINDS as registry
    elif kind is Kind.perturbations:
        from adapteval.perturbations import PERTURBATIONS as registry
    elif kind is Kind.corruptions:
        from adapteval.perturbations import CORRUPTIONS as registry
    elif kind is Kind.estimators:
        from adapteval.transferability import ESTIMATORS as registry
    elif kind is Kind.readers:
        from adapteval.data.readers import READERS as registry
    elif kind is Kind.sections:
        from adapteval.presentation import SECTIONS as registry
    else:
        return None
    return registry


def _plugin_table(registry) -> Table:
    """One row per registered plugin: what it takes, what it works on, what it offers."""
    from adapteval.core.plugin import MODALITIES, TASK_TYPES

    def some(values, every) -> str:
        return "all" if set(values) >= set(every) else ", ".join(v for v in every if v in values)

    table = Table(box=None)
    for column in ("name", "parameters", "inputs", "tasks", "offers", "description"):
        table.add_column(column, overflow="fold")
    for name in registry.names():
        plugin = registry.get(name)
        offers = getattr(plugin, "offers", {}) or {}
        table.add_row(
            name, ", ".join(plugin.Params.model_fields) or "-",
            some(plugin.modalities, MODALITIES), some(plugin.task_types, TASK_TYPES),
            ", ".join(offers) or "-", plugin.description,
        )
    return table


@app.command("list")
def list_(kind: Annotated[Kind, typer.Argument(
        metavar="KIND", help=f"what to list: {', '.join(k.value for k in Kind)}")]) -> None:
    """List short model names, bundled tasks, or the plugins of a kind: strategies,
    analyses, metrics, model-kinds, perturbations, corruptions, estimators, readers, sections."""
    registry = _registry(kind)
    if registry is not None:
        out.print(_plugin_table(registry))
        return
    table = Table(box=None)
    if kind is Kind.models:
        from adapteval.models.catalog import CATALOG

        table.add_column("name")
        table.add_column("kind")
        table.add_column("description")
        for e in CATALOG.values():
            table.add_row(e.name, e.kind, e.description)
    else:
        from adapteval.data.bundled import BUNDLED

        table.add_column("bundled task")
        table.add_column("description")
        for t in BUNDLED.values():
            table.add_row(t.name, t.description)
    out.print(table)
