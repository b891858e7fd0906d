"""Probes: calibration metrics, temperature scaling and text perturbations.

- :mod:`adapteval.probes.calibration`: ECE, MCE, reliability diagrams, Brier, NLL and
  a calibration report.
- :mod:`adapteval.probes.temperature`: temperature scaling (Guo et al., ICML 2017).
- :mod:`adapteval.probes.perturb`: a registry of seeded text perturbations; the
  built-in edits live in :mod:`adapteval.probes.edits`.
"""

from adapteval.probes.calibration import (
    ReliabilityDiagram,
    brier_score,
    calibration_report,
    expected_calibration_error,
    maximum_calibration_error,
    negative_log_likelihood,
    reliability_diagram,
)
from adapteval.probes.perturb import (
    Perturbation,
    get_perturbation,
    list_perturbations,
    perturb_texts,
    register_perturbation,
)
from adapteval.probes.temperature import (
    apply_temperature,
    fit_temperature,
    proba_to_logits,
)

__all__ = [
    "Perturbation",
    "ReliabilityDiagram",
    "apply_temperature",
    "brier_score",
    "calibration_report",
    "expected_calibration_error",
    "fit_temperature",
    "get_perturbation",
    "list_perturbations",
    "maximum_calibration_error",
    "negative_log_likelihood",
    "perturb_texts",
    "proba_to_logits",
    "register_perturbation",
    "reliability_diagram",
]
