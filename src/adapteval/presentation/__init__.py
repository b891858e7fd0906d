"""The Results-level sections (scores, flexibility, gains, training curves, stability,
ensembles, the flexibility summary, the verdict; transferability rankings and
comparisons), each built once as a presentation-neutral
:class:`~adapteval.contracts.section.Section` with its terminal ``tables`` and what the
written reports show (``report_tables``, ``plots``, ``part``); each analysis builds its
own (``Analysis.sections``). The terminal, HTML and Markdown render the same objects.
"""

from __future__ import annotations

from typing import Any

from adapteval.analyses import ANALYSES
from adapteval.contracts.section import Section
from adapteval.presentation.ranks import compare_section, ranking_sections
from adapteval.presentation.records import result_data
from adapteval.presentation.scores import overview, verdict_section
from adapteval.presentation.spread import (
    curves,
    ensembles,
    flexibility,
    flexibility_summary,
    gains,
    stability,
)
from adapteval.results import Results
from adapteval.verdict import verdict

RESULT_KEYS = ("overview", "verdict", "flexibility", "customizability", "curves", "stability")
"""The result set's sections the written reports show, in the order they open their
parts."""


def result_sections(results: Results, data: dict[str, Any] | None = None, *,
                    strict: bool = False) -> list[Section]:
    """The result set's own sections (``data``: its records, ``records.result_data``).
    A verdict that cannot be computed is left out, or raises when ``strict`` (the
    terminal's way)."""
    if len(results) == 0:
        return []
    data = result_data(results) if data is None else data
    out = [overview(results, data), flexibility(results, data), stability(results, data),
           gains(results, data), curves(data), ensembles(results), flexibility_summary(results)]
    judged = results.plan is not None and bool(results.plan.criteria) and (
        strict or data["verdict"] is not None)
    if judged or data["verdict"]:
        out.append(verdict_section(verdict(results, results.plan) if judged else None,
                                   data["verdict"]))
    return [s for s in out if s is not None]


def analysis_sections(results: Results, skip: tuple[str, ...] = ()) -> list[Section]:
    """Each stored analysis' own sections (analyses of plug-ins not installed now are
    left out)."""
    out: list[Section] = []
    for name in dict.fromkeys(a.name for a in results.analyses):
        if name in ANALYSES.names() and name not in skip:
            out += ANALYSES.get(name).sections(results.analysis(name), results)
    return out


def all_sections(results: Results) -> list[Section]:
    """Every section of a result set in the terminal's reading order: scores,
    flexibility, stability, gains, transferability, ensembles, the flexibility summary,
    the other analyses, the verdict."""
    own = {s.key: s for s in result_sections(results, strict=True)}
    if not own:
        return []

    def pick(*keys: str) -> list[Section]:
        return [own[k] for k in keys if k in own]

    transfer = (ANALYSES.get("transfer").sections(results.analysis("transfer"), results)
                if "transfer" in ANALYSES.names() else [])
    return [*pick("overview", "flexibility", "stability", "customizability", "curves"),
            *transfer, *pick("ensembles", "flexibility_summary"),
            *analysis_sections(results, skip=("transfer",)), *pick("verdict")]


__all__ = ["RESULT_KEYS", "all_sections", "analysis_sections", "compare_section",
           "ranking_sections", "result_sections", "verdict_section"]
