"""Every registered plugin, by kind: the built-ins and those installed packages add
through entry points."""

from __future__ import annotations

from typing import Any

import adapteval.analyses  # noqa: F401  (registers the built-in analyses)
import adapteval.presentation  # noqa: F401  (registers the built-in report sections)
import adapteval.strategies  # noqa: F401  (registers the built-in strategies)
from adapteval.contracts.analysis import ANALYSES, Analysis
from adapteval.contracts.report_section import SECTIONS, ReportSection
from adapteval.contracts.strategy import STRATEGIES, Strategy
from adapteval.core.registry import Registry
from adapteval.data.readers import READERS, TaskReader
from adapteval.metrics import METRICS, Metric
from adapteval.models.kinds import MODEL_KINDS, ModelKind
from adapteval.perturbations.images import CORRUPTIONS, Corruption
from adapteval.perturbations.registry import PERTURBATIONS, Perturbation
from adapteval.transferability import ESTIMATORS, Estimator

REGISTRIES: dict[str, Registry[Any]] = {
    "strategy": STRATEGIES,
    "analysis": ANALYSES,
    "model_kind": MODEL_KINDS,
    "reader": READERS,
    "metric": METRICS,
    "perturbation": PERTURBATIONS,
    "corruption": CORRUPTIONS,
    "estimator": ESTIMATORS,
    "section": SECTIONS,
}
"""Plugin kinds (the ids of :func:`adapteval.testing.plugin_checks`) and their registries."""

BASES: dict[str, type] = {
    "strategy": Strategy, "analysis": Analysis, "model_kind": ModelKind, "reader": TaskReader,
    "metric": Metric, "perturbation": Perturbation, "corruption": Corruption,
    "estimator": Estimator,
    "section": ReportSection,
}


def registered(kinds: tuple[str, ...] | None = None) -> list[tuple[str, str, Any]]:
    """(kind, registry key, plugin) for every registered plugin of ``kinds`` (all)."""
    out = []
    for kind in kinds or tuple(REGISTRIES):
        registry = REGISTRIES[kind]
        out.extend((kind, name, registry.get(name)) for name in registry.names())
    return out


def kind_of(plugin: Any) -> str:
    """The kind of a plugin class or instance (by its base class)."""
    for kind, base in BASES.items():
        if isinstance(plugin, base) or (isinstance(plugin, type) and issubclass(plugin, base)):
            return kind
    raise TypeError(f"{plugin!r} is not a plugin of a known kind ({', '.join(BASES)})")
