"""Analyses of adapted models; importing this package registers the built-in ones."""

from adapteval.analyses import (  # noqa: F401  (each import registers an analysis)
    attribution,
    calibration,
    compression,
    cost,
    counterfactual,
    eec,
    fairness,
    robustness,
    transfer,
)
from adapteval.contracts.analysis import ANALYSES, Analysis, AnalysisContext, AnalysisRow

__all__ = ["ANALYSES", "Analysis", "AnalysisContext", "AnalysisRow"]
