"""Reports of a result set: offline HTML with inline SVG plots, a Markdown summary, a
JSON export of every number; event files for TensorBoard and runs for MLflow. HTML and
Markdown draw presentation sections (the analyses' own, as the terminal does); JSON is
the document, whose analysis part is those sections' data.

>>> write_report(adapteval.results("examples/sentiment-domains.yaml"), "report.html")  # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from adapteval.report.document import build
from adapteval.report.html import render as render_html
from adapteval.report.markdown import render as render_md
from adapteval.results import Results

Format = Literal["html", "md", "json"]
SUFFIX = {"html": ".html", "md": ".md", "json": ".json"}


def build_document(results: Results, *, suite_file: str | Path | None = None,
             source: str | Path = "", title: str | None = None) -> dict[str, Any]:
    return build(results, title=title, suite_file=suite_file, source=source)


def render(doc: dict[str, Any], fmt: Format = "html") -> str:
    """One view of a report document as text."""
    if fmt == "html":
        return render_html(doc)
    if fmt == "md":
        return render_md(doc)
    return json.dumps(doc, indent=1, allow_nan=False) + "\n"


def write_report(results: Results, output: str | Path | None = None, fmt: Format = "html", *,
                 title: str | None = None, suite_file: str | Path | None = None,
                 source: str | Path = "") -> Path:
    """Render the report of ``results`` to ``output`` (default ``report.<ext>`` in the
    working folder); returns the path. ``suite_file`` defaults to the suite the results
    were read through; ``source`` names where they came from (a store or suite path).
    To report a suite file or a store folder, see ``adapteval.api.write_report``."""
    if suite_file is None and results.plan is not None:
        suite_file = results.plan.suite.source
    doc = build_document(results, suite_file=suite_file, source=source, title=title)
    out = Path(output) if output is not None else Path(f"report{SUFFIX[fmt]}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(doc, fmt), encoding="utf-8")
    return out


def track(results: Results, output_dir: str | Path, *, tensorboard: str | Path | None = None,
          mlflow: bool | str | None = None, report: str | Path | None = None) -> dict[str, Any]:
    """Write TensorBoard event files and/or MLflow runs for ``results``. ``mlflow=True``
    means the local SQLite store ``<output_dir>/mlflow.db``; a string is a tracking URI."""
    done: dict[str, Any] = {}
    if tensorboard is not None:
        from adapteval.report.tensorboard import write_tensorboard

        done["tensorboard"] = write_tensorboard(results, tensorboard)
    if mlflow:
        from adapteval.report.mlflow_log import default_uri, log_to_mlflow

        uri = mlflow if isinstance(mlflow, str) else default_uri(output_dir)
        artifacts = Path(output_dir) / "mlflow-artifacts" if uri.startswith("sqlite:") else None
        done["mlflow"] = {"uri": uri, **log_to_mlflow(results, uri, report=report,
                                                      artifacts=artifacts)}
    return done


__all__ = ["Format", "build_document", "track", "render", "write_report"]
