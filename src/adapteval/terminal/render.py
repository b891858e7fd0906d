"""Section tables as rich tables that fit the console: the terminal's view of the
presentation model.

A number is never cut. Columns holding numbers (scores, intervals, counts) keep each
value on one line at its full width; name columns (task, model, strategy, rules) wrap at
spaces and fold long names. When even that is wider than the console, the table is split:
its leading name columns are repeated and the other columns continue in further tables
below (``(continued)``), each as wide as the console allows. The width is read when the
table is drawn, so the same object fits an 80- and a 120-column terminal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from adapteval.contracts.section import Cell, Section, SectionTable, plain

STATUS = {"good": "green", "bad": "red"}
NUMERIC = ("number", "ci", "pair", "count")
NAME_FLOOR = 10  # a name column folds no narrower than this (or its widest number word)
HEADER_FLOOR = 4  # a header folds no narrower than this (or its column's widest value)
CONTINUED = "(continued)"
_NUMBER_WORD = re.compile(r"[(\[]*[-+±]?\d[\d.,]*%?[)\],;:]*")


def shown(cell: Cell) -> str:
    """A cell's characters as the terminal shows them: the value, then its note."""
    body = plain(cell)
    return " ".join(x for x in (body, f"({cell.note})" if cell.note else "") if x)


def text(cell: Cell) -> str:
    """A cell as rich markup (the same characters every view of a number shows)."""
    body = plain(cell)
    style = _style(cell)
    if style:
        body = f"[{style}]{body}[/]"
    if cell.note:
        body = " ".join(x for x in (body, f"[dim]({cell.note})[/]") if x)
    return body


def _style(cell: Cell) -> str:
    return " ".join(s for s in ("bold" if cell.strong else "",
                                STATUS.get(cell.status or "", "")) if s)


def number_words(s: str) -> list[str]:
    """The words of a text that are numbers (``0.80``, ``(12)``, ``+3.1%``): a view may
    wrap a text between words, never inside one of these."""
    return [w for w in s.split() if _NUMBER_WORD.fullmatch(w)]


def _unit(cell: Cell) -> str:
    """The part of a number cell that stays on one line: all of it, or with a ``label``
    in front, the value in parentheses (the label may wrap above it)."""
    if cell.label is None or cell.kind != "number":
        return shown(cell)
    return shown(replace(cell, label=None)).join("()") if not cell.note else shown(cell)


def _rich(cell: Cell, numeric: bool, width: int) -> Text:
    style = _style(cell)
    body = plain(cell)
    if numeric and cell_len(shown(cell)) > width and _unit(cell) != shown(cell):
        body = f"{cell.label}\n{_unit(cell)}"  # the label above, the value whole below
    out = Text(body, style=style, overflow="fold")
    if cell.note:
        if out:
            out.append(" ")
        out.append(f"({cell.note})", style="dim")
    if numeric and "\n" not in body:  # one line, whole: the column is never narrower
        out.no_wrap, out.overflow = True, "ellipsis"
    return out


@dataclass(frozen=True)
class _Width:
    """A column's natural width and the narrower widths it may take, in the order a
    table gives them up: ``whole`` (every value on one line, the header wrapped between
    words), ``words`` (names wrapped between words, a label above its value) and
    ``floor`` (long names and header words folded)."""

    natural: int
    whole: int
    words: int
    floor: int

    def at(self, stage: int) -> int:
        return (self.whole, self.words, self.floor)[stage]


def _longest(words: Iterable[str]) -> int:
    return max((cell_len(w) for w in words), default=0)


def _measure(t: SectionTable) -> tuple[list[bool], list[_Width]]:
    """Per column: whether it holds numbers, and its natural and narrower widths."""
    numeric, widths = [], []
    for i, col in enumerate(t.columns):
        cells = [r.cells[i] for r in t.rows if i < len(r.cells)]
        is_num = any(c.kind in NUMERIC for c in cells)
        values = max([cell_len(shown(c)) for c in cells] or [0])
        head_word = _longest(col.name.split())
        natural = max(cell_len(col.name), values, 1)
        if is_num:
            units = max([cell_len(_unit(c)) for c in cells] or [0])
            labels = _longest(w for c in cells if c.label for w in c.label.split())
            words = max(units, labels, head_word)
            floor = max(units, min(head_word, max(HEADER_FLOOR, units)))
        else:
            nums = _longest(w for c in cells for w in number_words(shown(c)))
            words = max(_longest(w for c in cells for w in shown(c).split()), nums, head_word)
            floor = max(min(natural, NAME_FLOOR), nums, min(head_word, HEADER_FLOOR))
        whole = min(max(values, head_word, 1), natural)
        words = min(words, whole)
        numeric.append(is_num)
        widths.append(_Width(natural, whole, words, max(1, min(floor, words))))
    return numeric, widths


def _overhead(n: int) -> int:
    """Characters a rich table adds to its columns' content: padding, rules, edges."""
    return 3 * n + 1


def fit(widths: list[_Width], room: int, last: int = 2) -> list[int] | None:
    """Column widths within ``room`` characters (the table's whole width): natural where
    there is room, else narrowed stage by stage (up to stage ``last``), the widest
    columns first; None when even that does not fit."""
    budget = room - _overhead(len(widths))
    if sum(w.at(last) for w in widths) > budget:
        return None
    out = [w.natural for w in widths]
    excess = sum(out) - budget
    for stage in range(last + 1):
        while excess > 0:
            slack = [(out[i], i) for i, w in enumerate(widths) if out[i] > w.at(stage)]
            if not slack:
                break
            widest = max(slack)[0]
            for _, i in sorted(slack, reverse=True):
                if out[i] < widest or excess <= 0:
                    break
                out[i] -= 1
                excess -= 1
    return out


def _folds(t: SectionTable, numeric: list[bool], widths: list[int],
           cols: list[int] | None = None) -> int:
    """How many rows would fold a word (a name or a label) at these widths (of columns
    ``cols``, default all)."""
    cols = list(range(len(widths))) if cols is None else cols

    def folds(c: Cell, j: int, width: int) -> bool:
        words = (c.label or "").split() if numeric[j] else shown(c).split()
        return _longest(words) > width

    return sum(any(folds(r.cells[j], j, w) for j, w in zip(cols, widths, strict=True)
                   if j < len(r.cells)) for r in t.rows)


def _fits(t: SectionTable, numeric: list[bool], widths: list[_Width], cols: list[int],
          room: int) -> list[int] | None:
    """Widths for columns ``cols`` within ``room``: without folding a word, or folding
    the names of a few rows only (None when neither fits)."""
    got = fit([widths[j] for j in cols], room, 1)
    if got is None:
        folded = fit([widths[j] for j in cols], room)
        if folded is not None and _folds(t, numeric, folded, cols) <= max(1, len(t.rows) // 4):
            got = folded
    return got


def layout(t: SectionTable, room: int) -> list[tuple[list[int], list[int]]]:
    """How a table fits ``room`` characters: one (columns, widths) per part. One part
    when it fits without folding a word (or folding the names of a few rows only);
    else its leading name columns repeated in every part and the other columns spread
    over as few parts as fit."""
    numeric, widths = _measure(t)
    n = len(t.columns)
    keys: list[int] = []
    for i in range(n - 1):
        if numeric[i]:
            break
        keys.append(i)
    whole = _fits(t, numeric, widths, list(range(n)), room)  # folding a few long names
    if whole is not None or len(keys) == n - 1 or n < 2:       # beats splitting the table
        return [(list(range(n)), whole or fit(widths, room) or [w.floor for w in widths])]
    parts: list[list[int]] = []
    for i in range(len(keys), n):
        if parts and _fits(t, numeric, widths, keys + parts[-1] + [i], room) is not None:
            parts[-1].append(i)
        else:
            parts.append([i])
    out = []
    for part in parts:
        cols = keys + part
        got = fit([widths[j] for j in cols], room)
        if got is None:  # too narrow for even one value beside the names: names fold more
            narrow = [_Width(widths[j].natural, 1, 1, 1) if j in keys else widths[j]
                      for j in cols]
            got = fit(narrow, room) or [widths[j].floor for j in cols]
        out.append((cols, got))
    return out


class FitTable:
    """A section table drawn as one rich table, or split into parts, to fit the width
    it is drawn at."""

    def __init__(self, t: SectionTable) -> None:
        self.section_table = t

    def tables(self, room: int) -> list[Table]:
        t = self.section_table
        parts = layout(t, room)
        numeric, _ = _measure(t)
        out = []
        for k, (cols, widths) in enumerate(parts):
            title = t.caption if k == 0 else (f"{t.caption} {CONTINUED}" if t.caption
                                              else CONTINUED)
            table = Table(title=title or None, title_justify="left",
                          caption=(t.legend or None) if k == len(parts) - 1 else None,
                          caption_justify="left")
            for j, w in zip(cols, widths, strict=True):
                c = t.columns[j]
                table.add_column(Text(c.name, overflow="fold"), justify=c.align, width=w,
                                 overflow="fold")
            for r in t.rows:
                if r.new_group:
                    table.add_section()
                table.add_row(*[_rich(r.cells[j], numeric[j], w) if j < len(r.cells) else ""
                                for j, w in zip(cols, widths, strict=True)],
                              style="bold" if r.strong else None)
            out.append(table)
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        tables = self.tables(options.max_width)
        for k, table in enumerate(tables):
            if k:
                yield Text("")
            yield table

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        _, widths = _measure(self.section_table)
        natural = sum(w.natural for w in widths) + _overhead(len(widths))
        return Measurement(min(natural, options.max_width), min(natural, options.max_width))


def table(t: SectionTable) -> FitTable:
    """One section table for the terminal (caption as its title, legend below, split
    into parts when too wide), fitted to the console's width when printed."""
    return FitTable(t)


def tables(sections: Iterable[Section]) -> list[FitTable]:
    return [table(t) for s in sections for t in s.tables]

