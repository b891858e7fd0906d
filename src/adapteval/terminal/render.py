"""Section tables as rich tables: the terminal's view of the presentation model."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table

from adapteval.contracts.section import Cell, Section, SectionTable, plain

STATUS = {"good": "green", "bad": "red"}


def text(cell: Cell) -> str:
    """A cell as rich markup (the same characters every view of a number shows)."""
    body = plain(cell)
    style = " ".join(s for s in ("bold" if cell.strong else "",
                                 STATUS.get(cell.status or "", "")) if s)
    if style:
        body = f"[{style}]{body}[/]"
    if cell.note:
        body = " ".join(x for x in (body, f"[dim]({cell.note})[/]") if x)
    return body


def table(t: SectionTable) -> Table:
    """One section table as a rich table (caption as its title, legend below)."""
    out = Table(title=t.caption or None, title_justify="left", caption=t.legend or None,
                caption_justify="left")
    for c in t.columns:
        out.add_column(c.name, justify=c.align, no_wrap=not c.wrap)
    for r in t.rows:
        if r.new_group:
            out.add_section()
        out.add_row(*[text(c) for c in r.cells], style="bold" if r.strong else None)
    return out


def tables(sections: Iterable[Section]) -> list[Table]:
    return [table(t) for s in sections for t in s.tables]
