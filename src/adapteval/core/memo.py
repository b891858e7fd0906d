"""Values derived from inputs that do not change, kept across runs: one SQLite file per
kind of value under the cache folder (``$ADAPTEVAL_CACHE/<name>.sqlite``).

A caller keys each value by a digest of everything that determines it (its inputs, the
source of the code that computes it, the versions of the libraries it calls), so a kept
value is exactly what computing it again would give. Reading needs none of those
libraries: a rerun that finds a task's splits or a cell's scores kept does not import
scikit-learn to draw them again. A cache that cannot be opened, read or written (a
read-only folder, a locked or damaged file) only costs the computing; it is never an
error. Past ``keep`` entries, the oldest written go first.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from functools import cache
from importlib import metadata, util
from pathlib import Path

from adapteval._version import __version__
from adapteval.core.paths import cache_root

TIMEOUT_S = 5.0


@cache
def code_stamp(*modules: str, libraries: tuple[str, ...] = ()) -> str:
    """A digest of the source of ``modules``, adapteval's version and the installed
    versions of ``libraries`` (read from their metadata, not imported)."""
    h = hashlib.sha256(__version__.encode())
    for name in modules:
        spec = util.find_spec(name)
        h.update(Path(spec.origin).read_bytes() if spec and spec.origin else name.encode())
    for lib in libraries:
        try:
            h.update(f"|{lib}={metadata.version(lib)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"|{lib}=none".encode())
    return h.hexdigest()


def digest(*parts: bytes | str) -> str:
    """One key from several parts (each length-prefixed, so parts cannot run together)."""
    h = hashlib.blake2b(digest_size=24)
    for p in parts:
        b = p.encode() if isinstance(p, str) else p
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


class Memo:
    """Bytes by key in ``$ADAPTEVAL_CACHE/<name>.sqlite``."""

    def __init__(self, name: str, keep: int) -> None:
        self.name, self.keep = name, keep

    @property
    def path(self) -> Path:
        return cache_root() / f"{self.name}.sqlite"

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        path = self.path
        if not create and not path.is_file():
            return None
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=TIMEOUT_S)
        if create:  # a reader writes nothing (a read-only cache folder still reads)
            try:
                conn.execute("CREATE TABLE IF NOT EXISTS kept (key TEXT PRIMARY KEY, "
                             "value BLOB)")
            except sqlite3.Error:
                conn.close()
                raise
        return conn

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes]:
        """The kept values of those ``keys`` that have one."""
        keys = list(dict.fromkeys(keys))
        found: dict[str, bytes] = {}
        if not keys:
            return found
        db = None
        try:
            db = self._connect(create=False)
            if db is None:
                return found
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                marks = ",".join("?" * len(chunk))
                found.update(db.execute(
                    f"SELECT key, value FROM kept WHERE key IN ({marks})", chunk))
        except (sqlite3.Error, OSError):
            return {}
        finally:
            if db is not None:
                db.close()
        return found

    def get(self, key: str) -> bytes | None:
        return self.get_many([key]).get(key)

    def put_many(self, items: dict[str, bytes]) -> None:
        """Keep ``items`` (one transaction); failures ignored."""
        if not items:
            return
        db = None
        try:
            db = self._connect(create=True)
            assert db is not None
            with db:  # one transaction
                db.executemany("INSERT OR REPLACE INTO kept (key, value) VALUES (?, ?)",
                               list(items.items()))
                (n,) = db.execute("SELECT COUNT(*) FROM kept").fetchone()
                if n > self.keep:
                    db.execute("DELETE FROM kept WHERE rowid IN (SELECT rowid FROM kept "
                               "ORDER BY rowid LIMIT ?)", (n - self.keep,))
        except (sqlite3.Error, OSError):
            return
        finally:
            if db is not None:
                db.close()

    def put(self, key: str, value: bytes) -> None:
        self.put_many({key: value})
