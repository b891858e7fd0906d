"""Settings of the trained strategies (``finetune``, ``lora``): optimisation, batching,
early stopping and budget. Read by the strategies and by the training loop
(:mod:`adapteval.strategies.training`); torch-free, so registering a strategy loads no torch."""

from __future__ import annotations

from pydantic import Field, field_validator

from adapteval.core.plugin import Params
from adapteval.metrics import METRICS


class TrainParams(Params):
    """Optimisation, batching, early stopping and budget settings of trained strategies."""

    learning_rate: float = Field(default=5e-5, gt=0, le=1)
    head_learning_rate: float | None = Field(
        default=None, gt=0, le=1,
        description="default: 1e-2 on L2-normalised embeddings (sentence-transformers), "
        "else 1e-3",
    )
    weight_decay: float = Field(default=0.01, ge=0)
    warmup_ratio: float = Field(default=0.1, ge=0, lt=1)
    max_grad_norm: float | None = Field(default=1.0, gt=0, description="None: no clipping")
    gradient_accumulation_steps: int = Field(default=1, ge=1, le=1024)
    epochs: int = Field(default=3, ge=1, le=1000)
    max_steps: int | None = Field(
        default=None, ge=1, description="optimizer steps; overrides epochs"
    )
    batch_size: int = Field(default=16, ge=1, le=4096)
    eval_batch_size: int = Field(default=64, ge=1, le=4096)
    max_length: int | None = Field(
        default=None, gt=0, le=8192, description="tokens; default: the model's"
    )
    dropout: float = Field(default=0.1, ge=0, lt=1, description="dropout before the head")
    validation_fraction: float = Field(
        default=0.1, ge=0, le=0.5,
        description="carved from train (seeded, stratified) unless the task has a validation split",
    )
    eval_every: int | None = Field(
        default=None, ge=1, description="steps between evaluations; default: once per epoch"
    )
    patience: int | None = Field(
        default=3, ge=1, description="evaluations without improvement before stopping; None: never"
    )
    metric: str = Field(
        default="auto", description="early stopping on: auto (accuracy / mse), loss, or a metric"
    )
    max_seconds: float | None = Field(default=None, gt=0, description="training time budget")
    gradient_checkpointing: bool = Field(
        default=False, exclude=True,  # the same numbers either way: not part of the cell key
        description="recompute activations in the backward pass: less memory, more time",
    )

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        if value not in ("auto", "loss") and value not in METRICS:
            raise ValueError(f"use auto, loss or one of {', '.join(METRICS.names())}")
        return value
