"""Rich tables for the terminal: ``render`` draws any presentation section, ``views``
the tables of a result set, a ranking, a verdict and a comparison."""

from adapteval.terminal.render import table, tables
from adapteval.terminal.views import all_tables, compare_table, ranking_tables, verdict_table

__all__ = ["all_tables", "compare_table", "ranking_tables", "table", "tables", "verdict_table"]
