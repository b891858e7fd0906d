"""SQLite files the way every adapteval store opens them: WAL, a long busy timeout and
one error shape when the path is not usable.

Several processes (local workers, Ray actors, two runs sharing an output folder) may open
a new file at the same moment. Switching it to WAL, and the first schema statements,
can then fail with "database is locked" at once: SQLite does not wait in its busy handler
where waiting could deadlock (a reader asking to become the writer). Those steps are
retried here until the same timeout as every other wait.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from adapteval.core.errors import StoreError

TIMEOUT_S = 60.0


def connect(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise StoreError(
            "output_dir is a file, not a folder", where=str(path.parent),
            fix="point output_dir at a folder (it is created if missing)",
        ) from None
    conn = None
    try:
        conn = sqlite3.connect(path, timeout=TIMEOUT_S, isolation_level=None)
        retry_locked(lambda: conn.execute("PRAGMA journal_mode=WAL"))
        conn.execute("PRAGMA synchronous=NORMAL")
    except sqlite3.DatabaseError as exc:
        if conn is not None:
            conn.close()
        raise locked_error(exc, path) or StoreError(
            f"cannot open store ({exc})", where=str(path),
            fix="point output_dir at a folder for adapteval results, or delete the broken file",
        ) from None
    return conn


def locked_error(exc: sqlite3.Error, path: Path) -> StoreError | None:
    """The error for a file another process kept locked past the timeout, else None."""
    if not _is_locked(exc):
        return None
    return StoreError(
        f"store stayed locked by another process for {TIMEOUT_S:.0f} s ({exc})",
        where=str(path),
        fix="let the other adapteval run on this output_dir finish, or use another output_dir",
    )


def retry_locked(step: Callable[[], object]) -> None:
    """Run ``step``; while SQLite says the file is locked or busy, wait a little (growing,
    with jitter so racing processes fall apart) and run it again, up to ``TIMEOUT_S``."""
    deadline = time.monotonic() + TIMEOUT_S
    pause = 0.005
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            if not _is_locked(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause * (0.5 + random.random()))
        pause = min(pause * 2, 0.25)


def _is_locked(exc: sqlite3.Error) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
