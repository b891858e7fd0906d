"""The terminal: ``render`` draws any presentation section as tables that fit the
console (never cutting a number), ``views`` the tables of a result set, a ranking, a
verdict, a comparison and a plan, ``summary`` the short summary a run ends with."""

from adapteval.terminal.render import FitTable, table, tables
from adapteval.terminal.views import (
    all_tables,
    compare_table,
    plan_view,
    ranking_tables,
    section_view,
    summary_view,
    verdict_table,
)

__all__ = ["FitTable", "all_tables", "compare_table", "plan_view", "ranking_tables",
           "section_view", "summary_view", "table", "tables", "verdict_table"]
