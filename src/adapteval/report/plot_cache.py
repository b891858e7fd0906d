"""Drawn plots kept on disk, so a report of unchanged results is written without
matplotlib.

Drawing is most of a report's time (about a quarter of a second per figure, plus a
second and a half to import matplotlib), and a rerun that finds every cell stored
rewrites the same report from the same numbers. Each SVG is kept under a key that
covers everything its drawing reads: the plot's kind, title and data (plain data,
serialised canonically), the source of ``report.plots`` and ``report.image_plots`` (style
and figure code), and the versions of adapteval and matplotlib. Anything that changes a
figure changes its key, so a kept SVG is exactly what drawing again would give, up to the
random ids matplotlib gives its clip paths. They are kept in ``$ADAPTEVAL_CACHE/plots.sqlite``
(default ``~/.cache/adapteval``; ``core.memo.Memo``), the oldest going once there are more
than ``KEEP``. A cache that cannot be read or written only costs the drawing.
"""

from __future__ import annotations

import hashlib
import json

from adapteval.contracts.section import PlotSpec
from adapteval.core.memo import Memo, code_stamp

KEEP = 2000  # SVGs kept (a few MB); the oldest written go first
KEPT = Memo("plots", keep=KEEP)


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


def read(spec: PlotSpec) -> tuple[str | None, str | None]:
    """``(key, svg)``: the kept drawing of ``spec`` (``""``: a kind the report does not
    draw as a figure), or ``(key, None)`` when none is kept."""
    key = _key(spec)
    if key is None:
        return None, None
    kept = KEPT.get(key)
    try:
        text = None if kept is None else kept.decode("utf-8")
    except UnicodeDecodeError:
        return key, None
    if text and (not text.startswith("<svg") or "<script" in text.lower()):  # not ours
        return key, None
    return key, text


def write(key: str | None, svg: str) -> None:
    """Keep ``svg`` under ``key`` (failures ignored)."""
    if key is not None:
        KEPT.put(key, svg.encode("utf-8"))
