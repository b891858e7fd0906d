"""Output paths that stay inside the output directory.

Suite, task and model names and user-given report or cache paths end up in file names;
joining them blindly would let ``../`` or an absolute part write anywhere on disk.
"""

from __future__ import annotations

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
