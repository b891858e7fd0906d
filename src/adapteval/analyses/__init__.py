"""Analyses of adapted models; importing this package registers the built-in ones."""

from adapteval.analyses import transfer  # noqa: F401  (registers 'transfer')
from adapteval.analyses.base import ANALYSES, Analysis, AnalysisContext, AnalysisRow, jsonable

__all__ = ["ANALYSES", "Analysis", "AnalysisContext", "AnalysisRow", "jsonable"]
