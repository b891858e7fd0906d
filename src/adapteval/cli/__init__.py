"""The ``adapteval`` command line: the app and its error handling (``common``), and the
commands by what they do (``run``, ``read``, ``inspect``), registered in help order.

Exit codes: 0 ok, 2 bad input (one line on stderr naming what, where, the value and the
fix), 1 internal error (``--debug`` shows the traceback), 130 interrupted (finished
cells are kept; rerun to resume); ``check`` exits 3 when the model is not acceptable.
"""

# Importing a command module registers its commands, in this (help) order.
# isort: off
from adapteval.cli.common import app
from adapteval.cli import run, read, inspect  # noqa: F401
# isort: on

__all__ = ["app"]
