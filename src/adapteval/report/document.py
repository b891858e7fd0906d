"""The report document: every number of a result set as one plain, JSON-able dict.

HTML, Markdown and JSON are three views of this one document, so they never disagree.
Sections without data are ``None`` (or empty lists) and each view leaves them out. The
document keeps the :class:`~adapteval.contracts.section.Section` objects HTML and
Markdown draw (the same the terminal reads); the analyses' ``data`` is what JSON exports.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from adapteval._version import __version__
from adapteval.analyses import ANALYSES
from adapteval.contracts import digest as dg
from adapteval.contracts.analysis import generic_section
from adapteval.contracts.section import Section
from adapteval.core.keys import jsonable
from adapteval.presentation import result_sections
from adapteval.presentation.learning import learning_data
from adapteval.presentation.provenance import cell_provenance
from adapteval.presentation.records import clean, records, result_data
from adapteval.results import Results
from adapteval.summaries.ensembles import ensemble_label


def analysis_sections(results: Results) -> list[Section]:
    """The sections of every stored analysis, in the order they were first stored (an
    analysis whose plug-in is not installed now gets the generic section)."""
    out: list[Section] = []
    for name in dict.fromkeys(a.name for a in results.analyses):
        rows = results.analysis(name)
        if name in ANALYSES.names():
            out += ANALYSES.get(name).sections(rows, results)
        elif (data := dg.other(rows, dg.top_level_numbers)) is not None:
            out.append(generic_section(name, "", data))
    return out


def analysis_data(sections: list[Section]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the data of analyses a report has a place for, of the others), by analysis name."""
    known: dict[str, Any] = {}
    others: dict[str, Any] = {}
    for s in sections:
        if s.data is not None and s.part:
            (others if s.part == "other" else known).setdefault(s.key, s.data)
    return known, others


class Document(dict):
    """The report document (a plain JSON-able dict) with the ``sections`` its views draw:
    the result set's (``adapteval.presentation``, the objects the terminal reads) and the
    analyses' (the document's ``analyses`` are their data)."""

    sections: list[Section]


def provenance(results: Results, suite_file: str | None, source: str) -> dict[str, Any]:
    rows = results.rows
    models: dict[str, set[str]] = {}
    tasks: dict[str, dict[str, Any]] = {}
    for r in rows:
        lab = results.labels[r.key]
        models.setdefault(lab.model, set()).add(r.model_fingerprint)
        t = tasks.setdefault(lab.task, {"fingerprints": set(), "type": r.task_type,
                                        "classes": r.classes, "n_test": set()})
        t["fingerprints"].add(r.task_fingerprint)
        t["n_test"].add(int(r.info.get("n_test", 0)))
    created = [r.created_at for r in rows]
    combined = {ensemble_label(e) for e in results.ensembles}
    n_combined = sum(results.labels[r.key].model in combined for r in rows)

    def stamp(t: float) -> str:
        return dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat(timespec="seconds")

    return {
        "adapteval_version": __version__,
        "result_versions": sorted({r.version for r in rows}),
        "suites": sorted({r.suite for r in rows}),
        "suite_file": suite_file,
        "source": source,
        "generated_at": stamp(dt.datetime.now(dt.timezone.utc).timestamp()),
        "cells_from": stamp(min(created)) if created else None,
        "cells_to": stamp(max(created)) if created else None,
        "seeds": sorted({results.labels[r.key].seed for r in rows}),
        # stored cells (learning-curve points included), not the ensembles combined from them
        "n_cells": len(rows) - n_combined + len(results.curve_rows),
        "n_ensemble_cells": n_combined,
        "n_analyses": len(results.analyses),
        "bootstrap": {"n_resamples": results.bootstrap.n_resamples,
                      "confidence": results.bootstrap.confidence,
                      "seed": results.bootstrap.seed},
        "models": [{"model": m, "fingerprints": sorted(f)} for m, f in models.items()],
        "tasks": [{"task": name, "type": t["type"], "classes": t["classes"],
                   "n_test": sorted(t["n_test"]), "fingerprints": sorted(t["fingerprints"])}
                  for name, t in tasks.items()],
        "strategies": [{"strategy": s, "config": c} for s, c in _strategy_configs(results)],
    }


def _strategy_configs(results: Results) -> list[tuple[str, dict[str, Any]]]:
    seen: dict[str, dict[str, Any]] = {}
    for r in results.rows:
        seen.setdefault(results.labels[r.key].strategy, r.strategy_config)
    return list(seen.items())


def build(results: Results, *, title: str | None = None, suite_file: str | Path | None = None,
          source: str | Path = "") -> dict[str, Any]:
    """The whole document of a result set (see the module docstring)."""
    data = result_data(results)
    sections = analysis_sections(results)
    known, others = analysis_data(sections)
    suites = sorted({r.suite for r in results.rows})
    doc: dict[str, Any] = {
        "title": title or f"adapteval report: {', '.join(suites) or 'no results'}",
        **data,
        "scores": records(results.summary()) if len(results) else [],
        "ladder": records(results.ladder()) if len(results) else [],
        "learning_curves": learning_data(results) if len(results) else None,
        "cells": records(results.to_pandas()) if len(results) else [],
        "analyses": known,
        "other_analyses": others,
        "analysis_rows": [jsonable({"name": a.name, "model": a.model, "task": a.task,
                                    "strategy": a.strategy, "seed": a.seed, "config": a.config,
                                    "result": a.result, "key": a.key})
                          for a in results.analyses],
        "provenance": provenance(results, str(suite_file) if suite_file else None, str(source)),
        "cell_provenance": cell_provenance(results),
    }
    out = Document(clean(doc))
    out.sections = [*result_sections(results, data), *sections]
    return out
