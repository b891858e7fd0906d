"""The Markdown summary, for pull requests and model cards: the leaderboard, the verdict,
flexibility, gains and the report tables of each analysis' sections, each table with its
legend (what each ``n/a`` means) and each section with its notes. Text from data and
configs is escaped (HTML entities for ``<``, ``>``, ``&``; ``|`` cannot break a table row).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from adapteval.contracts.section import Cell, SectionTable, plain
from adapteval.report.html import every_section, placed


def esc(value: Any) -> str:
    text = str(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(text.replace("|", "\\|").replace("`", "\\`").split())


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(esc(h) for h in header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(c if isinstance(c, Raw) else esc(c) for c in r) + " |"
              for r in rows]
    return "\n".join(lines)


class Raw(str):
    """A cell already formatted (numbers only, so nothing to escape)."""


def section_table(t: SectionTable) -> str:
    """A section table: text cells escaped, numbers as every view shows them."""
    return md_table([c.name for c in t.columns],
                    [[md_cell(c) for c in r.cells] for r in t.rows])


def md_cell(c: Cell) -> str:
    """A section cell as Markdown: text is escaped by ``md_table``; numbers as every view
    shows them, a strong value in bold, a note in parentheses."""
    if c.kind in ("text", "na", "image"):  # an image reads as [image: its label]
        return plain(c)
    body = plain(dataclasses.replace(c, ci=None))
    if c.strong:
        head = plain(dataclasses.replace(c, ci=None, std=None)) if c.label is None else body
        body = f"**{head}**{body[len(head):]}"
    if c.kind == "number" and c.ci is not None:
        body += " " + plain(Cell.interval(*c.ci, c.fmt))
    if c.note:
        body += f" ({esc(c.note)})"
    return Raw(body)


def render(doc: dict[str, Any]) -> str:
    p = doc["provenance"]
    out = [f"## {esc(doc['title'])}", "",
           f"{p['n_cells']} cells"
           + (f" (+{p['n_ensemble_cells']} ensemble combinations)"
              if p.get("n_ensemble_cells") else "")
           + f", seeds {', '.join(map(str, p['seeds']))}, "
           f"{round(p['bootstrap']['confidence'] * 100)}% bootstrap CIs over test items; "
           f"adapteval {esc(p['adapteval_version'])}.", ""]
    by_part = placed(every_section(doc))
    for part in PARTS:
        for s in by_part[part]:
            if s.written():
                out += [f"### {esc(s.title or s.key)}", ""]
            for t in s.written():
                out += ([f"**{esc(t.caption)}**", ""] if t.caption else []) + [section_table(t), ""]
                out += [f"_{esc(line)}_  " for line in t.legend.split("\n") if line]
                out += [""] if t.legend else []
            out += [*(f"_{esc(n)}_  " for n in s.notes), ""] if s.written() and s.notes else []
    return "\n".join(out).rstrip() + "\n"


PARTS = ("overview", "flexibility", "customizability", "acceptability", "compression", "other")
"""The parts of the report the summary shows (not stability nor provenance)."""
