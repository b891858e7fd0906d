"""Drawn plots kept on disk, so a report of unchanged results is written without
matplotlib.

Drawing is most of a report's time (about a quarter of a second per figure, plus a
second and a half to import matplotlib), and a rerun that finds every cell stored
rewrites the same report from the same numbers. Each SVG is kept under a key that
covers everything its drawing reads: the plot's kind, title and data (plain data,
serialised canonically), the source of ``report.plots`` and ``report.image_plots`` (style
and figure code), and the versions of adapteval and matplotlib. Anything that changes a
figure changes its key, so a kept SVG is exactly what drawing again would give, up to the
random ids matplotlib gives its clip paths. The files live in ``$ADAPTEVAL_CACHE/plots`` (default
``~/.cache/adapteval/plots``), written atomically; the oldest go once there are more than
``KEEP``. A cache that cannot be read or written only costs the drawing.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from adapteval.contracts.section import PlotSpec
from adapteval.core.memo import code_stamp
from adapteval.core.paths import cache_root

KEEP = 2000  # SVGs kept (a few MB); the least recently written go first


def _code_stamp() -> str:
    return code_stamp("adapteval.report.plots", "adapteval.report.image_plots",
                      "adapteval.report.curve_plots", libraries=("matplotlib",))


def _key(spec: PlotSpec) -> str | None:
    try:
        data = json.dumps([spec.kind, spec.title, spec.data], sort_keys=True, allow_nan=True,
                          separators=(",", ":"))
    except (TypeError, ValueError):  # not plain data: drawn every time
        return None
    return hashlib.sha256(f"{_code_stamp()}|{data}".encode()).hexdigest()


def folder() -> Path:
    return cache_root() / "plots"


def read(spec: PlotSpec) -> tuple[str | None, str | None]:
    """``(key, svg)``: the kept drawing of ``spec`` (``""``: a kind the report does not
    draw as a figure), or ``(key, None)`` when none is kept."""
    key = _key(spec)
    if key is None:
        return None, None
    try:
        text = (folder() / f"{key}.svg").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return key, None
    if text and (not text.startswith("<svg") or "<script" in text.lower()):  # not ours
        return key, None
    return key, text


def write(key: str | None, svg: str) -> None:
    """Keep ``svg`` under ``key`` (atomically; failures ignored)."""
    if key is None:
        return
    root = folder()
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=root, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(svg)
        os.replace(tmp, root / f"{key}.svg")
        _prune(root)
    except OSError:
        return


def _prune(root: Path) -> None:
    files = list(root.glob("*.svg"))
    if len(files) <= KEEP:
        return
    by_age: list[tuple[float, Any]] = []
    for f in files:
        try:
            by_age.append((f.stat().st_mtime, f))
        except OSError:
            continue
    for _, f in sorted(by_age)[: len(by_age) - KEEP]:
        f.unlink(missing_ok=True)
