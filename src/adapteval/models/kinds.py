"""Model kinds: how a ``models:`` entry is resolved to files and loaded.

A model kind is a plugin (:class:`adapteval.core.plugin.Plugin`) registered in
``MODEL_KINDS`` (entry-point group ``adapteval.model_kinds``; an entry point loads a
``ModelKind`` instance). It says which input modalities it accepts, whether it is
pretrained, and provides:

- ``resolve(spec, base_dir, where=...)``: the model's files and fingerprint
  (:class:`~adapteval.models.ref.ModelRef`), checked before any work;
- ``placement(spec, where=...)``: the device and dtype it computes in
  (:class:`~adapteval.core.devices.Placement`), resolved first, so an absent device or
  an unsupported dtype fails before any file is read; kinds that compute only on the
  CPU (the baselines, by default a plugin kind) refuse any other ``device``/``dtype``;
- ``load(ref)``: the model the strategies use (an encoder with ``encode`` or a baseline
  with ``fit_transform``), on ``ref.placement``;
- what the cost analyses measure: ``runtime`` (the function timed and the weight count),
  ``weight_path`` (what is on disk), ``threads`` and ``preload``.

Built in: ``hf`` (Hugging Face folders, catalog names or hub ids; ``random_init`` is one
of its options), ``causal`` (decoder-only language models, GGUF files included), ``onnx`` (onnxruntime), and the non-pretrained baselines ``majority``,
``tfidf`` (text) and ``pixels`` (images). Image kinds (``efficientnet-lite``,
``hf-vision``) live in :mod:`adapteval.models.image_kinds`.
``kind: auto`` takes the catalog's kind for a short name, an image kind for a vision folder or
an EfficientNet-Lite weight file, ``causal`` for a GGUF file or a folder whose config names a
causal-LM architecture, else ``hf``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from adapteval.core.devices import Placement, cpu_only
from adapteval.core.env import threads
from adapteval.core.errors import ConfigError
from adapteval.core.keys import content_key
from adapteval.core.plugin import IMAGE, MODALITIES, TEXT_MODALITIES
from adapteval.models.baselines import MajorityBaseline, PixelBaseline, TfidfBaseline
from adapteval.models.catalog import lookup
from adapteval.models.compress import parameter_counts
from adapteval.models.fingerprint import fingerprint_files, folder_fingerprint
from adapteval.models.hf import resolve_model_dir, weight_format
from adapteval.models.image_kinds import image_kind_of
from adapteval.models.kind import MODEL_KINDS, ModelKind, Runtime, TorchKind, encode_in_one_batch
from adapteval.models.onnx import find_onnx_file, initializer_counts
from adapteval.models.ref import ModelRef
from adapteval.suite.specs import ModelSpec

__all__ = ["MODEL_KINDS", "ModelKind", "Runtime", "kind_of", "load_model", "resolve_model"]


class HuggingFace(TorchKind):
    name = "hf"
    description = "Hugging Face encoder: a local folder, a catalog short name or a hub id"

    def resolve(self, spec: ModelSpec, base_dir: Path, *, where: str) -> ModelRef:
        placement = self.placement(spec, where=where)
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
        return self.ref(spec, folder, fingerprint, placement=placement)

    def load(self, ref: ModelRef) -> Any:
        from adapteval.models.hf import HFEncoder

        return self.loaded(HFEncoder, ref)

    @staticmethod
    def loaded(model_class: type, ref: ModelRef) -> Any:
        """``model_class`` loaded from ``ref``'s folder, torch at the run's thread count."""
        assert ref.folder is not None
        n = threads()
        if n is not None:
            import torch

            torch.set_num_threads(n)
        return model_class(ref.spec, ref.folder, where=f"model {ref.label!r}",
                           placement=ref.placement)

    def preload(self) -> None:
        import torch  # noqa: F401
        import transformers  # noqa: F401


class Causal(HuggingFace):
    """Decoder-only LMs: resolved like ``hf`` folders, or from a GGUF file (converted once)."""

    name = "causal"
    description = ("decoder-only language model: a local folder, a cached hub id, a GGUF file "
                   "or a catalog short name")
    prompts = True
    """It scores text continuations, so the prompting strategies apply."""

    def resolve(self, spec: ModelSpec, base_dir: Path, *, where: str) -> ModelRef:
        from adapteval.models.causal import converted_folder, find_gguf, gguf_fingerprint

        placement = self.placement(spec, where=where)
        if spec.tokenizer is not None:
            raise ConfigError(
                "tokenizer: applies to ONNX models only", where=where, value=spec.tokenizer,
                fix="remove it; causal LM folders and GGUF files carry their own tokenizer",
            )
        entry = lookup(spec.source)
        if entry is not None and entry.locate is not None:
            path = entry.path()
        else:
            path = Path(spec.source).expanduser()
            path = path if path.is_absolute() else base_dir / path
        gguf = find_gguf(path, where=where)
        if gguf is not None:
            fingerprint = gguf_fingerprint(gguf)
            folder = converted_folder(gguf, fingerprint)
        else:
            folder = resolve_model_dir(spec, base_dir, where=where)
            weight_format(folder, spec, where=where)
            fingerprint = folder_fingerprint(folder)
        if spec.random_init:
            fingerprint = content_key({"weights": fingerprint,
                                       "random_init": spec.init_seed})[:20]
        return self.ref(spec, folder, fingerprint, placement=placement)

    def load(self, ref: ModelRef) -> Any:
        from adapteval.models.causal import CausalLM

        return self.loaded(CausalLM, ref)

    def runtime(self, ref: ModelRef, model: Any, fit_texts: list[str] | None) -> Runtime:
        return Runtime(encode_in_one_batch(model), lambda: parameter_counts(model.lm))


class Onnx(ModelKind):
    name = "onnx"
    description = ("ONNX encoder (onnxruntime: CPU, or CUDA with onnxruntime-gpu) with a "
                   "tokenizer; frozen strategies only")

    def placement(self, spec: ModelSpec, *, where: str = "") -> Placement | None:
        """The CPU, or a CUDA device when onnxruntime has its CUDA provider (``auto``
        takes it then); the graph's own precision (``dtype: auto`` or ``float32``)."""
        from adapteval.models.onnx import onnx_placement

        return onnx_placement(spec.device, spec.dtype, where=where)

    def resolve(self, spec: ModelSpec, base_dir: Path, *, where: str) -> ModelRef:
        placement = self.placement(spec, where=where)
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
        return self.ref(spec, model_file, fp, tok, placement=placement)

    def load(self, ref: ModelRef) -> Any:
        from adapteval.models.onnx import ONNXEncoder

        assert ref.folder is not None and ref.tokenizer_folder is not None
        return ONNXEncoder(ref.spec, ref.folder, ref.tokenizer_folder,
                           where=f"model {ref.label!r}", placement=ref.placement)

    def runtime(self, ref: ModelRef, model: Any, fit_texts: list[str] | None) -> Runtime:
        assert ref.folder is not None
        folder = ref.folder
        return Runtime(encode_in_one_batch(model), lambda: initializer_counts(folder))

    def weight_path(self, ref: ModelRef) -> Path | None:
        return ref.folder


class Baseline(ModelKind):
    """A non-pretrained reference model that loads offline from installed packages. It
    computes on the CPU (scikit-learn): ``device`` other than auto/cpu, or any ``dtype``,
    is refused (``--device`` leaves baselines alone)."""

    pretrained = False
    model_class: ClassVar[type]

    def placement(self, spec: ModelSpec, *, where: str = "") -> Placement | None:
        cpu_only(spec.device, spec.dtype, what=f"the {self.name} baseline", where=where)
        return None

    def resolve(self, spec: ModelSpec, base_dir: Path, *, where: str) -> ModelRef:
        placement = self.placement(spec, where=where)
        return self.ref(spec, None, f"{self.name}-baseline-v1", placement=placement)

    def load(self, ref: ModelRef) -> Any:
        return self.model_class()


class Majority(Baseline):
    name = "majority"
    description = "non-pretrained baseline: majority class / mean"
    model_class = MajorityBaseline
    constant = True
    modalities = frozenset(MODALITIES)  # it never reads an item


class Tfidf(Baseline):
    name = "tfidf"
    description = "non-pretrained baseline: TF-IDF word 1-2 grams + linear model"
    model_class = TfidfBaseline
    fits_on_train = True
    modalities = frozenset(TEXT_MODALITIES)

    def runtime(self, ref: ModelRef, model: Any, fit_texts: list[str] | None) -> Runtime:
        vec = model.vectorizer(fit_texts)
        size = len(vec.vocabulary_)  # the idf weights
        return Runtime(vec.transform, lambda: (size, size))

    def threads(self) -> int | None:
        return 1  # TF-IDF transforms run on one thread


class Pixels(Baseline):
    name = "pixels"
    description = "non-pretrained baseline: 16x16 RGB pixels, standardised + linear model"
    model_class = PixelBaseline
    modalities = frozenset({IMAGE})

    def runtime(self, ref: ModelRef, model: Any, fit_texts: list[str] | None) -> Runtime:
        return Runtime(model.transform, lambda: (0, 0))

    def threads(self) -> int | None:
        return 1  # resizing runs on one thread


for _kind in (HuggingFace(), Causal(), Onnx(), Majority(), Tfidf(), Pixels()):
    MODEL_KINDS.register(_kind)


def kind_of(spec: ModelSpec, *, where: str, base_dir: Path | None = None) -> ModelKind:
    """The model kind of ``spec``: ``auto`` takes the catalog's kind for a short name, an
    image kind for a vision folder or EfficientNet-Lite weight file, ``causal`` for a
    decoder, else ``hf``; an unknown name is one ConfigError line listing the valid kinds."""
    name = spec.kind
    if name == "auto":
        entry = lookup(spec.source)
        if entry is not None:
            name = entry.kind
        else:
            name = image_kind_of(spec.source, base_dir) or (
                "causal" if is_causal_path(spec.source, base_dir) else "hf")
    return MODEL_KINDS.get(name, where=f"{where}.kind")


def is_causal_path(source: str, base_dir: Path | None = None) -> bool:
    """A local GGUF file, or a local folder whose config names a causal-LM architecture."""
    path = Path(source).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if path.suffix == ".gguf" or (path.is_dir() and any(path.glob("*.gguf"))):
        return True
    config = path / "config.json"
    if not config.is_file():
        return False
    try:
        import json

        archs = json.loads(config.read_text()).get("architectures") or []
    except (OSError, ValueError, AttributeError):
        return False
    return any(str(a).endswith(("ForCausalLM", "LMHeadModel")) for a in archs)


def resolve_model(spec: ModelSpec, base_dir: Path, *, where: str) -> ModelRef:
    """``spec`` resolved by its model kind (files found, fingerprinted), not loaded."""
    return kind_of(spec, where=where, base_dir=base_dir).resolve(spec, base_dir, where=where)


def load_model(ref: ModelRef) -> Any:
    """The model ``ref`` describes, loaded by its kind."""
    return MODEL_KINDS.get(ref.kind).load(ref)
