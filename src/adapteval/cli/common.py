"""The command-line app and what its commands share: the consoles, the one-line error
handling (exit codes below), progress reporting and printing a result set.

Exit codes: 0 ok, 2 bad input (one line on stderr naming what, where, the value and the
fix), 1 internal error (``--debug`` shows the traceback), 130 interrupted (finished
cells are kept; rerun to resume); ``check`` exits 3 when the model is not acceptable.
"""

from __future__ import annotations

import os
from enum import Enum
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperCommand, TyperGroup

from adapteval.core.env import apply_defaults

apply_defaults()


def _untyped_flags(params: list[Any]) -> list[Any]:
    """Help shows what a value is, not its Python type: a flag takes no value (typer
    would print ``<bool>``), an argument is named by its role (``SUITE``), an option by
    what it takes (``--model-a MODEL-A``, ``--seed INTEGER``, ``--out PATH``)."""
    from pathlib import Path

    from typer.core import TyperArgument

    for p in params:
        if p.metavar is not None:
            continue
        annotation = getattr(getattr(p, "type_descriptor", None), "annotation", None)
        if getattr(p, "is_flag", False):
            p.metavar = ""
        elif isinstance(annotation, type) and issubclass(annotation, Enum):
            continue  # typer lists the choices
        elif isinstance(p, TyperArgument):
            p.metavar = (p.name or "value").upper()
        elif annotation is int:
            p.metavar = "INTEGER"
        elif annotation is Path:
            p.metavar = "PATH"
        elif annotation is str:
            p.metavar = (p.name or "value").upper().replace("_", "-")
    return params


class Command(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return _untyped_flags(super().get_params(ctx))


class Group(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _untyped_flags(super().get_params(ctx))


class App(typer.Typer):
    """The app; every command it registers shows its flags without a type in help."""

    def command(self, *args, cls=None, **kwargs):
        return super().command(*args, cls=cls or Command, **kwargs)


app = App(
    cls=Group,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Does a pretrained model fit your tasks? Adapt, evaluate and summarise.",
)
out = Console(width=None if Console().is_terminal or "COLUMNS" in os.environ else 120)
err = Console(stderr=True)
STATE = {"debug": False}


DEVICE_HELP = ("auto|cpu|cuda|cuda:N|mps: where every pretrained model computes, "
               "overriding the suite's device: (baselines stay on the CPU)")
DeviceOption = Annotated[
    str | None, typer.Option("--device", metavar="DEVICE", help=DEVICE_HELP)
]


def on_device(suite: Any, device: str | None) -> Any:
    """``suite`` (a path) as it is, or, with ``device``, loaded with every pretrained
    model's ``device`` set to it. The device is checked first, so an absent one is one
    line naming ``--device`` before any work."""
    if device is None:
        return suite
    from adapteval.api import as_suite
    from adapteval.core.devices import resolve_device
    from adapteval.models.kinds import kind_of

    resolve_device(device, where="--device")
    loaded = as_suite(suite)
    models = [
        m.model_copy(update={"device": device})
        if kind_of(m, where=f"{loaded.source}: models[{i}] ({m.label})",
                   base_dir=loaded.base_dir).pretrained else m
        for i, m in enumerate(loaded.models)
    ]
    return loaded.model_copy(update={"models": models})


class TableOrJson(str, Enum):
    """``--format`` of the commands that print a table or its JSON."""

    table = "table"
    json = "json"


def fail(exc: BaseException) -> None:
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
        int | None, typer.Option("--threads", min=1, metavar="INTEGER",
                                 help="torch/onnxruntime threads "
                                 "(fewer than cores helps on a shared machine)")
    ] = None,
) -> None:
    STATE["debug"] = debug
    if threads is not None:
        os.environ["ADAPTEVAL_THREADS"] = str(threads)
    if allow_download:
        os.environ["ADAPTEVAL_ALLOW_DOWNLOAD"] = "1"


def print_results(results) -> None:
    from adapteval.terminal import all_tables

    tables = all_tables(results)
    if not tables:
        out.print("no results in the store yet")
    for t in tables:
        out.print(t)
        out.print()


def print_plan(status, console: Console | None = None) -> None:
    """The plan (``execution.driver.PlanStatus``): what will run, what is stored, what
    the shortlist chose."""
    from adapteval.terminal import plan_view

    (console or err).print(plan_view(status))


def reporter(quiet: bool, plan: bool = True):
    """Progress on stderr: rich bars on a terminal, plain lines (one per finished cell)
    in a log, nothing with ``--quiet``; the plan first unless ``plan`` is False."""
    import sys

    from adapteval.core.progress import LineReporter, Reporter, RichReporter

    if quiet:
        return Reporter()
    bars = err.is_terminal or os.environ.get("ADAPTEVAL_PROGRESS")
    shown = RichReporter(err) if bars else LineReporter(sys.stderr)
    if plan:
        shown.plan = print_plan  # type: ignore[method-assign]
    return shown
