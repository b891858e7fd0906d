"""Output paths that stay inside the output directory.

Suite, task and model names and user-given report or cache paths end up in file names;
joining them blindly would let ``../`` or an absolute part write anywhere on disk.
"""

from __future__ import annotations

import os
from pathlib import Path

from adapteval.core.errors import ConfigError


def inside(root: str | Path, *parts: str | Path, where: str = "output path") -> Path:
    """``root / parts``, refused when the result (symlinks resolved) leaves ``root``."""
    base = Path(root).resolve()
    for part in parts:
        if Path(part).is_absolute():
            raise ConfigError(
                "an output path must be relative to the output directory", where=where,
                value=str(part), fix="give a relative name without a leading '/'",
            )
    target = base.joinpath(*parts).resolve()
    if target != base and base not in target.parents:
        raise ConfigError(
            "an output path must stay inside the output directory", where=where,
            value=str(Path(*parts)), fix="remove '..' from the name",
        )
    return target


SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")


def sqlite_file(path: str | Path, default_name: str) -> Path:
    """The SQLite file a user-given path means: the path itself when it ends in a SQLite
    suffix or is an existing SQLite file, else ``default_name`` inside it as a folder (so
    a folder called ``results-v1.5`` is a folder, whatever its dots)."""
    p = Path(path)
    if p.is_dir():
        return p / default_name
    if p.suffix.lower() in SQLITE_SUFFIXES:
        return p
    if p.is_file():
        with p.open("rb") as fh:
            if fh.read(16) == b"SQLite format 3\x00":
                return p
    return p / default_name


def cache_root() -> Path:
    """Where adapteval keeps what it derives from model files (converted GGUF models,
    weight fingerprints): ``ADAPTEVAL_CACHE``, else the user cache folder."""
    root = os.environ.get("ADAPTEVAL_CACHE")
    if root:
        return Path(root).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "adapteval"
