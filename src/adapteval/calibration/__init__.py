"""Calibration: how far predicted probabilities are from observed frequencies.

- :mod:`adapteval.calibration.reliability`: ECE, MCE, reliability diagrams, Brier, NLL
  and a calibration report.
- :mod:`adapteval.calibration.temperature`: temperature scaling (Guo et al., ICML 2017).
"""

from adapteval.calibration.reliability import (
    ReliabilityDiagram,
    brier_score,
    calibration_report,
    expected_calibration_error,
    maximum_calibration_error,
    negative_log_likelihood,
    reliability_diagram,
)
from adapteval.calibration.temperature import apply_temperature, fit_temperature, proba_to_logits

__all__ = [
    "ReliabilityDiagram", "apply_temperature", "brier_score", "calibration_report",
    "expected_calibration_error", "fit_temperature", "maximum_calibration_error",
    "negative_log_likelihood", "proba_to_logits", "reliability_diagram",
]
