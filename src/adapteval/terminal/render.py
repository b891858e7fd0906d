"""Section tables as rich tables: the terminal's view of the presentation model."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table

from adapteval.contracts.section import Cell, Section, SectionTable

STATUS = {"good": "green", "bad": "red"}


def text(cell: Cell) -> str:
    """A cell as rich markup (the same characters every view of a number shows)."""
    if cell.kind == "na":
        body = cell.text
    elif cell.kind in ("text", "count"):
        body = str(cell.value)
    elif cell.kind == "ci":
        lo, hi = cell.ci  # type: ignore[misc]
        body = f"[{format(lo, cell.fmt)}, {format(hi, cell.fmt)}]"
    elif cell.kind == "pair":
        body = " / ".join(format(v, cell.fmt) for v in cell.value)
    else:
        body = format(cell.value, cell.fmt)
        if cell.std is not None:
            body += f" ±{cell.std:.3f}"
        if cell.ci is not None:
            body += f" [{format(cell.ci[0], cell.fmt)}, {format(cell.ci[1], cell.fmt)}]"
        if cell.label is not None:
            body = f"{cell.label} ({body})"
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
