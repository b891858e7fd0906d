"""The HTML report: one self-contained file (inline CSS and SVG, no script, no fonts or
files from elsewhere), rendered with Jinja2 with autoescaping on, so any text from a
dataset or a config (task names, labels, examples) is shown as text, never run.

It draws sections only (the document's ``sections``: the result set's and the analyses',
the objects the terminal reads), each with its tables, its plots (``PlotSpec``, drawn as
SVG by ``report.plots``), examples and notes; then provenance.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import jinja2
from markupsafe import Markup, escape

from adapteval.contracts import digest as dg
from adapteval.contracts.section import Cell, PlotSpec, Section, plain
from adapteval.presentation import RESULT_KEYS

KNOWN = ("robustness", "calibration", "fairness", "counterfactual", "eec", "attribution",
         "transfer", "compression", "cost")
"""Analyses in the order the report shows them within their part (their sections say
which part); others follow as stored."""

SECTIONS = (
    ("overview", "Overview"),
    ("flexibility", "Flexibility"),
    ("customizability", "Customizability"),
    ("stability", "Stability"),
    ("compression", "Compression and cost"),
    ("acceptability", "Acceptability"),
    ("other", "Other analyses"),
    ("provenance", "Provenance"),
)


def num(value: Any) -> str:
    """A plain value as the report's tables show it (``digest.cell``)."""
    return plain(dg.cell(value))


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("adapteval.report", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = num
    env.filters["cell"] = cell
    env.filters["td_class"] = td_class
    return env


def svg(text: str) -> Markup:
    """matplotlib's own SVG output; text inside it was escaped by matplotlib."""
    return Markup(text)


def picture(c: Cell) -> Markup:
    """An image cell as an ``<img>`` of its PNG (bytes adapteval encoded; ``Cell.image``
    accepts nothing else) as a data URI, shown at least ``SHOWN`` pixels a side without
    smoothing; its label is the escaped ``alt`` text."""
    png: bytes = c.value
    w, h = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    scale = max(1, SHOWN // max(w, h, 1))
    return Markup('<img class="thumb" src="data:image/png;base64,{}" alt="{}" width="{}" '
                  'height="{}">').format(base64.b64encode(png).decode("ascii"), c.label or "",
                                         w * scale, h * scale)


SHOWN = 64


def cell(c: Cell) -> Markup:
    """A section cell as HTML: its characters escaped, an interval quieter below it, a
    note (e.g. a tie group) after it, a status coloured; ``n/a`` carries its reason as a
    title (the table's legend lists it too); an image as a picture (``picture``)."""
    if c.kind == "image":
        return picture(c)
    if c.kind == "number" and c.ci is not None:
        body = Markup("{}<br><span class=\"ci\">{}</span>").format(
            plain(dataclasses.replace(c, ci=None)), plain(Cell.interval(*c.ci, c.fmt)))
    else:
        body = escape(plain(c))
    if c.kind == "na" and c.reason:
        body = Markup("<span class=\"na\" title=\"{}\">{}</span>").format(c.reason, body)
    if c.status:
        body = Markup("<span class=\"{}\">{}</span>").format(STATUS[c.status], body)
    if c.note:
        body = Markup("{} <span class=\"aside\">{}</span>").format(body, c.note)
    return body


STATUS = {"good": "pass", "bad": "fail"}


def td_class(c: Cell, fixed: str = "") -> str:
    """A table cell's classes: numbers right-aligned, strong cells shaded."""
    number = c.kind in ("number", "count", "ci", "pair")
    return " ".join(x for x in (fixed or ("n" if number else ""), "strong" if c.strong else "")
                    if x)


def drawn(specs: list[PlotSpec]) -> list[tuple[PlotSpec, Markup]]:
    """Each drawable plot with its inline SVG: kept from an earlier drawing of the same
    figure (``report.plot_cache``), else drawn (and kept)."""
    import adapteval.report.plot_cache as plot_cache

    out = []
    for p in specs:
        key, image = plot_cache.read(p)
        if image is None:
            import adapteval.report.curve_plots  # noqa: F401  (adds its kind)
            import adapteval.report.image_plots  # noqa: F401  (adds its kinds)
            import adapteval.report.plots as plots  # matplotlib, only when one is drawn

            image = plots.draw(p) if plots.drawable(p) else ""
            plot_cache.write(key, image)
        if image:
            out.append((p, svg(image)))
    return out


def placed(sections: list[Section]) -> dict[str, list[Section]]:
    """Sections by the part of the report they go to: the result set's first, then the
    analyses' in ``KNOWN`` order, then the others as stored."""
    order = (*RESULT_KEYS, *KNOWN)
    out: dict[str, list[Section]] = {sid: [] for sid, _ in SECTIONS}
    for s in sorted((s for s in sections if s.part in out),
                    key=lambda s: order.index(s.key) if s.key in order else len(order)):
        out[s.part].append(s)
    return out


def parts(sections: list[Section]) -> dict[str, list[dict[str, Any]]]:
    """``placed`` sections, each with its drawn figures (side by side when they are of
    one kind) and its ``tokens`` plots."""
    def one(s: Section) -> dict[str, Any]:
        figures = drawn(s.plots)
        return {"s": s, "figures": figures,
                "grid": len(figures) > 1 and len({p.kind for p, _ in figures}) == 1,
                "tokens": [p for p in s.plots if p.kind == "tokens"]}

    return {part: [one(s) for s in secs] for part, secs in placed(sections).items()}


def every_section(doc: dict[str, Any]) -> list[Section]:
    """The result set's sections and the analyses' (a document read back from JSON has
    none)."""
    return list(getattr(doc, "sections", []))


def render(doc: dict[str, Any]) -> str:
    template = environment().get_template("report.html.j2")
    by_part = parts(every_section(doc))
    shown = [(sid, title) for sid, title in SECTIONS if by_part[sid] or sid == "provenance"]
    return template.render(doc=doc, parts=by_part, sections=shown, ids=[i for i, _ in SECTIONS],
                           n_tasks=len({r["task"] for r in doc["leaderboard"]}))
