"""Analysis results gathered for the report, one builder per analysis.

Each builder takes the stored rows of one analysis (any objects with ``model``,
``task``, ``strategy``, ``seed`` and a ``result`` dict shaped as the analysis contract
says) and returns a plain JSON-able dict, or ``None`` when there is nothing to show, so
a report leaves the section out instead of showing it empty. Seeds are averaged: a
report is read at the level of model, strategy and task.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import numpy as np

EXAMPLES_PER_GROUP = 3
MAX_EXAMPLES = 8


class ResultRow(Protocol):
    model: str
    task: str
    strategy: str
    seed: int
    result: dict[str, Any]


Builder = Callable[[Sequence[ResultRow]], dict[str, Any] | None]
BUILDERS: dict[str, Builder] = {}


def builder(name: str) -> Callable[[Builder], Builder]:
    def register(fn: Builder) -> Builder:
        BUILDERS[name] = fn
        return fn

    return register


def mean(values: Iterable[Any]) -> float | None:
    """Mean of the finite numbers among ``values`` (None when there are none)."""
    nums = [float(v) for v in values if isinstance(v, int | float) and np.isfinite(v)]
    return float(np.mean(nums)) if nums else None


def grouped(rows: Iterable[Any], keys: Sequence[str]) -> dict[tuple, list[Any]]:
    """Rows (objects or dicts) grouped by the values of ``keys``, in first-seen order."""
    out: dict[tuple, list[Any]] = {}
    for r in rows:
        key = tuple(r[k] if isinstance(r, dict) else getattr(r, k) for k in keys)
        out.setdefault(key, []).append(r)
    return out


def averaged(rows: Sequence[ResultRow], fields: Sequence[str]) -> list[dict[str, Any]]:
    """Per model, strategy and task: the mean over seeds of each top-level number."""
    out = []
    for (model, strategy, task), rs in grouped(rows, ("model", "strategy", "task")).items():
        rec: dict[str, Any] = {"model": model, "strategy": strategy, "task": task,
                               "n_seeds": len(rs)}
        rec.update({f: mean(r.result.get(f) for r in rs) for f in fields})
        out.append(rec)
    return out


def envelope(rows: Sequence[ResultRow], field: str) -> list[float] | None:
    """[lowest lower bound, highest upper bound] of per-seed intervals ``field``."""
    pairs = [r.result.get(field) for r in rows]
    pairs = [p for p in pairs if isinstance(p, list | tuple) and len(p) == 2 and None not in p]
    if not pairs:
        return None
    return [float(min(p[0] for p in pairs)), float(max(p[1] for p in pairs))]


def examples(rows: Sequence[ResultRow], key: str = "examples") -> list[dict[str, Any]]:
    """A few stored examples per model and strategy (first seed that has any)."""
    out: list[dict[str, Any]] = []
    for (model, strategy), rs in grouped(rows, ("model", "strategy")).items():
        for r in rs:
            items = [e for e in r.result.get(key) or [] if isinstance(e, dict)]
            if items:
                out += [{"model": model, "strategy": strategy, "task": r.task, **e}
                        for e in items[:EXAMPLES_PER_GROUP]]
                break
    return out[:MAX_EXAMPLES]


@builder("robustness")
def robustness(rows: Sequence[ResultRow]) -> dict[str, Any] | None:
    summary = averaged(rows, ("clean_accuracy", "mean_drop", "worst_drop", "flip_rate"))
    per: list[dict[str, Any]] = []
    flat = [{"model": r.model, "strategy": r.strategy, **p}
            for r in rows for p in r.result.get("perturbations") or [] if "name" in p]
    for (model, strategy, name), ps in grouped(flat, ("model", "strategy", "name")).items():
        per.append({"model": model, "strategy": strategy, "name": name,
                    **{f: mean(p.get(f) for p in ps)
                       for f in ("accuracy", "drop", "flip_rate", "changed_fraction")}})
    if not summary:
        return None
    return {"summary": summary, "perturbations": per, "examples": examples(rows)}


def pooled_bins(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reliability bins of several seeds merged: count-weighted confidence and accuracy
    per bin (bins with the same edges)."""
    acc: dict[tuple[float, float], list[float]] = {}
    for res in results:
        for b in res.get("bins") or []:
            n = b.get("count") or 0
            if not n or b.get("confidence") is None or b.get("accuracy") is None:
                continue
            s = acc.setdefault((b["lo"], b["hi"]), [0.0, 0.0, 0.0])
            s[0] += n
            s[1] += n * b["confidence"]
            s[2] += n * b["accuracy"]
    return [{"lo": lo, "hi": hi, "count": int(n), "confidence": c / n, "accuracy": a / n}
            for (lo, hi), (n, c, a) in sorted(acc.items())]


@builder("calibration")
def calibration(rows: Sequence[ResultRow]) -> dict[str, Any] | None:
    summary = averaged(rows, ("ece", "mce", "brier", "nll", "n_bins"))
    if not summary:
        return None
    diagrams = []
    for rec, ((model, strategy, task), rs) in zip(
        summary, grouped(rows, ("model", "strategy", "task")).items(), strict=True
    ):
        temps = [r.result.get("temperature") for r in rs if r.result.get("temperature")]
        if temps:
            rec["T"] = mean(t.get("T") for t in temps)
            rec["ece_after"] = mean(t.get("ece") for t in temps)
        diagrams.append({"model": model, "strategy": strategy, "task": task,
                         "bins": pooled_bins([r.result for r in rs])})
    return {"summary": summary, "diagrams": diagrams}


@builder("fairness")
def fairness(rows: Sequence[ResultRow]) -> dict[str, Any] | None:
    fields = ("largest_gap", "demographic_parity_difference", "equalized_odds_difference")
    summary = averaged(rows, fields)
    if not summary:
        return None
    groups = []
    for rec, ((model, strategy, task), rs) in zip(
        summary, grouped(rows, ("model", "strategy", "task")).items(), strict=True
    ):
        rec["group_column"] = rs[0].result.get("group_column")
        for f in fields:
            rec[f"{f}_ci"] = envelope(rs, f"{f}_ci")
        flat = [g for r in rs for g in r.result.get("groups") or [] if "group" in g]
        for (group,), gs in grouped(flat, ("group",)).items():
            groups.append({"model": model, "strategy": strategy, "task": task,
                           "group": str(group), "n": mean(g.get("n") for g in gs),
                           "accuracy": mean(g.get("accuracy") for g in gs)})
    return {"summary": summary, "groups": groups}


@builder("counterfactual")
def counterfactual(rows: Sequence[ResultRow]) -> dict[str, Any] | None:
    summary = averaged(rows, ("flip_rate", "mean_abs_gap", "max_gap", "n_pairs"))
    return {"summary": summary, "examples": examples(rows)} if summary else None


@builder("eec")
def eec(rows: Sequence[ResultRow]) -> dict[str, Any] | None:
    summary = averaged(rows, ("counterfactual_gap",))
    if not summary:
        return None
    attributes = []
    for (model, strategy, task), rs in grouped(rows, ("model", "strategy", "task")).items():
        names = dict.fromkeys(a for r in rs for a in (r.result.get("attributes") or {}))
        for name in names:
            per = [r.result["attributes"][name] for r in rs if name in r.result["attributes"]]
            attributes.append({
                "model": model, "strategy": strategy, "task": task, "attribute": name,
                **{f: mean(a.get(f) for a in per)
                   for f in ("mean_gap", "mean_abs_gap", "max_gap", "p_value", "n_pairs")},
                "min_p_value": min((a["p_value"] for a in per
                                    if isinstance(a.get("p_value"), int | float)), default=None),
            })
    return {"summary": summary, "attributes": attributes}


def highlighted(tokens: Sequence[Any], scores: Sequence[Any]) -> list[dict[str, Any]]:
    """Tokens with a display weight in [0, 1] (|score| over the example's largest |score|)
    and the sign of their contribution."""
    vals = np.array([float(s) if isinstance(s, int | float) else 0.0 for s in scores])
    top = float(np.abs(vals).max()) if len(vals) else 0.0
    return [{"text": str(t), "score": float(v),
             "weight": round(abs(float(v)) / top, 3) if top > 0 else 0.0,
             "sign": "pos" if v > 0 else "neg" if v < 0 else "zero"}
            for t, v in zip(tokens, vals, strict=False)]


@builder("attribution")
def attribution(rows: Sequence[ResultRow]) -> dict[str, Any] | None:
    fields = ("comprehensiveness", "sufficiency", "random_comprehensiveness",
              "random_sufficiency", "faithfulness_margin")
    summary = averaged(rows, fields)
    if not summary:
        return None
    for rec, rs in zip(summary, grouped(rows, ("model", "strategy", "task")).values(), strict=True):
        rec["method"] = rs[0].result.get("method")
    shown = [{"model": e["model"], "strategy": e["strategy"], "task": e["task"],
              "label": e.get("label"), "pred": e.get("pred"),
              "tokens": highlighted(e.get("tokens") or [], e.get("scores") or [])}
             for e in examples(rows)]
    return {"summary": summary, "examples": shown}


def target_label(t: dict[str, Any]) -> str:
    task, domain = str(t.get("task", "")), t.get("domain")
    return f"{task}:{domain}" if domain not in (None, "", task) else task


@builder("transfer")
def transfer(rows: Sequence[ResultRow]) -> dict[str, Any] | None:
    """Per model and strategy, the source x target accuracy matrix (mean over seeds)."""
    matrices = []
    for (model, strategy), rs in grouped(rows, ("model", "strategy")).items():
        cells: dict[tuple[str, str], list[float]] = {}
        in_domain: set[tuple[str, str]] = set()
        for r in rs:
            source = str(r.result.get("source") or r.task)
            for t in r.result.get("targets") or []:
                key = (source, target_label(t))
                cells.setdefault(key, []).append(t.get("accuracy"))
                if t.get("in_domain"):
                    in_domain.add(key)
        if not cells:
            continue
        sources = list(dict.fromkeys(s for s, _ in cells))
        targets = list(dict.fromkeys(t for _, t in cells))
        values = [[mean(cells.get((s, t), [])) for t in targets] for s in sources]
        matrices.append({
            "model": model, "strategy": strategy, "sources": sources, "targets": targets,
            "values": values,
            "in_domain": [[(s, t) in in_domain for t in targets] for s in sources],
        })
    return {"matrices": matrices} if matrices else None


@builder("compression")
def compression(rows: Sequence[ResultRow]) -> dict[str, Any] | None:
    summary = averaged(rows, ("retention_auc", "max_sparsity_99", "max_sparsity_95"))
    if not summary:
        return None
    flat = [{"model": r.model, "strategy": r.strategy, **lv}
            for r in rows for lv in r.result.get("levels") or [] if "method" in lv]
    curves = []
    for (model, strategy, method), lvs in grouped(flat, ("model", "strategy", "method")).items():
        points = []
        for (amount,), ps in grouped(lvs, ("amount",)).items():
            points.append({"amount": amount, **{f: mean(p.get(f) for p in ps)
                                                for f in ("sparsity", "accuracy", "retention")}})
        points.sort(key=lambda p: (p["sparsity"] is None, p["sparsity"] or 0.0))
        curves.append({"model": model, "strategy": strategy, "method": method, "points": points})
    return {"summary": summary, "curves": curves, "along": along_curve(flat)}


def along_curve(flat: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Robustness and fairness numbers per level (means over tasks and seeds), when the
    sweep measured them; only the fields some level has."""
    from adapteval.analyses.compression import ALONG

    fields = [f for f in ALONG if any(lv.get(f) is not None for lv in flat)]
    if not fields:
        return None
    rows = []
    for (model, strategy, label), lvs in grouped(flat, ("model", "strategy", "label")).items():
        rows.append({"model": model, "strategy": strategy, "level": label,
                     "sparsity": mean(lv.get("sparsity") for lv in lvs),
                     "accuracy": mean(lv.get("accuracy") for lv in lvs),
                     **{f: mean(lv.get(f) for lv in lvs) for f in fields}})
    return {"fields": fields, "labels": [ALONG[f] for f in fields], "rows": rows}


@builder("cost")
def cost(rows: Sequence[ResultRow]) -> dict[str, Any] | None:
    fields = ("params", "disk_mb", "latency_ms_p50", "latency_ms_p95", "throughput_per_s",
              "peak_memory_mb")
    table = [{"model": model, **{f: mean(r.result.get(f) for r in rs) for f in fields}}
             for (model,), rs in grouped(rows, ("model",)).items()]
    for rec in table:  # a count of weights reads as one
        if isinstance(rec["params"], float) and rec["params"].is_integer():
            rec["params"] = int(rec["params"])
    return {"models": table} if table else None


def other(rows: Sequence[ResultRow], scalars: Callable[[dict[str, Any]], dict[str, Any]]
          ) -> dict[str, Any] | None:
    """Any other analysis (e.g. one a user registered): its headline numbers per model,
    strategy and task, and its examples when it keeps some."""
    fields = list(dict.fromkeys(k for r in rows for k in scalars(r.result)))
    summary = []
    for (model, strategy, task), rs in grouped(rows, ("model", "strategy", "task")).items():
        rec: dict[str, Any] = {"model": model, "strategy": strategy, "task": task,
                               "n_seeds": len(rs)}
        rec.update({f: mean(scalars(r.result).get(f) for r in rs) for f in fields})
        summary.append(rec)
    shown = [{k: v if isinstance(v, int | float | str | None) else str(v) for k, v in e.items()}
             for e in examples(rows)]
    if not summary:
        return None
    return {"fields": fields, "summary": summary, "examples": shown}


def top_level_numbers(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items()
            if isinstance(v, int | float) and not isinstance(v, bool)}
