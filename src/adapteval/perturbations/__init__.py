"""Seeded input perturbations: a registry of text perturbations with the built-in text
edits (:mod:`adapteval.perturbations.edits`), and a registry of image corruptions at
severities 1 to 5 (:mod:`adapteval.perturbations.images`)."""

from adapteval.perturbations.images import (
    CORRUPTIONS,
    Corruption,
    corrupt_images,
    get_corruption,
    list_corruptions,
    register_corruption,
)
from adapteval.perturbations.registry import (
    PERTURBATIONS,
    Perturbation,
    get_perturbation,
    list_perturbations,
    perturb_texts,
    register_perturbation,
)

__all__ = [
    "CORRUPTIONS", "Corruption", "corrupt_images", "get_corruption", "list_corruptions",
    "register_corruption",
    "PERTURBATIONS", "Perturbation", "get_perturbation", "list_perturbations", "perturb_texts",
    "register_perturbation",
]
