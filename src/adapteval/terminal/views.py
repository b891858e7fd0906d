"""The terminal's tables of a result set, a ranking, a verdict and a comparison: the
presentation sections drawn as rich tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.table import Table

from adapteval import presentation
from adapteval.terminal.render import table, tables

if TYPE_CHECKING:
    import pandas as pd

    from adapteval.ranking import Ranking
    from adapteval.results import Results
    from adapteval.verdict import Verdict


def all_tables(results: Results) -> list[Table]:
    """Every table of a result set, in reading order (none when it is empty)."""
    return tables(presentation.all_sections(results))


def ranking_tables(ranking: Ranking, agreement: pd.DataFrame | None = None) -> list[Table]:
    return tables(presentation.ranking_sections(ranking, agreement))


def verdict_table(v: Verdict) -> Table:
    """One line per rule and candidate: measured value, statistic, threshold, pass/fail."""
    return table(presentation.verdict_section(v).tables[0])


def compare_table(rows: list[dict[str, Any]]) -> Table:
    """Two result sets side by side (``adapteval.report.compare.compare`` rows)."""
    return table(presentation.compare_section(rows).tables[0])
