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
    from adapteval.core.errors import StoreError

    path = Path(source)
    if not path.exists():
        raise StoreError("no store or suite here", where=str(source),
                         fix="pass a store folder (e.g. adapteval-results) or a suite YAML")
    is_suite = path.suffix in (".yaml", ".yml")
    return load_results(path), (str(path.resolve()) if is_suite else None)


def store_folder(source: str | Path) -> Path:
    """The results folder of a suite file or a store path (where mlflow.db goes)."""
    path = Path(source)
    if path.suffix in (".yaml", ".yml"):
        from adapteval.api import as_suite

        return as_suite(path).output_path
    return path if path.is_dir() else path.parent


def write_report(source: str | Path | Results, output: str | Path | None = None,
                 fmt: Format = "html", *, title: str | None = None) -> Path:
    """Render the report of ``source`` (a suite YAML, a store folder or a ``Results``) to
    ``output`` (default ``report.<ext>`` in the working folder); returns the path."""
    if isinstance(source, Results):
        plan = source.plan
        results, suite_file, where = source, (plan.suite.source if plan else None), ""
    else:
        results, suite_file = load(source)
        where = str(Path(source).resolve())
    doc = build_document(results, suite_file=suite_file, source=where, title=title)
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


__all__ = ["build_document", "track", "load", "store_folder", "render", "write_report"]
