"""The Results-level sections (scores, flexibility, the ladder, gains, training curves,
stability, ensembles, the flexibility summary, the verdict; transferability rankings and
comparisons), each built once as a presentation-neutral
:class:`~adapteval.contracts.section.Section` with its terminal ``tables`` and what the
written reports show (``report_tables``, ``plots``, ``part``); each analysis builds its
own (``Analysis.sections``). The terminal, HTML and Markdown render the same objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from adapteval.analyses import ANALYSES
from adapteval.contracts.report_section import SECTIONS, ReportSection
from adapteval.contracts.section import Section
from adapteval.presentation import (  # noqa: F401  (register them)
    ladder,
    learning,
    mistakes,
    provenance,
)
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

RESULT_KEYS = ("overview", "verdict", "flexibility", "ladder", "customizability", "curves",
               "stability")
"""The result set's sections the written reports show, in the order they open their
parts."""


class BuiltinSection(ReportSection):
    """A built-in result section: its ``builder(results, data)`` makes the Section."""

    builder: ClassVar[Callable[..., Section | None]]

    def build(self, results, data, *, strict=False):
        return type(self).builder(results, data)


class Overview(BuiltinSection):
    name, order, builder = "overview", 10, staticmethod(overview)
    description = "per-task scores with CIs and tie groups; the models x tasks grid"


class Flexibility(BuiltinSection):
    name, order, builder = "flexibility", 20, staticmethod(flexibility)
    description = "P_avg [CI], sigma_P and the worst task per model and strategy"


class Stability(BuiltinSection):
    name, order, builder = "stability", 30, staticmethod(stability)
    description = "mean, std, min, max over seeds; failure rate against the majority class"


class Customizability(BuiltinSection):
    name, order, builder = "customizability", 40, staticmethod(gains)
    description = "paired gains over the baseline and the frozen probe"


class Curves(BuiltinSection):
    name, order, builder = "curves", 50, staticmethod(curves)
    description = "fine-tuning curves of the trained cells"


class Ensembles(BuiltinSection):
    name, order, builder = "ensembles", 60, staticmethod(ensembles)
    description = "averaged-probability ensembles and the error overlap between models"


class FlexibilitySummary(BuiltinSection):
    name, order, builder = "flexibility_summary", 70, staticmethod(flexibility_summary)
    description = "one row per model: P_avg, sigma_P, worst task, transfer gap, retention, cost"


class Verdict(ReportSection):
    name, order = "verdict", 90
    description = "the acceptance verdict: every criterion with its measured value"

    def build(self, results, data, *, strict=False):
        judged = results.plan is not None and bool(results.plan.criteria) and (
            strict or data["verdict"] is not None)
        if not (judged or data["verdict"]):
            return None
        return verdict_section(results.judgement if judged else None, data["verdict"])


for _section in (Overview(), Flexibility(), Stability(), Customizability(), Curves(),
                 Ensembles(), FlexibilitySummary(), Verdict()):
    SECTIONS.register(_section)


def result_sections(results: Results, data: dict[str, Any] | None = None, *,
                    strict: bool = False) -> list[Section]:
    """The result set's own sections, one per registered report section in its ``order``
    (``data``: its records, ``records.result_data``). A verdict that cannot be computed
    is left out, or raises when ``strict`` (the terminal's way)."""
    if len(results) == 0:
        return []
    data = result_data(results) if data is None else data
    plugins = [s() if isinstance(s, type) else s for s in SECTIONS.values()]  # entry
    built = (s.build(results, data, strict=strict)  # points may load a class
             for s in sorted(plugins, key=lambda s: s.order))
    return [s for s in built if s is not None]


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
    flexibility, stability, the ladder, gains, transferability, ensembles, the flexibility summary,
    the other analyses, the verdict."""
    own = {s.key: s for s in result_sections(results, strict=True)}
    if not own:
        return []

    def pick(*keys: str) -> list[Section]:
        return [own[k] for k in keys if k in own]

    transfer = (ANALYSES.get("transfer").sections(results.analysis("transfer"), results)
                if "transfer" in ANALYSES.names() else [])
    known = ("overview", "flexibility", "stability", "ladder", "customizability", "curves",
             "ensembles", "flexibility_summary", "verdict")
    added = [s for k, s in own.items() if k not in known]  # sections of plug-ins
    return [*pick("overview", "flexibility", "stability", "ladder", "customizability",
                  "curves"),
            *transfer, *pick("ensembles", "flexibility_summary"), *added,
            *analysis_sections(results, skip=("transfer",)), *pick("verdict")]


__all__ = ["RESULT_KEYS", "SECTIONS", "ReportSection", "all_sections", "analysis_sections", "compare_section",
           "ranking_sections", "result_sections", "verdict_section"]
