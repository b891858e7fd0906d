"""How the compression sweep reads: the labels of the numbers measured along the curve,
its curve table (terminal), its digest (``Section.data``) and its report tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapteval.contracts import digest as dg
from adapteval.contracts.section import Cell, Section, SectionTable, columns

if TYPE_CHECKING:
    import pandas as pd

# acceptability numbers a level may carry (robustness: true / fairness: true), with the
# short labels tables and the report show them under
ALONG = {"flip_rate": "perturbed flips", "counterfactual_flip_rate": "swap flips",
         "counterfactual_abs_gap": "swap gap", "largest_gap": "group gap",
         "demographic_parity_difference": "DP diff.", "equalized_odds_difference": "EO diff."}


RETENTION = ("Retention (compressed score / uncompressed) against sparsity; dashed lines at "
             "99% and 95%")


def report_tables(data: dict[str, Any]) -> list[SectionTable]:
    """The headline numbers, and the robustness and fairness numbers along the curve."""
    out = [dg.table(data["summary"], ["model", "strategy", "task", "retention_auc",
                                      "max_sparsity_99", "max_sparsity_95", "n_seeds"])]
    along = data["along"]
    if along:
        t = dg.table(along["rows"], ["model", "strategy", "level", "sparsity", "accuracy",
                                     *along["fields"]],
                     ["model", "strategy", "level", "sparsity", "score", *along["labels"]],
                     caption="Robustness and fairness along the curve")
        t.legend = ("Per compression level (mean over tasks and seeds): flip rate under "
                    "perturbations, flips and probability gap when gendered words and names "
                    "are swapped, and group gaps where the task has a group column.")
        out.append(t)
    return out


def curve_section(frame: pd.DataFrame) -> Section:
    """The retention curve (``Compression.curve``): one line per level, means over seeds."""
    extra = [c for c in (*ALONG, "latency_ms_p50", "disk_mb")
             if c in frame and frame[c].notna().any()]
    table = SectionTable(
        columns(*[ALONG.get(c, c) for c in ("model", "strategy", "task", "level", "sparsity",
                                            "score", "retention", *extra)],
                left=("model", "strategy", "task", "level")),
        caption="Compression curve (score = primary metric; retention = score / "
        "uncompressed; mean over seeds)")
    last = None
    for r in frame.to_dict("records"):
        group = (r["model"], r["strategy"], r["task"])
        table.add(*(group if group != last else ("", "", "")), r["level"],
                  Cell.of(r["sparsity"], ".1%"), Cell.of(r["score"]), Cell.of(r["retention"]),
                  *[Cell.of(r[c]) for c in extra], new_group=last is not None and group != last)
        last = group
    return Section("compression_curve", title="Compression curve", tables=[table])


def curve_digest(rows: dg.Rows) -> dict[str, Any] | None:
    """Headline numbers, retention curves per method and the numbers along them."""
    summary = dg.averaged(rows, ("retention_auc", "max_sparsity_99", "max_sparsity_95"))
    if not summary:
        return None
    flat = [{"model": r.model, "strategy": r.strategy, **lv}
            for r in rows for lv in r.result.get("levels") or [] if "method" in lv]
    curves = []
    for (model, strategy, method), lvs in dg.grouped(flat, ("model", "strategy", "method")).items():
        points = []
        for (amount,), ps in dg.grouped(lvs, ("amount",)).items():
            points.append({"amount": amount, **{f: dg.mean(p.get(f) for p in ps)
                                                for f in ("sparsity", "accuracy", "retention")}})
        points.sort(key=lambda p: (p["sparsity"] is None, p["sparsity"] or 0.0))
        curves.append({"model": model, "strategy": strategy, "method": method, "points": points})
    return {"summary": summary, "curves": curves, "along": along_curve(flat)}


def along_curve(flat: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Robustness and fairness numbers per level (means over tasks and seeds), when the
    sweep measured them; only the fields some level has."""
    fields = [f for f in ALONG if any(lv.get(f) is not None for lv in flat)]
    if not fields:
        return None
    rows = []
    for (model, strategy, label), lvs in dg.grouped(flat, ("model", "strategy", "label")).items():
        rows.append({"model": model, "strategy": strategy, "level": label,
                     "sparsity": dg.mean(lv.get("sparsity") for lv in lvs),
                     "accuracy": dg.mean(lv.get("accuracy") for lv in lvs),
                     **{f: dg.mean(lv.get(f) for lv in lvs) for f in fields}})
    return {"fields": fields, "labels": [ALONG[f] for f in fields], "rows": rows}
