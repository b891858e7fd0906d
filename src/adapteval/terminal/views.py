"""The terminal's tables of a result set, a ranking, a verdict, a comparison and a plan:
the presentation sections drawn as tables that fit the console; and the short summary a
run ends with."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.text import Text

from adapteval import presentation
from adapteval.contracts.section import Section
from adapteval.presentation.plan import plan_section
from adapteval.terminal.render import FitTable, table, tables
from adapteval.terminal.summary import summary_tables, verdict_line

if TYPE_CHECKING:
    import pandas as pd

    from adapteval.execution.driver import PlanStatus
    from adapteval.ranking import Ranking
    from adapteval.results import Results
    from adapteval.verdict import Verdict


def all_tables(results: Results) -> list[FitTable]:
    """Every table of a result set, in reading order (none when it is empty)."""
    return tables(presentation.all_sections(results))


def ranking_tables(ranking: Ranking, agreement: pd.DataFrame | None = None,
                   by_size: pd.DataFrame | None = None) -> list[FitTable]:
    return tables(presentation.ranking_sections(ranking, agreement, by_size))


def verdict_table(v: Verdict) -> FitTable:
    """One line per rule and candidate: measured value, statistic, threshold, pass/fail."""
    return table(presentation.verdict_section(v).tables[0])


def compare_table(rows: list[dict[str, Any]]) -> FitTable:
    """Two result sets side by side (``adapteval.report.compare.compare`` rows)."""
    return table(presentation.compare_section(rows).tables[0])


def section_view(section: Section) -> RenderableType:
    """A section's tables, then its notes."""
    parts: list[RenderableType] = []
    for t in section.tables:
        parts += [table(t), Text("")]
    parts += [Text(f"  {n}") for n in section.notes]
    return Group(*parts)


def plan_view(status: PlanStatus) -> RenderableType:
    """What a run will do, before it starts."""
    return section_view(plan_section(status))


def summary_view(results: Results, more: list[str] = ()) -> RenderableType:
    """The summary a run ends with (best per task, P_avg / sigma_P, the ladder, the verdict), then
    ``more`` lines (where the full tables and the report are)."""
    shown = summary_tables(results)
    if not shown:
        return Text("no results in the store yet")
    parts: list[RenderableType] = []
    for t in shown:
        parts += [table(t), Text("")]
    line = verdict_line(results)
    parts += [Text(x) for x in ([line] if line else []) + list(more)]
    return Group(*parts)
