"""Presentation-neutral sections: what a table shows, not how it is drawn.

Analyses (next to their code, ``Analysis.sections``) and the Results-level builders
(``adapteval.presentation``, one per section) describe their output as :class:`Section`
objects: tables, plots as
:class:`PlotSpec` data, examples, notes and the numbers the JSON export carries. The
terminal (rich), the Markdown and the HTML views render the same objects, each in its own
style (``plain`` gives a cell's characters, the same in every view). Plain dataclasses:
no rich, Jinja2 or matplotlib here.

A :class:`Cell` carries a value and how it reads: ``text`` (as is), ``number`` (a format
spec such as ``".3f"``, ``"+.3f"``, ``".0%"``, ``",.0f"``, ``"d"``, ``".4g"``, optionally
with ``std`` (shown ``±std``), ``ci`` (shown ``[lo, hi]`` in the same spec) or a ``label``
in front (shown ``label (value)``)), ``ci`` alone, ``pair`` (two numbers ``a / b``),
``count`` (an integer, as is), ``na`` (no value; ``reason`` says why, ``text`` is what
a view prints: ``n/a`` when there is a reason, else ``—``) and ``image`` (PNG bytes
adapteval encoded, ``contracts.images``; the HTML view shows the picture, every other view
``[image: label]``).

A number without a value (None or NaN) is never printed as ``nan``: it reads as ``na``
(``Cell.of``, and ``plain`` of any NaN number), an undefined ``std`` or ``ci`` is left out,
and a table lists the reason of each ``n/a`` it holds in its legend (``SectionTable.add``),
so every view shows why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

CellKind = Literal["text", "count", "number", "ci", "pair", "na", "image"]
Align = Literal["left", "right"]
Status = Literal["good", "bad"]


@dataclass(frozen=True)
class Cell:
    """One value of a table and how it reads."""

    value: Any = None
    kind: CellKind = "text"
    fmt: str = ".3f"
    std: float | None = None
    ci: tuple[float, float] | None = None
    label: str | None = None
    note: str | None = None  # a quiet remark after the value, in parentheses
    reason: str | None = None  # for ``na``: why nothing was measured
    text: str = "—"  # for ``na``: what the views print
    strong: bool = False
    status: Status | None = None

    @classmethod
    def of(cls, value: Any, fmt: str = ".3f", *, reason: str | None = None,
           text: str | None = None, **kw: Any) -> Cell:
        """A number, or ``na`` when it is missing (None or NaN; ``reason`` says why)."""
        if missing(value):
            return cls.na(reason, text)
        if kw.get("std") is not None and missing(kw["std"]):
            kw["std"] = None
        if kw.get("ci") is not None and any(missing(v) for v in kw["ci"]):
            kw["ci"] = None
        return cls(value, "number", fmt, **kw)

    @classmethod
    def interval(cls, lo: float | None, hi: float | None, fmt: str = ".3f", *,
                 reason: str | None = None) -> Cell:
        """``[lo, hi]``, or ``na`` when a bound is missing."""
        if missing(lo) or missing(hi):
            return cls.na(reason)
        return cls(None, "ci", fmt, ci=(lo, hi))  # type: ignore[arg-type]

    @classmethod
    def image(cls, png: bytes, alt: str = "") -> Cell:
        """A picture: PNG bytes (``contracts.images.image_cell`` makes them from pixels);
        ``alt`` describes it where a view cannot show it."""
        if not isinstance(png, bytes) or not png.startswith(b"\x89PNG\r\n\x1a\n"):
            raise ValueError("an image cell holds PNG bytes")
        return cls(png, "image", label=str(alt))

    @classmethod
    def na(cls, reason: str | None = None, text: str | None = None) -> Cell:
        """No value: ``n/a`` with its reason, or ``—`` (nothing here) without one."""
        return cls(kind="na", reason=reason, text=text or ("n/a" if reason else "—"))


def missing(value: Any) -> bool:
    """None or NaN: a number with no value."""
    return value is None or (isinstance(value, float | int) and value != value)


def cells(*values: Any) -> tuple[Cell, ...]:
    """Cells of plain values: a Cell stays, anything else is text."""
    return tuple(v if isinstance(v, Cell) else Cell(v) for v in values)


@dataclass(frozen=True)
class Column:
    name: str
    align: Align = "left"
    wrap: bool = False  # False: the view keeps the column on one line


@dataclass(frozen=True)
class Row:
    cells: tuple[Cell, ...]
    new_group: bool = False  # a rule above this row
    strong: bool = False  # a summary row


@dataclass
class SectionTable:
    """One table: columns, rows (in groups), a caption (its title), a legend and a key
    that names it for views that address tables (e.g. an HTML class)."""

    columns: list[Column]
    rows: list[Row] = field(default_factory=list)
    caption: str = ""
    legend: str = ""
    key: str = ""

    def add(self, *values: Any, new_group: bool = False, strong: bool = False) -> None:
        """A row; the reason of each ``n/a`` cell in it joins the legend."""
        row = Row(cells(*values), new_group=new_group, strong=strong)
        self.rows.append(row)
        for c in row.cells:
            if c.kind == "na" and c.reason:
                self.explain(c.reason)

    def explain(self, reason: str) -> None:
        """Add ``n/a: reason`` to the legend (a line each, once)."""
        line = f"n/a: {reason}"
        if line not in self.legend.split("\n"):
            self.legend = f"{self.legend}\n{line}" if self.legend else line


def columns(*names: str, left: Sequence[str] = (), right: Sequence[str] = (),
            wrap: Sequence[str] = ()) -> list[Column]:
    """Columns by name: those in ``left`` (or not in ``right`` when ``right`` is given)
    align left, the rest right; ``wrap`` names the ones that may wrap."""
    def align(n: str) -> Align:
        if right:
            return "right" if n in right else "left"
        return "left" if n in left else "right"

    return [Column(n, align(n), n in wrap) for n in names]


@dataclass(frozen=True)
class PlotSpec:
    """A figure a view may draw: its kind (e.g. ``retention``, ``heatmap``), a title and
    the plain data the plot reads."""

    kind: str
    title: str = ""
    data: Any = None


@dataclass
class Section:
    """A part of a report: a key, a title, an introduction, tables, plots and notes.

    ``tables`` are what every view shows (the terminal only these); the written reports
    (HTML, Markdown) show ``report_tables`` instead when it is not None (e.g. with seed
    counts and intervals; ``[]``: nothing), then ``examples`` (a few stored items).
    ``part`` names where a written report places the section (``overview``,
    ``flexibility``, ``compression``, ``acceptability``, ``other``, ...; empty: the
    written reports leave it out, e.g. a terminal-only table) and
    ``data`` holds its numbers as plain JSON-able data (what the JSON export carries).
    """

    key: str
    title: str = ""
    intro: str = ""
    tables: list[SectionTable] = field(default_factory=list)
    plots: list[PlotSpec] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    report_tables: list[SectionTable] | None = None
    examples: SectionTable | None = None
    part: str = ""
    data: Any = None

    def written(self) -> list[SectionTable]:
        """The tables a written report shows (``report_tables``, else ``tables``)."""
        return self.tables if self.report_tables is None else self.report_tables


def plain(cell: Cell) -> str:
    """A cell's characters, the same in every view (views add their own styling); a NaN
    number reads ``n/a``, an undefined std or interval is left out."""
    if cell.kind == "na":
        return cell.text
    if cell.kind == "image":
        return f"[image: {cell.label}]" if cell.label else "[image]"
    if cell.kind == "count" and missing(cell.value):
        return "n/a"
    if cell.kind in ("text", "count"):
        return str(cell.value)
    if cell.kind == "ci":
        lo, hi = cell.ci  # type: ignore[misc]
        if missing(lo) or missing(hi):
            return "n/a"
        return f"[{format(lo, cell.fmt)}, {format(hi, cell.fmt)}]"
    if cell.kind == "pair":
        return " / ".join("n/a" if missing(v) else format(v, cell.fmt) for v in cell.value)
    if missing(cell.value):
        return "n/a" if cell.label is None else f"{cell.label} (n/a)"
    body = format(cell.value, cell.fmt)
    if cell.std is not None and not missing(cell.std):
        body += f" ±{cell.std:.3f}"
    if cell.ci is not None and not any(missing(v) for v in cell.ci):
        body += f" [{format(cell.ci[0], cell.fmt)}, {format(cell.ci[1], cell.fmt)}]"
    if cell.label is not None:
        body = f"{cell.label} ({body})"
    return body
