"""Adaptation strategies; importing this package registers the built-in ones."""

from adapteval.adapt import finetune, kshot, lora, probe  # noqa: F401  (registration)
from adapteval.adapt.base import STRATEGIES, CellContext, Fitted, Predictions, Predictor, Strategy

__all__ = ["STRATEGIES", "CellContext", "Fitted", "Predictions", "Predictor", "Strategy"]
