"""The Results-level numbers as plain, JSON-able records (NaN / inf as None): what the
report document exports and the written reports' tables and plots read."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pandas as pd

from adapteval.contracts import digest as dg
from adapteval.contracts.section import Cell, SectionTable, columns, missing
from adapteval.core.errors import AdaptEvalError
from adapteval.core.keys import jsonable
from adapteval.results import Results


def records(frame: pd.DataFrame, drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    if frame is None or frame.empty:
        return []
    return jsonable(frame.drop(columns=[c for c in drop if c in frame]).to_dict("records"))


def why(rec: Any, field: str) -> str | None:
    """Why ``field`` of a record (a dict or a frame's row) has no value: its ``undefined``
    mapping (``ci_low`` / ``ci_high`` read ``ci``); None when it has one."""
    undefined = (rec.get("undefined") if isinstance(rec, dict)
                 else getattr(rec, "undefined", None)) or {}
    if field in ("ci_low", "ci_high") and "ci" in undefined:
        field = "ci"
    return undefined.get(field)


def reasoned_table(recs: list[dict[str, Any]], cols: list[str], *, caption: str = ""
                   ) -> SectionTable:
    """Records as a written report's table (``digest.table``'s cells), each undefined
    field ``n/a`` with its reason (in the legend)."""
    out = SectionTable(columns(*cols), caption=caption)
    for r in recs:
        out.add(*[Cell.na(reason) if missing(r.get(c)) and (reason := why(r, c))
                  else dg.cell(r.get(c)) for c in cols])
    return out


def clean(value: Any) -> Any:
    """NaN / inf to None everywhere, so the data is strict JSON."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


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
        if rec["tie_group"] is None and why(rec, "value"):
            rec["undefined"] = {**rec["undefined"], "tie_group": why(rec, "value")}
    return out


def seed_scores(results: Results) -> list[dict[str, Any]]:
    """Primary-metric score of every seed (for the stability plot)."""
    frame = results.to_pandas()
    if frame.empty:
        return []
    keep = [m == results.primary_metric(t).name
            for m, t in zip(frame["metric"], frame["task"], strict=True)]
    return records(frame[keep][["model", "task", "strategy", "seed", "metric", "value",
                                "undefined"]])


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
    if isinstance(obj, dict):
        return obj
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if hasattr(obj, "model_dump"):
        return obj.model_dump()
    return dict(vars(obj))


def result_data(results: Results) -> dict[str, Any]:
    """The Results-level records, cleaned (the report document's own keys)."""
    some = len(results) > 0
    return clean({
        "leaderboard": leaderboard(results),
        "verdict": verdict(results),
        "flexibility": records(results.flexibility()) if some else [],
        "customizability": records(results.customizability()) if some else [],
        "curves": curves(results),
        "stability": records(results.stability()) if some else [],
        "seed_scores": seed_scores(results),
    })
