"""Model kinds: how a ``models:`` entry is resolved to files and loaded.

A model kind is a plugin (:class:`adapteval.core.plugin.Plugin`) registered in
``MODEL_KINDS`` (entry-point group ``adapteval.model_kinds``; an entry point loads a
``ModelKind`` instance). It says which input modalities it accepts, whether it is
pretrained, and provides:

- ``resolve(spec, base_dir, where=...)``: the model's files and fingerprint
  (:class:`~adapteval.models.ref.ModelRef`), checked before any work;
- ``load(ref)``: the model the strategies use (an encoder with ``encode`` or a baseline
  with ``fit_transform``);
- what the cost analyses measure: ``runtime`` (the function timed and the weight count),
  ``weight_path`` (what is on disk), ``threads`` and ``preload``.

Built in: ``hf`` (Hugging Face folders, catalog names or hub ids; ``random_init`` is one
of its options), ``onnx`` (onnxruntime), and the non-pretrained baselines ``majority``
and ``tfidf``. ``kind: auto`` takes the catalog's kind for a short name, else ``hf``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from adapteval.core.env import threads
from adapteval.core.errors import ConfigError, IncompatibleError
from adapteval.core.keys import content_key
from adapteval.core.plugin import Plugin
from adapteval.core.registry import Registry
from adapteval.models.baselines import MajorityBaseline, TfidfBaseline
from adapteval.models.catalog import lookup
from adapteval.models.compress import parameter_counts
from adapteval.models.fingerprint import fingerprint_files, folder_fingerprint
from adapteval.models.hf import resolve_model_dir, weight_format
from adapteval.models.onnx import find_onnx_file, initializer_counts
from adapteval.models.ref import ModelRef
from adapteval.suite.specs import ModelSpec


@dataclass(frozen=True)
class Runtime:
    """What the cost analyses run and count for one loaded model."""

    encode: Callable[[list[str]], Any]  # texts -> features, the call that is timed
    count: Callable[[], tuple[int, int]]  # (total, non-zero) numbers in the weights


class ModelKind(Plugin):
    """Base of model kinds: subclasses set ``name`` and implement ``resolve``/``load``."""

    kind: ClassVar[str] = "model kind"
    pretrained: ClassVar[bool] = True
    torch_weights: ClassVar[bool] = False
    """The loaded model holds a torch module (``.model``) whose weights, read from
    ``ref.folder``, can be trained, pruned or quantized."""
    constant: ClassVar[bool] = False
    """Its outputs do not depend on the text (majority): nothing to time or rank."""
    fits_on_train: ClassVar[bool] = False
    """Encoding needs the training texts first (the TF-IDF vocabulary)."""

    def ref(self, spec: ModelSpec, folder: Path | None, fingerprint: str,
            tokenizer_folder: Path | None = None) -> ModelRef:
        return ModelRef(spec.label, spec, self.name, folder, fingerprint, tokenizer_folder,
                        self.pretrained)

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


MODEL_KINDS: Registry[ModelKind] = Registry("model_kinds", "model kind")


def _encode_in_one_batch(model: Any) -> Callable[[list[str]], Any]:
    return lambda batch: model.encode(batch, batch_size=len(batch))


class HuggingFace(ModelKind):
    name = "hf"
    description = "Hugging Face encoder: a local folder, a catalog short name or a hub id"
    torch_weights = True

    def resolve(self, spec: ModelSpec, base_dir: Path, *, where: str) -> ModelRef:
        if spec.tokenizer is not None:
            raise ConfigError(
                "tokenizer: applies to ONNX models only", where=where, value=spec.tokenizer,
                fix="remove it; Hugging Face folders carry their own tokenizer",
            )
        folder = resolve_model_dir(spec, base_dir, where=where)
        weight_format(folder, spec, where=where)
        fingerprint = folder_fingerprint(folder)
        if spec.random_init:
            fingerprint = content_key({"weights": fingerprint,
                                       "random_init": spec.init_seed})[:20]
        return self.ref(spec, folder, fingerprint)

    def load(self, ref: ModelRef) -> Any:
        from adapteval.models.hf import HFEncoder

        assert ref.folder is not None
        n = threads()
        if n is not None:
            import torch

            torch.set_num_threads(n)
        return HFEncoder(ref.spec, ref.folder, where=f"model {ref.label!r}")

    def runtime(self, ref: ModelRef, model: Any, fit_texts: list[str] | None) -> Runtime:
        return Runtime(_encode_in_one_batch(model), lambda: parameter_counts(model.model))

    def weight_path(self, ref: ModelRef) -> Path | None:
        return ref.folder

    def threads(self) -> int | None:
        import torch

        return torch.get_num_threads()

    def preload(self) -> None:
        import torch  # noqa: F401
        import transformers  # noqa: F401


class Onnx(ModelKind):
    name = "onnx"
    description = "ONNX encoder (onnxruntime, CPU) with a tokenizer; frozen strategies only"

    def resolve(self, spec: ModelSpec, base_dir: Path, *, where: str) -> ModelRef:
        entry = lookup(spec.source)
        if entry is not None and entry.locate is not None:
            path = entry.path()
        else:
            path = Path(spec.source).expanduser()
            path = path if path.is_absolute() else base_dir / path
        model_file = find_onnx_file(path, where=where)
        if spec.tokenizer is not None:
            tok = resolve_model_dir(ModelSpec(source=spec.tokenizer), base_dir,
                                    where=f"{where}.tokenizer")
        elif (model_file.parent / "tokenizer_config.json").is_file():
            tok = model_file.parent
        else:
            raise ConfigError(
                "an ONNX model needs a tokenizer", where=where, value=spec.source,
                fix="set tokenizer: to a short name (e.g. all-MiniLM-L6-v2) or a tokenizer folder",
            )
        if spec.random_init or spec.allow_pickle or spec.trust_remote_code:
            raise ConfigError(
                "random_init, allow_pickle and trust_remote_code do not apply to ONNX models",
                where=where, fix="remove them",
            )
        fp = content_key({"onnx": fingerprint_files([model_file], root=model_file.parent),
                          "tokenizer": folder_fingerprint(tok)})[:20]
        return self.ref(spec, model_file, fp, tok)

    def load(self, ref: ModelRef) -> Any:
        from adapteval.models.onnx import ONNXEncoder

        assert ref.folder is not None and ref.tokenizer_folder is not None
        return ONNXEncoder(ref.spec, ref.folder, ref.tokenizer_folder,
                           where=f"model {ref.label!r}")

    def runtime(self, ref: ModelRef, model: Any, fit_texts: list[str] | None) -> Runtime:
        assert ref.folder is not None
        folder = ref.folder
        return Runtime(_encode_in_one_batch(model), lambda: initializer_counts(folder))

    def weight_path(self, ref: ModelRef) -> Path | None:
        return ref.folder


class Baseline(ModelKind):
    """A non-pretrained reference model that loads offline from installed packages."""

    pretrained = False
    model_class: ClassVar[type]

    def resolve(self, spec: ModelSpec, base_dir: Path, *, where: str) -> ModelRef:
        return self.ref(spec, None, f"{self.name}-baseline-v1")

    def load(self, ref: ModelRef) -> Any:
        return self.model_class()


class Majority(Baseline):
    name = "majority"
    description = "non-pretrained baseline: majority class / mean"
    model_class = MajorityBaseline
    constant = True


class Tfidf(Baseline):
    name = "tfidf"
    description = "non-pretrained baseline: TF-IDF word 1-2 grams + linear model"
    model_class = TfidfBaseline
    fits_on_train = True

    def runtime(self, ref: ModelRef, model: Any, fit_texts: list[str] | None) -> Runtime:
        vec = model.vectorizer(fit_texts)
        size = len(vec.vocabulary_)  # the idf weights
        return Runtime(vec.transform, lambda: (size, size))

    def threads(self) -> int | None:
        return 1  # TF-IDF transforms run on one thread


for _kind in (HuggingFace(), Onnx(), Majority(), Tfidf()):
    MODEL_KINDS.register(_kind)


def kind_of(spec: ModelSpec, *, where: str) -> ModelKind:
    """The model kind of ``spec``: ``auto`` takes the catalog's kind for a short name,
    else ``hf``; an unknown name is one ConfigError line listing the valid kinds."""
    name = spec.kind
    if name == "auto":
        entry = lookup(spec.source)
        name = entry.kind if entry is not None else "hf"
    return MODEL_KINDS.get(name, where=f"{where}.kind")


def resolve_model(spec: ModelSpec, base_dir: Path, *, where: str) -> ModelRef:
    """``spec`` resolved by its model kind (files found, fingerprinted), not loaded."""
    return kind_of(spec, where=where).resolve(spec, base_dir, where=where)


def load_model(ref: ModelRef) -> Any:
    """The model ``ref`` describes, loaded by its kind."""
    return MODEL_KINDS.get(ref.kind).load(ref)
