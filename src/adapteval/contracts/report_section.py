"""The report-section plugin kind: Results-level sections registered by name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from adapteval.contracts.section import Section
from adapteval.core.plugin import Plugin
from adapteval.core.registry import Registry

if TYPE_CHECKING:
    from adapteval.results import Results


class ReportSection(Plugin):
    """A Results-level section plugin (scores, flexibility, the verdict, ...): ``build``
    returns its :class:`Section` for a result set, or None when it has nothing to show.
    ``data`` holds the result set's records (``presentation.records.result_data``);
    ``strict`` asks a section whose numbers cannot be computed to raise instead of
    leaving itself out. ``order`` places it among the result sections (lower first).
    Each analysis provides its own sections instead (``Analysis.sections``)."""

    kind: ClassVar[str] = "report section"
    order: ClassVar[int] = 100

    def build(self, results: Results, data: dict[str, Any], *,
              strict: bool = False) -> Section | None:
        raise NotImplementedError  # pragma: no cover - abstract


SECTIONS: Registry[ReportSection] = Registry("sections", "report section")
"""Report sections of a result set; entry-point group ``adapteval.sections``."""
