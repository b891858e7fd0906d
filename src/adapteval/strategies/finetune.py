"""Full fine-tuning: every encoder weight and a task head train on the task.

Encoders and decoder-only LMs alike: a decoder's body trains under the head on its
last real token (the pad token is set at load). Image encoders (EfficientNet-Lite,
Hugging Face vision models) train on batches of pixels made by their own preprocessing,
under the head on their pooled features; batch norm layers keep the pretrained running
statistics (``models.images.freeze_batch_norm``). The cell's info reports trainable and
total parameters and the peak memory of training (``train_peak_memory_mb``: the rise of
resident memory on the CPU, torch's peak allocation on a GPU).

Each cell loads a fresh copy of the pretrained weights from the model's folder, so no
cell sees another's training and the shared (frozen) encoder is never touched. The
seed fixes the validation carve-out, the batch order, the head's initial weights and
dropout: the same seed gives the same numbers on the same machine. torch is imported
only when a cell runs (see ``adapteval.strategies.training``); the settings are
:class:`adapteval.strategies.train_params.TrainParams`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from adapteval.contracts.strategy import (
    STRATEGIES,
    CellContext,
    Fitted,
    Predictions,
    Predictor,
    Strategy,
)
from adapteval.core.errors import IncompatibleError
from adapteval.core.memory import PeakMemory
from adapteval.core.plugin import IMAGE, TASK_TYPES, TEXT, TEXT_PAIR
from adapteval.data.task import View
from adapteval.strategies.image_batches import image_view
from adapteval.strategies.text_batches import carve_validation, encode_view
from adapteval.strategies.train_params import TrainParams

if TYPE_CHECKING:
    from adapteval.models.kinds import ModelKind


class TrainedPredictor(Predictor):
    """A trained task model (``training.TaskModel``: encoder, pooling, head) with the
    tokenizer and settings it was trained with; for images, ``preprocess`` (the
    encoder's transform) instead of a tokenizer."""

    kind = "trained"

    def __init__(
        self, task: Any, model: Any, objective: Any, tokenizer: Any, max_length: int,
        batch_size: int, preprocess: Any = None,
    ) -> None:
        super().__init__(task)
        self.model, self.objective, self.tokenizer = model, objective, tokenizer
        self.max_length, self.batch_size = max_length, batch_size
        self.preprocess = preprocess
        self.pad_id = (tokenizer.pad_token_id or 0) if tokenizer is not None else 0

    def scores(self, texts: list[Any], pairs: list[str] | None = None) -> Any:
        from adapteval.strategies.training import predict

        view = View(list(texts), list(pairs) if pairs is not None else None, np.zeros(len(texts)))
        out = predict(self.model, model_inputs(view, self.tokenizer, self.preprocess,
                                               self.max_length), self.batch_size, self.pad_id)
        y_pred, proba = self.objective.decode(out)
        return y_pred if proba is None else proba


def model_inputs(view: View, tokenizer: Any, preprocess: Any, max_length: int) -> Any:
    """Token ids of a text view, or an image view with its encoder's preprocessing."""
    if preprocess is not None:
        return image_view(view, preprocess)
    return encode_view(tokenizer, view, max_length)


def validation_views(
    ctx: CellContext, params: TrainParams, n_classes: int | None
) -> tuple[View, View | None, str | None]:
    """(fit, validation, its source): the task's own validation split if it has one."""
    train, given = ctx.split.train, ctx.split.validation
    if given is not None and len(given):
        return train, given, "given"
    fit_idx, val_idx = carve_validation(train, params.validation_fraction, ctx.seed, n_classes)
    if not len(val_idx):
        return train, None, None
    return train.take(fit_idx), train.take(val_idx), "carved"


def collapsed(y_pred: Any, proba: Any) -> bool:
    """A failed run: one class for every test item, or a constant regression output."""
    if proba is not None:
        return len(set(y_pred.tolist())) == 1
    return bool(y_pred.max() - y_pred.min() <= 1e-9 * max(1.0, abs(float(y_pred.mean()))))


def checkpointing(encoder: Any) -> None:
    """Recompute activations in the backward pass (transformers' gradient checkpointing)."""
    if not getattr(encoder, "supports_gradient_checkpointing", False):
        raise IncompatibleError(
            f"{type(encoder).__name__} does not support gradient checkpointing",
            fix="set gradient_checkpointing: false",
        )
    encoder.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})


def default_head_lr(larger: bool) -> float:
    """The head's default learning rate: 1e-2 on unit-norm text features and on image
    features, else 1e-3. For images 1e-2 was measured: EfficientNet-Lite0, 6 steps of 16
    on 200 Fashion-MNIST images, accuracy 0.31 -> 0.52 (finetune) and 0.23 -> 0.55 (LoRA)
    over 1e-3."""
    return 1e-2 if larger else 1e-3


class TrainedStrategy(Strategy):
    """Base of strategies that train a fresh copy of an encoder (Hugging Face text or
    vision, a decoder's body, EfficientNet-Lite) with a head."""

    frozen = False
    embeds = False
    Params = TrainParams
    modalities = frozenset({TEXT, TEXT_PAIR, IMAGE})  # a pair is tokenized as one input
    task_types = frozenset(TASK_TYPES)

    def supports(self, model_kind: ModelKind) -> bool:
        return model_kind.torch_weights

    def prepare(self, encoder: Any) -> Any:
        """Choose what trains; called on a fresh copy, under the cell's seed."""
        return encoder

    def fit(self, ctx: CellContext) -> Fitted:
        import torch

        from adapteval.strategies.training import (
            Objective,
            TaskModel,
            load_encoder,
            predict,
            seeded,
            train,
        )

        p: TrainParams = self.params  # type: ignore[assignment]
        enc, task, test = ctx.model, ctx.task, ctx.split.test
        images = hasattr(enc, "preprocess")  # an image encoder: pixels, no tokens
        if p.head_learning_rate is None:  # unit-norm inputs need larger steps to move logits
            larger = images or enc.pooling.normalize  # images: measured, see default_head_lr
            p = p.model_copy(update={"head_learning_rate": default_head_lr(larger)})
        n_classes = None if task.is_regression else len(task.classes or ())
        fit_view, val_view, val_source = validation_views(ctx, p, n_classes)
        max_length = 0 if images else p.max_length or enc.pooling.max_length
        tok = None if images else enc.tokenizer
        pad_id = 0 if images else enc.tokenizer.pad_token_id or 0
        prep = enc.preprocess if images else None

        def inputs(view: View) -> Any:
            return model_inputs(view, tok, prep, max_length)

        fit, test_enc = inputs(fit_view), inputs(test)
        val = inputs(val_view) if val_view is not None else None
        objective = Objective.for_task(n_classes, p.metric, fit.y)
        with seeded(ctx.seed):
            encoder = self.prepare(load_encoder(enc))
            if p.gradient_checkpointing:
                checkpointing(encoder)
            head_init = torch.Generator().manual_seed(ctx.seed)
            model = TaskModel(encoder, None if images else enc.pool, objective.n_out, p.dropout,
                              head_init)
            rng = np.random.default_rng(ctx.seed)
            with PeakMemory(getattr(enc, "device", None)) as memory:
                loop = train(model, fit, val, objective, p, rng, pad_id, ctx.progress)
            out = predict(model, test_enc, p.eval_batch_size, pad_id, ctx.progress)
        y_pred, proba = objective.decode(out)
        info = {
            "n_train": len(fit_view), "n_val": len(val_view) if val_view is not None else 0,
            "n_test": len(test), "validation": val_source, "metric": objective.metric,
            "steps": loop.steps, "planned_steps": loop.total_steps, "best_step": loop.best_step,
            "best_val_metric": loop.best_score, "stopped_early": loop.stopped_early,
            "budget_exhausted": loop.budget_exhausted,
            "head_learning_rate": p.head_learning_rate,
            "trainable_params": sum(q.numel() for q in model.parameters() if q.requires_grad),
            "total_params": sum(q.numel() for q in model.parameters()),
            "train_seconds": loop.train_seconds, "collapsed": collapsed(y_pred, proba),
            "curve": loop.curve, "gradient_checkpointing": p.gradient_checkpointing,
            **{f"train_{k}": v for k, v in memory.info().items()},
        }
        preds = Predictions(
            test.y, y_pred[None], proba[None] if proba is not None else None, test.rows, info
        )
        return Fitted(
            TrainedPredictor(task, model, objective, tok, max_length, p.eval_batch_size, prep),
            preds
        )


@STRATEGIES.register
class FineTune(TrainedStrategy):
    name = "finetune"
    description = "full fine-tuning of the encoder with a dropout + linear head"
    rung = 5
    Params = TrainParams
