"""The one training loop behind the trained strategies (``finetune``, ``lora``).

An encoder plus a task head (dropout + linear on the model's own pooled output) is
trained with AdamW under a linear warm-up / linear decay schedule, gradient clipping and
optional gradient accumulation, over length-grouped, dynamically padded batches (texts)
or batches of preprocessed pixels (images, ``strategies.image_batches``). The
validation set is scored every ``eval_every`` steps (default: each epoch); training stops
after ``patience`` evaluations without improvement or when ``max_seconds`` is spent, and
the best state is put back before the test split is predicted.

Training runs on the encoder's device. A body loaded in bfloat16 or float16 trains in
mixed precision: its trainable weights are kept in float32 (so small updates are not
rounded away), its forward pass runs under autocast in the body's dtype, hidden states
are cast to float32 before pooling, and the head is float32; float16 scales the loss
(``torch.amp.GradScaler``) so small gradients do not underflow. A float32 body trains
exactly as without devices: no cast, no autocast.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from adapteval.core.env import silence_libraries
from adapteval.metrics import METRICS
from adapteval.models.hf import weight_format
from adapteval.strategies.text_batches import (
    Encoded,
    collate,
    epoch_batches,
    n_batches,
    sorted_batches,
)
from adapteval.strategies.train_params import TrainParams

Progress = Callable[[str, int, int], None] | None
NEVER_TRAINED = ("pooler.",)  # computed by some encoders, unused by a head on pooled tokens


LOW_PRECISION = (torch.bfloat16, torch.float16)


class TaskModel(torch.nn.Module):
    """Encoder, the model's pooling, dropout and a linear head (one output per class),
    on the encoder's device; a low-precision encoder runs in mixed precision (see the
    module docstring): ``compute_dtype`` is its dtype then, else None. An image body
    (``pool`` None) takes ``pixel_values`` and returns pooled features of width
    ``feature_dim``."""

    def __init__(
        self, encoder: torch.nn.Module, pool: Callable | None, n_out: int, dropout: float,
        generator: torch.Generator,
    ) -> None:
        super().__init__()
        first = next(encoder.parameters())
        self.device = first.device
        low = {q.dtype for q in encoder.parameters()} & set(LOW_PRECISION)
        self.compute_dtype: torch.dtype | None = max(low, key=str) if low else None
        if self.compute_dtype is not None:  # float32 master weights for what trains
            for q in encoder.parameters():
                if q.requires_grad and q.dtype != torch.float32:
                    q.data = q.data.float()
        self.encoder = encoder
        self.pool = pool
        self.dropout = torch.nn.Dropout(dropout)
        width = getattr(encoder, "feature_dim", None) or encoder.config.hidden_size
        self.head = torch.nn.Linear(width, n_out)
        with torch.no_grad():
            torch.nn.init.normal_(self.head.weight, std=0.02, generator=generator)
            self.head.bias.zero_()
        self.head.to(self.device)

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.compute_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.compute_dtype)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        if self.pool is None:  # an image body: it returns pooled features itself
            with self.autocast():
                pooled = self.encoder(**batch)
            return self.head(self.dropout(pooled.float()))
        with self.autocast():
            hidden = self.encoder(**batch).last_hidden_state
        pooled = self.pool(hidden.float(), batch["attention_mask"])
        return self.head(self.dropout(pooled))


@dataclass
class Objective:
    """Loss, targets and the early-stopping score of one task type."""

    n_classes: int | None  # None: regression
    metric: str
    y_mean: float = 0.0
    y_std: float = 1.0

    @classmethod
    def for_task(cls, n_classes: int | None, metric: str, y_fit: np.ndarray) -> Objective:
        if metric == "auto":
            metric = "mse" if n_classes is None else "accuracy"
        if n_classes is not None:
            return cls(n_classes, metric)
        std = float(np.std(y_fit)) if len(y_fit) > 1 else 1.0
        return cls(None, metric, float(np.mean(y_fit)), std if std > 0 else 1.0)

    @property
    def n_out(self) -> int:
        return self.n_classes or 1

    def loss(self, out: torch.Tensor, y: np.ndarray) -> torch.Tensor:
        """Summed loss of a batch (regression targets are standardised on the fit set)."""
        if self.n_classes is not None:
            return torch.nn.functional.cross_entropy(out, torch.from_numpy(y).to(out.device),
                                                     reduction="sum")
        target = torch.from_numpy((y - self.y_mean) / self.y_std).to(out.device, out.dtype)
        return torch.nn.functional.mse_loss(out[:, 0], target, reduction="sum")

    def decode(self, out: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Raw outputs (n, n_out) to (predictions, class probabilities or None)."""
        if self.n_classes is None:
            return out[:, 0] * self.y_std + self.y_mean, None
        z = out - out.max(1, keepdims=True)
        proba = np.exp(z)
        proba /= proba.sum(1, keepdims=True)
        return proba.argmax(1), proba

    def score(self, out: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """(early-stopping metric, mean loss) of raw outputs against targets."""
        mean_loss = float(self.loss(torch.from_numpy(out), y)) / len(y)
        if self.metric == "loss":
            return mean_loss, mean_loss
        pred, proba = self.decode(out)
        m = METRICS.get(self.metric)
        if self.n_classes is None:
            return float(m.compute(y, pred, proba)), mean_loss
        return float(m.compute(y, pred, proba, self.n_classes)), mean_loss

    def better(self, new: tuple[float, float], old: tuple[float, float] | None) -> bool:
        """Is ``new`` an improvement? Ties on the metric go to the lower loss."""
        if old is None or math.isnan(old[0]):
            return not math.isnan(new[0])
        higher = self.metric != "loss" and METRICS.get(self.metric).higher_is_better
        if new[0] != old[0]:
            return new[0] > old[0] if higher else new[0] < old[0]
        return new[1] < old[1]


@dataclass
class LoopResult:
    steps: int
    total_steps: int
    best_step: int
    best_score: float | None
    stopped_early: bool
    budget_exhausted: bool
    train_seconds: float
    curve: list[dict[str, Any]] = field(default_factory=list)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's global generator and ask for deterministic kernels, restoring both after."""
    mode = torch.are_deterministic_algorithms_enabled()
    warn = torch.is_deterministic_algorithms_warn_only_enabled()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True, warn_only=True)
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(mode, warn_only=warn)


def loss_scaler(model: TaskModel) -> torch.amp.GradScaler | None:
    """A gradient scaler for a float16 body (bfloat16 has float32's range: none)."""
    if model.compute_dtype != torch.float16:
        return None
    return torch.amp.GradScaler(model.device.type)


def make_optimizer(model: TaskModel, params: TrainParams) -> torch.optim.AdamW:
    """AdamW (fused where torch has it) over trainable parameters; no weight decay on
    biases and norm weights; the head at its own learning rate."""
    groups: dict[tuple[bool, bool], list[torch.nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if param.requires_grad:
            groups.setdefault((name.startswith("head."), param.ndim >= 2), []).append(param)
    head_lr = params.head_learning_rate or params.learning_rate
    spec = [
        {"params": ps, "lr": head_lr if is_head else params.learning_rate,
         "weight_decay": params.weight_decay if decays else 0.0}
        for (is_head, decays), ps in sorted(groups.items())
    ]
    try:  # one fused kernel: several times faster than the per-tensor loop on CPU
        return torch.optim.AdamW(spec, fused=True)
    except (RuntimeError, TypeError):  # older torch: no fused CPU AdamW
        return torch.optim.AdamW(spec)


def linear_schedule(
    optimizer: torch.optim.Optimizer, warmup: int, total: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over ``warmup`` steps, then linear decay to zero at ``total``."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        return max(0.0, (total - step) / max(1, total - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def batch_of(data: Any, idx: np.ndarray, pad_id: int, device: Any) -> dict[str, torch.Tensor]:
    """The model inputs of items ``idx``: padded token ids of texts, or pixel tensors of
    images (data that collates itself: ``image_batches.ImageData``)."""
    if hasattr(data, "collate"):
        return data.collate(idx, device)
    return collate(data, idx, pad_id, device)


def predict(
    model: TaskModel, data: Encoded | Any, batch_size: int, pad_id: int, progress: Progress = None
) -> np.ndarray:
    """Raw outputs (n, n_out) in input order, in eval mode without gradients."""
    was_training = model.training
    model.eval()
    out = np.zeros((len(data), model.head.out_features), np.float64)
    batches = sorted_batches(data.lengths, batch_size)
    with torch.inference_mode():
        for i, idx in enumerate(batches):
            out[idx] = model(batch_of(data, idx, pad_id, model.device)).double().cpu().numpy()
            if progress is not None:
                progress("predicting", i + 1, len(batches))
    model.train(was_training)
    return out


class Checkpoint:
    """The best validation score so far, its step, a copy of the trainable weights, and
    the count of evaluations since it (for patience)."""

    def __init__(self, objective: Objective) -> None:
        self.objective = objective
        self.score: tuple[float, float] | None = None
        self.step = 0
        self.since = 0
        self.state: dict[str, torch.Tensor] | None = None

    def offer(self, model: TaskModel, score: tuple[float, float], step: int) -> None:
        if self.objective.better(score, self.score):
            self.score, self.step, self.since = score, step, 0
            self.state = {
                n: q.detach().clone() for n, q in model.named_parameters() if q.requires_grad
            }
        else:
            self.since += 1

    def restore(self, model: TaskModel) -> None:
        assert self.state is not None
        with torch.no_grad():
            for name, q in model.named_parameters():
                if name in self.state:
                    q.copy_(self.state[name])


def plan_steps(n_fit: int, params: TrainParams) -> tuple[int, int]:
    """(optimizer steps per epoch, total optimizer steps)."""
    per_epoch = -(-n_batches(n_fit, params.batch_size) // params.gradient_accumulation_steps)
    return per_epoch, params.max_steps or per_epoch * params.epochs


def train(
    model: TaskModel, fit: Encoded | Any, val: Encoded | Any | None, objective: Objective, params: TrainParams,
    rng: np.random.Generator, pad_id: int, progress: Progress = None,
) -> LoopResult:
    """Train ``model`` in place; leave it holding the best validated state, in eval mode."""
    p = params
    per_epoch, total = plan_steps(len(fit), p)
    optimizer = make_optimizer(model, p)
    schedule = linear_schedule(optimizer, math.ceil(p.warmup_ratio * total), total)
    trainable = [q for q in model.parameters() if q.requires_grad]
    scaler = loss_scaler(model)
    res = LoopResult(0, total, 0, None, False, False, 0.0)
    best = Checkpoint(objective)
    loss_sum, loss_n = 0.0, 0
    t0 = time.perf_counter()
    model.train()
    while res.steps < total:
        batches = epoch_batches(fit.lengths, p.batch_size, rng)
        k = p.gradient_accumulation_steps
        groups = [batches[i : i + k] for i in range(0, len(batches), k)]
        for g, group in enumerate(groups):
            n_group = sum(len(idx) for idx in group)
            for idx in group:
                loss = objective.loss(model(batch_of(fit, idx, pad_id, model.device)), fit.y[idx])
                if scaler is None:
                    (loss / n_group).backward()
                else:
                    scaler.scale(loss / n_group).backward()
                loss_sum += float(loss.detach())
                loss_n += len(idx)
            if scaler is not None:
                scaler.unscale_(optimizer)
            if p.max_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(trainable, p.max_grad_norm)
            lr = optimizer.param_groups[0]["lr"]
            if scaler is None:
                optimizer.step()
            else:  # skips the step when the scaled gradients overflowed
                scaler.step(optimizer)
                scaler.update()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            res.steps += 1
            if progress is not None:
                progress("training", res.steps, total)
            over = p.max_seconds is not None and time.perf_counter() - t0 > p.max_seconds
            due = (p.eval_every is None and g == len(groups) - 1) or (
                p.eval_every is not None and res.steps % p.eval_every == 0
            )
            if due or over or res.steps == total:
                point: dict[str, Any] = {
                    "step": res.steps, "epoch": round(res.steps / per_epoch, 4),
                    "train_loss": loss_sum / max(loss_n, 1), "val_metric": None, "val_loss": None,
                    "lr": lr,
                }
                loss_sum, loss_n = 0.0, 0
                if val is not None and len(val):
                    score = objective.score(predict(model, val, p.eval_batch_size, pad_id), val.y)
                    point["val_metric"], point["val_loss"] = score
                    best.offer(model, score, res.steps)
                    patience_out = p.patience is not None and best.since >= p.patience
                    res.stopped_early = patience_out and res.steps < total
                res.curve.append(point)
            res.budget_exhausted = over and res.steps < total
            if over or res.stopped_early or res.steps == total:
                break
        if res.budget_exhausted or res.stopped_early:
            break
    res.train_seconds = time.perf_counter() - t0
    if best.state is None:  # nothing to validate on: keep the last state
        res.best_step = res.steps
    else:
        res.best_step, res.best_score = best.step, best.score[0]
        if best.step != res.steps:
            best.restore(model)
    model.eval()
    return res


def load_encoder(encoder: Any) -> torch.nn.Module:
    """A fresh, trainable copy of an ``HFEncoder``'s weights, in its dtype on its device:
    the pretrained ones read from disk with the encoder's own safety settings, or, for a
    random-weights control, a copy of the encoder's (never trained) random weights."""
    from transformers import AutoModel

    silence_libraries()
    if hasattr(encoder, "trainable_body"):  # a decoder: its body, without the LM head
        return encoder.trainable_body()
    spec = encoder.spec
    if getattr(spec, "random_init", False):
        model = copy.deepcopy(encoder.model)
    else:
        model = AutoModel.from_pretrained(
            encoder.folder,
            trust_remote_code=spec.trust_remote_code,
            use_safetensors=weight_format(encoder.folder, spec),
            dtype=getattr(encoder, "dtype", torch.float32),
        )
        model.to(getattr(encoder, "device", "cpu"))
    for name, param in model.named_parameters():
        param.requires_grad_(not name.startswith(NEVER_TRAINED))
    return model
