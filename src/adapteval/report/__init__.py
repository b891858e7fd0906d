"""Reports of a result set: offline HTML with inline SVG plots, a Markdown summary, a
JSON export of every number; event files for TensorBoard and runs for MLflow.

>>> adapteval.report("examples/sentiment-domains.yaml", "report.html")   # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from adapteval.results import Results

Format = Literal["html", "md", "json"]
SUFFIX = {"html": ".html", "md": ".md", "json": ".json"}


def build_document(results: Results, *, suite_file: str | Path | None = None,
             source: str | Path = "", title: str | None = None) -> dict[str, Any]:
    from adapteval.report.document import build

    return build(results, title=title, suite_file=suite_file, source=source)


def render(doc: dict[str, Any], fmt: Format = "html") -> str:
    """One view of a report document as text."""
    if fmt == "html":
        from adapteval.report.html import render as html

        return html(doc)
    if fmt == "md":
        from adapteval.report.markdown import render as md

        return md(doc)
    return json.dumps(doc, indent=1, allow_nan=False) + "\n"


def load(source: str | Path) -> tuple[Results, str | None]:
    """Results of a suite file (its cells) or a store folder, and the suite file if any."""
    from adapteval.api import results as load_results
    from adapteval.errors import StoreError

    path = Path(source)
    if not path.exists():
        raise StoreError("no store or suite here", where=str(source),
                         fix="pass a store folder (e.g. adapteval-results) or a suite YAML")
    is_suite = path.suffix in (".yaml", ".yml")
    return load_results(path), (str(path.resolve()) if is_suite else None)


def write_report(source: str | Path | Results, output: str | Path | None = None,
                 fmt: Format = "html", *, title: str | None = None) -> Path:
    """Render the report of ``source`` (a suite YAML, a store folder or a ``Results``) to
    ``output`` (default ``report.<ext>`` in the working folder); returns the path."""
    if isinstance(source, Results):
        results, suite_file, where = source, None, ""
    else:
        results, suite_file = load(source)
        where = str(Path(source).resolve())
    doc = build_document(results, suite_file=suite_file, source=where, title=title)
    out = Path(output) if output is not None else Path(f"report{SUFFIX[fmt]}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(doc, fmt), encoding="utf-8")
    return out


__all__ = ["build_document", "load", "render", "write_report"]
