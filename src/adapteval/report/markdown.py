"""The Markdown summary, for pull requests and model cards: the leaderboard, the verdict,
flexibility, gains and the headline number of each analysis. Text from data and configs
is escaped (HTML entities for ``<``, ``>``, ``&``; ``|`` cannot break a table row).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapteval.report.html import board, ci, fmt

ANALYSIS_COLUMNS = {
    "robustness": ("summary", ["clean_accuracy", "mean_drop", "worst_drop", "flip_rate"]),
    "calibration": ("summary", ["ece", "mce", "brier", "nll"]),
    "fairness": ("summary", ["largest_gap", "demographic_parity_difference",
                             "equalized_odds_difference"]),
    "counterfactual": ("summary", ["flip_rate", "mean_abs_gap", "max_gap", "n_pairs"]),
    "eec": ("attributes", ["attribute", "mean_gap", "mean_abs_gap", "p_value", "n_pairs"]),
    "attribution": ("summary", ["method", "comprehensiveness", "sufficiency",
                                "faithfulness_margin"]),
    "compression": ("summary", ["retention_auc", "max_sparsity_99", "max_sparsity_95"]),
}


def esc(value: Any) -> str:
    text = value if isinstance(value, str) else fmt(value)
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


def columns(records: Sequence[dict[str, Any]], cols: Sequence[str]) -> str:
    return md_table(cols, [[r.get(c) for c in cols] for r in records])


def render(doc: dict[str, Any]) -> str:
    p = doc["provenance"]
    out = [f"## {esc(doc['title'])}", "",
           f"{p['n_cells']} cells, seeds {', '.join(map(str, p['seeds']))}, "
           f"{round(p['bootstrap']['confidence'] * 100)}% bootstrap CIs over test items; "
           f"adapteval {esc(p['adapteval_version'])}.", ""]
    grid = board(doc)
    if grid["rows"]:
        header = ["model", "strategy", *grid["tasks"]] + (["verdict"] if doc["verdict"] else [])
        rows = []
        for row in grid["rows"]:
            cells: list[Any] = [row["model"], row["strategy"]]
            for t in grid["tasks"]:
                c = row["cells"].get(t)
                cells.append(Raw(f"{'**' if c['tie_group'] == 1 else ''}{fmt(c['value'])}"
                                 f"{'**' if c['tie_group'] == 1 else ''} "
                                 f"{ci(c['ci_low'], c['ci_high'])}") if c else "")
            if doc["verdict"]:
                v = row["verdict"]
                cells.append("–" if v is None else
                             "acceptable" if v["acceptable"] else "not acceptable")
            rows.append(cells)
        out += ["### Scores (primary metric; bold = best tie group)", "", md_table(header, rows), ""]
    if doc["verdict"]:
        out += ["### Acceptance verdict", ""]
        for v in doc["verdict"]:
            status = "acceptable" if v["acceptable"] else "not acceptable"
            out.append(f"- **{esc(v.get('model', ''))}"
                       f"{' · ' + esc(v['strategy']) if v.get('strategy') else ''}**: {status}")
        out.append("")
    if doc["flexibility"]:
        out += ["### Flexibility", "", md_table(
            ["model", "strategy", "P_avg", "CI", "sigma_P", "worst task"],
            [[r["model"], r["strategy"], r["P_avg"], Raw(ci(r["ci_low"], r["ci_high"])),
              r["sigma_P"], f"{r['worst_task']} ({fmt(r['worst_score'])})"]
             for r in doc["flexibility"]]), ""]
    if doc["customizability"]:
        out += ["### Customizability (paired gains)", "", md_table(
            ["model", "strategy", "task", "over", "gain", "CI"],
            [[r["model"], r["strategy"], r["task"], r["reference"], Raw(fmt(r["gain"], signed=True)),
              Raw(ci(r["ci_low"], r["ci_high"], signed=True))] for r in doc["customizability"]]),
            ""]
    for name, (part, cols) in ANALYSIS_COLUMNS.items():
        section = doc["analyses"].get(name)
        if section and section.get(part):
            out += [f"### {name.capitalize()}", "",
                    columns(section[part], ["model", "strategy", "task", *cols]), ""]
    if "cost" in doc["analyses"]:
        out += ["### Cost", "", columns(doc["analyses"]["cost"]["models"],
                                        ["model", "params", "latency_ms_p50", "latency_ms_p95",
                                         "throughput_per_s", "peak_memory_mb"]), ""]
    for name, section in doc["other_analyses"].items():
        out += [f"### {esc(name)}", "",
                columns(section["summary"], ["model", "strategy", "task", *section["fields"]]), ""]
    return "\n".join(out).rstrip() + "\n"
