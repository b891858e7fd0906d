"""The report document: every number of a result set as one plain, JSON-able dict.

HTML, Markdown and JSON are three views of this one document, so they never disagree.
Sections without data are ``None`` (or empty lists) and each view leaves them out. The
analyses' part is their :class:`~adapteval.contracts.section.Section` objects (the same
the terminal reads): the document keeps them and their ``data`` is what JSON exports.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pandas as pd

from adapteval._version import __version__
from adapteval.analyses import ANALYSES
from adapteval.contracts import digest as dg
from adapteval.contracts.analysis import generic_section
from adapteval.contracts.section import Section
from adapteval.core.errors import AdaptEvalError
from adapteval.core.keys import jsonable
from adapteval.results import Results


def records(frame: pd.DataFrame, drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    if frame is None or frame.empty:
        return []
    return jsonable(frame.drop(columns=[c for c in drop if c in frame]).to_dict("records"))


def leaderboard(results: Results) -> list[dict[str, Any]]:
    """Primary metric per model, strategy and task, with its CI and tie group."""
    summary = results.summary()
    if summary.empty:
        return []
    primary = summary[[m == results.primary_metric(t).name
                       for m, t in zip(summary["metric"], summary["task"], strict=True)]]
    ties = results.ties()
    group = ({(r.task, r.model, r.strategy): int(r.tie_group) for r in ties.itertuples()}
             if not ties.empty else {})
    out = records(primary.drop(columns=["kshot_spread"]))
    for rec in out:
        rec["tie_group"] = group.get((rec["task"], rec["model"], rec["strategy"]))
    return out


def seed_scores(results: Results) -> list[dict[str, Any]]:
    """Primary-metric score of every seed (for the stability plot)."""
    frame = results.to_pandas()
    if frame.empty:
        return []
    keep = [m == results.primary_metric(t).name
            for m, t in zip(frame["metric"], frame["task"], strict=True)]
    return records(frame[keep][["model", "task", "strategy", "seed", "metric", "value"]])


def curves(results: Results) -> list[dict[str, Any]]:
    """Training curves kept with fine-tuned / LoRA cells (cell info ``curve``)."""
    out = []
    for r in results.rows:
        points = r.info.get("curve") if isinstance(r.info, dict) else None
        if points:
            lab = results.labels[r.key]
            out.append({"model": lab.model, "task": lab.task, "strategy": lab.strategy,
                        "seed": lab.seed, "metric": r.info.get("metric"),
                        "best_step": r.info.get("best_step"), "points": jsonable(points)})
    return out


def verdict(results: Results) -> list[dict[str, Any]] | None:
    """The acceptance verdict per model, when this adapteval has acceptance criteria and
    the result set was read with them; else None (the report leaves it out)."""
    fn = getattr(results, "verdict", None)
    if not callable(fn):
        return None
    try:
        value = fn()
    except (AdaptEvalError, TypeError, ValueError):
        return None
    return normalised_verdict(value)


def normalised_verdict(value: Any) -> list[dict[str, Any]] | None:
    """Verdict entries as dicts whatever container they come in (frame, list of
    dataclasses or dicts), each with ``acceptable`` and a list of ``rules``."""
    if value is None:
        return None
    if isinstance(value, pd.DataFrame):
        entries = value.to_dict("records")
    elif isinstance(value, dict):
        entries = list(value.values()) if all(isinstance(v, dict) for v in value.values()) \
            else [value]
    else:
        entries = [_as_dict(v) for v in value]
    out = []
    for e in entries:
        e = jsonable(_as_dict(e))
        ok = next((e[k] for k in ("acceptable", "passed", "ok") if k in e), None)
        rules = [jsonable(_as_dict(r)) for r in e.get("rules") or []]
        out.append({**{k: v for k, v in e.items() if k != "rules"}, "acceptable": ok,
                    "rules": rules})
    return out or None


def _as_dict(obj: Any) -> dict[str, Any]:
    import dataclasses

    if isinstance(obj, dict):
        return obj
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if hasattr(obj, "model_dump"):
        return obj.model_dump()
    return dict(vars(obj))


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
    """The report document (a plain JSON-able dict) with the analysis ``sections`` its
    views draw (the document's ``analyses`` are their data)."""

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
        "n_cells": len(rows),
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
    sections = analysis_sections(results)
    known, others = analysis_data(sections)
    suites = sorted({r.suite for r in results.rows})
    doc: dict[str, Any] = {
        "title": title or f"adapteval report: {', '.join(suites) or 'no results'}",
        "leaderboard": leaderboard(results),
        "verdict": verdict(results),
        "flexibility": records(results.flexibility()) if len(results) else [],
        "customizability": records(results.customizability()) if len(results) else [],
        "curves": curves(results),
        "stability": records(results.stability()) if len(results) else [],
        "seed_scores": seed_scores(results),
        "scores": records(results.summary()) if len(results) else [],
        "cells": records(results.to_pandas()) if len(results) else [],
        "analyses": known,
        "other_analyses": others,
        "analysis_rows": [jsonable({"name": a.name, "model": a.model, "task": a.task,
                                    "strategy": a.strategy, "seed": a.seed, "config": a.config,
                                    "result": a.result, "key": a.key})
                          for a in results.analyses],
        "provenance": provenance(results, str(suite_file) if suite_file else None, str(source)),
    }
    out = Document(clean(doc))
    out.sections = sections
    return out


def clean(value: Any) -> Any:
    """NaN / inf to None everywhere, so the document is strict JSON."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
