"""The base of model kinds and their registry (see :mod:`adapteval.models.kinds` for the
built-in kinds and how a ``models:`` entry finds its kind)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from adapteval.core.devices import Placement, cpu_only, resolve_placement
from adapteval.core.env import threads
from adapteval.core.errors import IncompatibleError
from adapteval.core.plugin import TEXT_MODALITIES, Plugin
from adapteval.core.registry import Registry
from adapteval.models.compress import parameter_counts
from adapteval.models.ref import ModelRef
from adapteval.suite.specs import ModelSpec


@dataclass(frozen=True)
class Runtime:
    """What the cost analyses run and count for one loaded model."""

    encode: Callable[[list[str]], Any]  # texts -> features, the call that is timed
    count: Callable[[], tuple[int, int]]  # (total, non-zero) numbers in the weights


class ModelKind(Plugin):
    """Base of model kinds: subclasses set ``name`` and implement ``resolve``/``load``.

    A kind reads text unless it says otherwise: one that takes other items (images) or
    any item (the majority baseline) sets ``modalities``."""

    kind: ClassVar[str] = "model kind"
    modalities: ClassVar[frozenset[str]] = frozenset(TEXT_MODALITIES)
    pretrained: ClassVar[bool] = True
    torch_weights: ClassVar[bool] = False
    """The loaded model holds a torch module (``.model``) whose weights, read from
    ``ref.folder``, can be trained, pruned or quantized."""
    constant: ClassVar[bool] = False
    """Its outputs do not depend on the text (majority): nothing to time or rank."""
    fits_on_train: ClassVar[bool] = False
    """Encoding needs the training texts first (the TF-IDF vocabulary)."""
    prompts: ClassVar[bool] = False
    """A language model that scores text continuations (the prompting strategies)."""

    def ref(self, spec: ModelSpec, folder: Path | None, fingerprint: str,
            tokenizer_folder: Path | None = None, placement: Placement | None = None) -> ModelRef:
        if placement is None:
            placement = self.placement(spec)
        return ModelRef(spec.label, spec, self.name, folder, fingerprint, tokenizer_folder,
                        self.pretrained, placement)

    def placement(self, spec: ModelSpec, *, where: str = "") -> Placement | None:
        """Where ``spec`` computes, or one ConfigError line; None: on the CPU only (the
        default: any other ``device``/``dtype`` is refused)."""
        cpu_only(spec.device, spec.dtype, what=f"a {self.name} model", where=where)
        return None

    def resolve(self, spec: ModelSpec, base_dir: Path, *, where: str) -> ModelRef:
        raise NotImplementedError  # pragma: no cover - abstract

    def load(self, ref: ModelRef) -> Any:
        raise NotImplementedError  # pragma: no cover - abstract

    def runtime(self, ref: ModelRef, model: Any, fit_texts: list[str] | None) -> Runtime:
        """Encoders: ``model.encode`` in one batch, weights counted lazily."""
        raise IncompatibleError(f"a {self.name} model has nothing to time")

    def weight_path(self, ref: ModelRef) -> Path | None:
        """The file or folder whose size is the model's size on disk (None: nothing)."""
        return None

    def threads(self) -> int | None:
        """Threads this kind's encoder computes with, in this process."""
        return threads() or os.cpu_count()

    def preload(self) -> None:
        """Import this kind's libraries (before a measuring process forks)."""


class TorchKind(ModelKind):
    """A kind whose loaded model is a torch module (``.model``) on a device and dtype the
    spec places: timed as one batch of ``encode``, sized by its parameters and folder."""

    torch_weights = True

    def placement(self, spec: ModelSpec, *, where: str = "") -> Placement | None:
        return resolve_placement(spec.device, spec.dtype, where=where)

    def runtime(self, ref: ModelRef, model: Any, fit_texts: list[str] | None) -> Runtime:
        return Runtime(encode_in_one_batch(model), lambda: parameter_counts(model.model))

    def weight_path(self, ref: ModelRef) -> Path | None:
        return ref.folder

    def threads(self) -> int | None:
        import torch

        return torch.get_num_threads()

    def preload(self) -> None:
        import torch  # noqa: F401


MODEL_KINDS: Registry[ModelKind] = Registry("model_kinds", "model kind")


def encode_in_one_batch(model: Any) -> Callable[[list[str]], Any]:
    return lambda batch: model.encode(batch, batch_size=len(batch))
