"""Adaptation strategies; importing this package registers the built-in ones."""

from adapteval.contracts.strategy import (
    STRATEGIES,
    CellContext,
    Fitted,
    Predictions,
    Predictor,
    Strategy,
)
from adapteval.strategies import finetune, kshot, lora, probe, prompting  # noqa: F401

__all__ = ["STRATEGIES", "CellContext", "Fitted", "Predictions", "Predictor", "Strategy"]
