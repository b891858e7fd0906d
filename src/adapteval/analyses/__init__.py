"""Analyses of adapted models; importing this package registers the built-in ones."""

from adapteval.analyses import (
    compression,  # noqa: F401  (registers it)
    cost,  # noqa: F401  (registers it)
)
from adapteval.analyses.base import ANALYSES, Analysis, AnalysisContext, AnalysisRow, jsonable

__all__ = ["ANALYSES", "Analysis", "AnalysisContext", "AnalysisRow", "jsonable"]
