"""The command-line app and what its commands share: the consoles, the one-line error
handling (exit codes below), progress reporting and printing a result set.

Exit codes: 0 ok, 2 bad input (one line on stderr naming what, where, the value and the
fix), 1 internal error (``--debug`` shows the traceback), 130 interrupted (finished
cells are kept; rerun to resume); ``check`` exits 3 when the model is not acceptable.
"""

from __future__ import annotations

import os
from enum import Enum
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
        int | None, typer.Option("--threads", min=1, help="torch/onnxruntime threads "
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


def reporter(quiet: bool):
    from adapteval.core.progress import Reporter, RichReporter

    show = not quiet and (err.is_terminal or os.environ.get("ADAPTEVAL_PROGRESS"))
    return RichReporter(err) if show else Reporter()
