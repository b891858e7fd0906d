"""What every strategy shares: its registry, the cell context and its predictions.

A strategy is a :class:`adapteval.core.plugin.Plugin` of kind ``strategy``: it adapts one
model to one task for one seed and leaves test predictions and, for analyses, a
:class:`Predictor`.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from adapteval.core.plugin import Plugin
from adapteval.core.registry import Registry
from adapteval.data.task import Split, Task, View

if TYPE_CHECKING:
    from adapteval.models.kinds import ModelKind


@dataclass
class CellContext:
    """Everything a strategy needs to adapt one model to one task for one seed."""

    task: Task
    split: Split
    model: Any
    seed: int
    embed: Callable[[list[str]], np.ndarray] | None = None
    progress: Callable[[str, int, int], None] | None = None


@dataclass(frozen=True)
class Predictions:
    """Test-set predictions of one cell: E experiments (E=1 unless resampled)."""

    y_true: np.ndarray  # (n,) class codes or targets
    y_pred: np.ndarray  # (E, n)
    proba: np.ndarray | None  # (E, n, C) for classification
    rows: np.ndarray  # (n,) task row ids of the test items
    info: dict[str, Any] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        """An ``.npz`` of the arrays alone, byte for byte the same for the same numbers: no
        zip timestamps, and no ``info`` (it holds timings; the store keeps it beside)."""
        arrays = {"y_true": self.y_true, "y_pred": self.y_pred, "rows": self.rows}
        if self.proba is not None:
            arrays["proba"] = self.proba.astype(np.float32)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, arr in arrays.items():
                entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                entry.compress_type = zipfile.ZIP_DEFLATED
                with zf.open(entry, "w") as fh:
                    np.lib.format.write_array(fh, np.ascontiguousarray(arr), allow_pickle=False)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes, info: dict[str, Any] | None = None) -> Predictions:
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            if "info" in z.files:  # written before info moved out of the blob
                info = json.loads(z["info"].tobytes().decode())
            proba = None
            if "proba" in z.files:  # stored as float32: renormalise rows in float64
                proba = z["proba"].astype(np.float64)
                proba /= proba.sum(-1, keepdims=True)
            return cls(z["y_true"], z["y_pred"], proba, z["rows"], info or {})


class Predictor:
    """What an adapted model leaves behind: a function from new input items (texts, for
    text tasks) to outputs.

    Analyses (robustness, fairness, attribution, transfer, compression) call it on items
    the cell never saw. ``scores`` returns class probabilities ``(n, C)`` for
    classification and predicted values ``(n,)`` for regression. ``kind`` says what is
    inside: ``"frozen"`` (encoder features + fitted head(s)) or ``"trained"`` (a torch
    task model), so an analysis can reach further when it knows the kind.
    """

    kind: ClassVar[str] = "frozen"

    def __init__(self, task: Task) -> None:
        self.task = task

    @property
    def regression(self) -> bool:
        return self.task.is_regression

    def scores(self, items: list[Any], pairs: list[Any] | None = None) -> np.ndarray:
        raise NotImplementedError

    def predict(self, items: list[Any], pairs: list[Any] | None = None) -> np.ndarray:
        out = self.scores(items, pairs)
        return out if self.regression else out.argmax(1)


@dataclass
class Fitted:
    """A strategy's result for one cell: the predictor and its test-set predictions."""

    predictor: Predictor | None
    predictions: Predictions


class Strategy(Plugin):
    """Base class: subclasses set ``name``, ``description``, ``Params`` and implement
    ``fit`` (or ``run``, when they leave no predictor for analyses). ``config()`` (name
    and parameters) keys the stored cells."""

    kind = "strategy"
    frozen: ClassVar[bool] = True  # the model's weights are not trained
    embeds: ClassVar[bool] = True
    """It reads the model's cached embeddings (``ctx.embed``), so a run encodes what its
    cells need (:meth:`embedded`) once before they start; prompting strategies do not."""
    rung: ClassVar[float | None] = None
    """Its place on the customizability ladder, from least to most adaptation (zeroshot
    0, icl 1, kshot 2, probe 3, lora 4, finetune 5; a plug-in may sit between, e.g. 3.5);
    the ladder compares each rung with the one below it that ran. None: not on it."""

    def supports(self, model_kind: ModelKind) -> bool:
        """Whether this strategy can adapt models of ``model_kind``."""
        return True

    def check_task(self, task: Task) -> None:
        """Refuse, when the plan is built, a task this strategy cannot run on (one
        ``ConfigError`` line); by default every task of its modalities and types."""

    def embedded(self, task: Task, split: Split, seed: int) -> list[View]:
        """The views whose items (and pairs) a cell of this strategy embeds: the whole
        train and test split by default, nothing when it does not embed. A strategy that
        trains on part of the split (k-shot draws) names that part, so a run encodes only
        it; features of other items come from the same cache when a later cell asks."""
        return [split.train, split.test] if self.embeds else []

    def fit(self, ctx: CellContext) -> Fitted:
        return Fitted(None, self.run(ctx))

    def run(self, ctx: CellContext) -> Predictions:
        if type(self).fit is Strategy.fit:  # pragma: no cover - a subclass must define one
            raise NotImplementedError(f"{type(self).__name__} defines neither fit nor run")
        return self.fit(ctx).predictions


STRATEGIES: Registry[type[Strategy]] = Registry("strategies", "strategy")
