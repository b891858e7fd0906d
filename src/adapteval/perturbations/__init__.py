"""Seeded input perturbations: a registry, and the built-in text edits
(:mod:`adapteval.perturbations.edits`)."""

from adapteval.perturbations.registry import (
    PERTURBATIONS,
    Perturbation,
    get_perturbation,
    list_perturbations,
    perturb_texts,
    register_perturbation,
)

__all__ = [
    "PERTURBATIONS", "Perturbation", "get_perturbation", "list_perturbations", "perturb_texts",
    "register_perturbation",
]
