"""Stored analysis rows digested for the sections of an analysis: the helpers each
analysis' ``Analysis.sections`` uses to build its ``Section.data`` (seeds averaged, rows
grouped in first-seen order, a few stored examples) and the tables the written reports
show of it, and the generic digest of any analysis without its own.

Each digest takes the stored rows of one analysis (any objects with ``model``, ``task``,
``strategy``, ``seed`` and a ``result`` dict shaped as the analysis contract says) and
returns a plain JSON-able dict, or ``None`` when there is nothing to show, so a report
leaves the section out instead of showing it empty. Seeds are averaged: a report is read
at the level of model, strategy and task.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import numpy as np

from adapteval.contracts.section import Cell, SectionTable, columns

EXAMPLES_PER_GROUP = 3
MAX_EXAMPLES = 8


class ResultRow(Protocol):
    model: str
    task: str
    strategy: str
    seed: int
    result: dict[str, Any]


def mean(values: Iterable[Any]) -> float | int | None:
    """Mean of the finite numbers among ``values`` (None when there are none); an int
    when every value is an int and so is their mean (a count stays a count)."""
    values = [v for v in values if isinstance(v, int | float) and np.isfinite(v)]
    if not values:
        return None
    m = float(np.mean([float(v) for v in values]))
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values) and m.is_integer():
        return int(m)
    return m


def grouped(rows: Iterable[Any], keys: Sequence[str]) -> dict[tuple, list[Any]]:
    """Rows (objects or dicts) grouped by the values of ``keys``, in first-seen order."""
    out: dict[tuple, list[Any]] = {}
    for r in rows:
        key = tuple(r[k] if isinstance(r, dict) else getattr(r, k) for k in keys)
        out.setdefault(key, []).append(r)
    return out


def averaged(rows: Sequence[ResultRow], fields: Sequence[str]) -> list[dict[str, Any]]:
    """Per model, strategy and task: the mean over seeds of each top-level number."""
    out = []
    for (model, strategy, task), rs in grouped(rows, ("model", "strategy", "task")).items():
        rec: dict[str, Any] = {"model": model, "strategy": strategy, "task": task,
                               "n_seeds": len(rs)}
        rec.update({f: mean(r.result.get(f) for r in rs) for f in fields})
        out.append(rec)
    return out


def envelope(rows: Sequence[ResultRow], field: str) -> list[float] | None:
    """[lowest lower bound, highest upper bound] of per-seed intervals ``field``."""
    pairs = [r.result.get(field) for r in rows]
    pairs = [p for p in pairs if isinstance(p, list | tuple) and len(p) == 2 and None not in p]
    if not pairs:
        return None
    return [float(min(p[0] for p in pairs)), float(max(p[1] for p in pairs))]


def examples(rows: Sequence[ResultRow], key: str = "examples") -> list[dict[str, Any]]:
    """A few stored examples per model and strategy (first seed that has any)."""
    out: list[dict[str, Any]] = []
    for (model, strategy), rs in grouped(rows, ("model", "strategy")).items():
        for r in rs:
            items = [e for e in r.result.get(key) or [] if isinstance(e, dict)]
            if items:
                out += [{"model": model, "strategy": strategy, "task": r.task, **e}
                        for e in items[:EXAMPLES_PER_GROUP]]
                break
    return out[:MAX_EXAMPLES]


def other(rows: Sequence[ResultRow], scalars: Callable[[dict[str, Any]], dict[str, Any]]
          ) -> dict[str, Any] | None:
    """Any other analysis (e.g. one a user registered): its headline numbers per model,
    strategy and task, and its examples when it keeps some."""
    fields = list(dict.fromkeys(k for r in rows for k in scalars(r.result)))
    summary = []
    for (model, strategy, task), rs in grouped(rows, ("model", "strategy", "task")).items():
        rec: dict[str, Any] = {"model": model, "strategy": strategy, "task": task,
                               "n_seeds": len(rs)}
        rec.update({f: mean(scalars(r.result).get(f) for r in rs) for f in fields})
        summary.append(rec)
    shown = [{k: v if isinstance(v, int | float | str | None) else str(v) for k, v in e.items()}
             for e in examples(rows)]
    if not summary:
        return None
    return {"fields": fields, "summary": summary, "examples": shown}


def top_level_numbers(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items()
            if isinstance(v, int | float) and not isinstance(v, bool)}


def cell(value: Any, digits: int = 3, ci: Any = None) -> Cell:
    """A digested value as the written reports show it: floats with ``digits`` decimals,
    counts with thousands separators, booleans as yes / no, nothing as ``–``; ``ci`` (a
    pair) is shown after the value."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return Cell.na(text="–")
    if isinstance(value, bool):
        return Cell("yes" if value else "no")
    if isinstance(value, int):
        return Cell(value, "number", ",d")
    if isinstance(value, float):
        pair = tuple(float(v) for v in ci) if ci else None
        return Cell(value, "number", f".{digits}f", ci=pair)
    return Cell(str(value))


def table(records: Sequence[dict[str, Any]], cols: Sequence[str],
          labels: Sequence[str] | None = None, *, digits: int = 3, caption: str = "",
          intervals: dict[str, str] | None = None) -> SectionTable:
    """Digested records as a table of the written reports: ``cols`` (headed ``labels``);
    ``intervals`` maps a column to the field holding its interval."""
    ivs = intervals or {}
    out = SectionTable(columns(*(labels or cols)), caption=caption)
    for r in records:
        out.add(*[cell(r.get(c), digits, r.get(ivs[c]) if c in ivs else None) for c in cols])
    return out


def examples_table(records: Sequence[dict[str, Any]]) -> SectionTable | None:
    """Stored examples as a table (columns of the first), or None when there are none."""
    if not records:
        return None
    out = table(records, list(records[0]))
    out.key = "examples"
    return out


Rows = Sequence[ResultRow]
"""The stored rows of one analysis, as a digest reads them."""
