"""The results store: one SQLite file, one row per finished cell.

A row is keyed by the content hash of (model fingerprint, task fingerprint, strategy
config, seed, package version) and written in a single transaction when its cell
finishes, so a killed run loses at most the cells in flight. WAL mode and a busy
timeout let several runs share one file; ``INSERT OR IGNORE`` means a cell finished
twice is stored once.

Embeddings live in a second SQLite file beside it, keyed by (model key, text hash), and
are committed batch by batch while a model encodes.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapteval.contracts.analysis import AnalysisRow
from adapteval.core.errors import StoreError
from adapteval.core.paths import sqlite_file
from adapteval.core.sqlite import connect, locked_error, transaction

SCHEMA_VERSION = 1
RESULTS_FILE = "results.sqlite"


@dataclass(frozen=True)
class CellRow:
    key: str
    suite: str
    model: str
    task: str
    strategy: str
    seed: int
    model_fingerprint: str
    task_fingerprint: str
    strategy_config: dict[str, Any]
    task_type: str
    classes: list[str] | None
    version: str
    created_at: float
    duration_s: float
    info: dict[str, Any]
    predictions: bytes
    provenance: dict[str, Any] | None = None  # None: written before provenance was recorded


class ResultStore:
    COLUMNS = (
        "key", "suite", "model", "task", "strategy", "seed", "model_fingerprint",
        "task_fingerprint", "strategy_config", "task_type", "classes", "version",
        "created_at", "duration_s", "info", "predictions", "provenance",
    )

    def __init__(self, path: str | Path) -> None:
        p = Path(path)
        self.path = sqlite_file(p, RESULTS_FILE)
        if self.path.exists() and self.path.stat().st_size > 0:
            with self.path.open("rb") as fh:
                if fh.read(16) != b"SQLite format 3\x00":
                    raise StoreError(
                        "file is not an adapteval store (not SQLite)", where=str(self.path),
                        fix="choose another output_dir or move the file away",
                    )
        self.conn = connect(self.path)
        try:
            with transaction(self.conn):  # tables of a new file made by one writer
                self.conn.execute(
                    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
                )
                self.conn.execute(
                    """CREATE TABLE IF NOT EXISTS cells (
                    key TEXT PRIMARY KEY, suite TEXT, model TEXT, task TEXT, strategy TEXT,
                    seed INTEGER, model_fingerprint TEXT, task_fingerprint TEXT,
                    strategy_config TEXT, task_type TEXT, classes TEXT, version TEXT,
                    created_at REAL, duration_s REAL, info TEXT, predictions BLOB,
                    provenance TEXT)"""
                )
                self._add_missing_columns()
                self.conn.execute(
                    "CREATE TABLE IF NOT EXISTS rank_scores (key TEXT PRIMARY KEY, model TEXT, "
                    "task TEXT, estimator TEXT, score REAL, seconds REAL, created_at REAL)"
                )
                self.conn.execute(
                    """CREATE TABLE IF NOT EXISTS analyses (
                    key TEXT PRIMARY KEY, cell_key TEXT, name TEXT, model TEXT, task TEXT,
                    strategy TEXT, seed INTEGER, config TEXT, result TEXT, version TEXT,
                    created_at REAL, duration_s REAL)"""
                )
                self.conn.execute(
                    "CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, owner TEXT, host TEXT, "
                    "pid INTEGER, expires REAL)"
                )
                self.conn.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                )
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise locked_error(exc, self.path) or StoreError(
                f"store is damaged ({exc})", where=str(self.path),
                fix="move the file away; finished cells in it cannot be read",
            ) from None

    def _add_missing_columns(self) -> None:
        """Columns newer than a store's file (``provenance``) are added in place; the
        rows written before read them as None."""
        have = {r[1] for r in self.conn.execute("PRAGMA table_info(cells)")}
        if "provenance" not in have:
            try:
                self.conn.execute("ALTER TABLE cells ADD COLUMN provenance TEXT")
            except sqlite3.OperationalError as exc:  # another run added it just now
                if "duplicate column" not in str(exc):
                    raise

    def close(self) -> None:
        self.conn.close()

    def finished_keys(self) -> set[str]:
        return {k for (k,) in self.conn.execute("SELECT key FROM cells")}

    def put(self, row: CellRow) -> bool:
        """Store a finished cell; returns False when the key was already there."""
        values = []
        for col in self.COLUMNS:
            v = getattr(row, col)
            values.append(json.dumps(v) if isinstance(v, dict | list) else v)
        with transaction(self.conn):
            cur = self.conn.execute(
                f"INSERT OR IGNORE INTO cells ({', '.join(self.COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(self.COLUMNS))})",
                values,
            )
            inserted = cur.rowcount == 1
            # the claim ends with the row, atomically: a kill right after leaves no claim
            self.conn.execute("DELETE FROM claims WHERE key = ?", (row.key,))
        return inserted

    def rows(self, keys: Iterable[str] | None = None) -> list[CellRow]:
        out = []
        for r in self._select("cells", self.COLUMNS, keys):
            d = dict(zip(self.COLUMNS, r, strict=True))
            for col in ("strategy_config", "info", "classes", "provenance"):
                d[col] = json.loads(d[col]) if d[col] is not None else None
            out.append(CellRow(**d))
        return out

    def _select(self, table: str, columns: tuple[str, ...], keys: Iterable[str] | None) -> list:
        """Rows of a table, all (oldest first) or those with the given keys (in chunks)."""
        sql = f"SELECT {', '.join(columns)} FROM {table}"
        if keys is None:
            return self.conn.execute(sql + " ORDER BY created_at").fetchall()
        keys, fetched = list(keys), []
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            fetched += self.conn.execute(
                sql + f" WHERE key IN ({', '.join('?' * len(chunk))})", chunk
            ).fetchall()
        return fetched

    def rank_scores(self, keys: list[str]) -> dict[str, tuple[float, float]]:
        """Stored transferability scores: key -> (score, seconds it took)."""
        out: dict[str, tuple[float, float]] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            out.update({k: (v, sec) for k, v, sec in self.conn.execute(
                f"SELECT key, score, seconds FROM rank_scores WHERE key IN ({', '.join('?' * len(chunk))})",
                chunk,
            )})
        return out

    def put_rank_scores(self, rows: list[tuple[str, str, str, str, float, float]]) -> None:
        """Store (key, model, task, estimator, score, seconds) rows."""
        with transaction(self.conn):
            self.conn.executemany(
                "INSERT OR REPLACE INTO rank_scores VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(*r, now()) for r in rows],
            )

    ANALYSIS_COLUMNS = (
        "key", "cell_key", "name", "model", "task", "strategy", "seed", "config", "result",
        "version", "created_at", "duration_s",
    )

    def finished_analysis_keys(self) -> set[str]:
        return {k for (k,) in self.conn.execute("SELECT key FROM analyses")}

    def put_analysis(self, row: AnalysisRow) -> bool:
        """Store a finished analysis; returns False when the key was already there."""
        values = [
            json.dumps(getattr(row, c), allow_nan=False) if c in ("config", "result")
            else getattr(row, c)
            for c in self.ANALYSIS_COLUMNS
        ]
        with transaction(self.conn):
            cur = self.conn.execute(
                f"INSERT OR IGNORE INTO analyses ({', '.join(self.ANALYSIS_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(self.ANALYSIS_COLUMNS))})",
                values,
            )
        return cur.rowcount == 1

    def analysis_rows(self, keys: Iterable[str] | None = None) -> list[AnalysisRow]:
        out = []
        for r in self._select("analyses", self.ANALYSIS_COLUMNS, keys):
            d = dict(zip(self.ANALYSIS_COLUMNS, r, strict=True))
            d["config"], d["result"] = json.loads(d["config"]), json.loads(d["result"])
            out.append(AnalysisRow(**d))
        return out

    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM cells").fetchone()[0])

    # --- claims: which run is computing which cell -------------------------------------

    def claim(self, keys: list[str], owner: Owner, *, lease_s: float = 3600.0) -> set[str]:
        """Claim cells for ``owner``; returns the keys now held by it. A key another live
        run holds is not taken; a claim whose lease ran out, or whose run (on this host)
        is gone, is taken over. Keys of cells already stored are not claimed (to rerun
        only a stored cell's analyses, claim another key for it, e.g. ``"a:" + key``)."""
        got: set[str] = set()
        with transaction(self.conn):
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                marks = ", ".join("?" * len(chunk))
                stored = {k for (k,) in self.conn.execute(
                    f"SELECT key FROM cells WHERE key IN ({marks})", chunk)}
                held = {k: (o, h, p, e) for k, o, h, p, e in self.conn.execute(
                    f"SELECT key, owner, host, pid, expires FROM claims WHERE key IN ({marks})",
                    chunk)}
                for key in chunk:
                    if key in stored:
                        continue
                    if key in held and held[key][0] != owner.id and owner.holds_live(*held[key]):
                        continue
                    self.conn.execute("INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?, ?)",
                                      (key, owner.id, owner.host, owner.pid, now() + lease_s))
                    got.add(key)
        return got

    def renew(self, owner: Owner, *, lease_s: float = 3600.0) -> None:
        with transaction(self.conn):
            self.conn.execute("UPDATE claims SET expires = ? WHERE owner = ?",
                              (now() + lease_s, owner.id))

    def release(self, owner: Owner, keys: Iterable[str] | None = None) -> None:
        with transaction(self.conn):
            if keys is None:
                self.conn.execute("DELETE FROM claims WHERE owner = ?", (owner.id,))
            else:
                self.conn.executemany("DELETE FROM claims WHERE owner = ? AND key = ?",
                                      [(owner.id, k) for k in keys])


@dataclass(frozen=True)
class Owner:
    """One run, as a claim holder: host and process id let a run on the same host see at
    once that a claim's run is dead (SIGKILL leaves its claims behind)."""

    id: str
    host: str
    pid: int

    @classmethod
    def me(cls) -> Owner:
        host, pid = socket.gethostname(), os.getpid()
        return cls(f"{host}:{pid}:{uuid.uuid4().hex[:8]}", host, pid)

    def holds_live(self, owner: str, host: str, pid: int, expires: float) -> bool:
        """Whether a claim by another run still stands."""
        if expires < now():
            return False
        if host == self.host:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return False
            except PermissionError:
                return True
        return True


def now() -> float:
    return time.time()
