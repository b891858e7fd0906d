"""A model resolved to its files and fingerprint, not yet loaded."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from adapteval.core.devices import Placement
from adapteval.core.keys import content_key
from adapteval.suite.specs import ModelSpec


@dataclass(frozen=True)
class ModelRef:
    """What a model kind's ``resolve`` found: the files to load and their fingerprint.
    ``kind`` names the model kind (``adapteval.models.kinds.MODEL_KINDS``) that loads it;
    ``placement`` is the device and dtype it computes in (None: a CPU-only model)."""

    label: str
    spec: ModelSpec
    kind: str
    folder: Path | None  # the model folder (hf) or .onnx file (onnx); None for baselines
    fingerprint: str
    tokenizer_folder: Path | None = None
    pretrained: bool = True  # False for baselines fitted on the training texts
    placement: Placement | None = None

    @property
    def key(self) -> str:
        """Identity of the features: weights plus every setting that changes them. The
        placement enters only off the CPU or in another precision than float32, so
        CPU float32 keys are those from before devices existed."""
        s = self.spec
        parts = {"fp": self.fingerprint, "kind": self.kind, "pooling": s.pooling,
                 "normalize": s.normalize, "max_length": s.max_length, "tokenizer": s.tokenizer}
        if s.instruction is not None:  # a decoder's embedding prefix
            parts["instruction"] = s.instruction
        if self.placement is not None and self.placement.key:
            parts["placement"] = self.placement.key
        return content_key(parts)
