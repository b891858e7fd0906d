"""What every analysis shares: its registry, its context and its stored result.

An analysis looks at an adapted model beyond its clean test score: robustness to
perturbed text, calibration, fairness, token attributions, transfer to other domains,
compression, cost. It runs after the cell it belongs to (same process, same fitted
predictor) and its result is one JSON document stored under a content key of (cell
key, analysis config), so analyses are resumable and cached exactly like cells.
Adding an analysis to a suite later runs only the analysis: the cell's adaptation is
repeated in memory (same seed, same numbers) to rebuild its predictor, but the stored
cell is not touched.

``scope = "model"`` analyses (cost) describe the model, not the adaptation: they run once
per model, on the first cell of that model they apply to, and are stored under the model,
the analysis settings and that cell's data and seed (latency depends on the texts), so a
suite whose model first meets the same data reads them back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from adapteval.contracts import digest as dg
from adapteval.contracts import section
from adapteval.contracts.strategy import Predictions, Predictor
from adapteval.core.plugin import Params, Plugin, parse_params
from adapteval.core.registry import Registry
from adapteval.data.task import Split

if TYPE_CHECKING:
    import pandas as pd

    from adapteval.plan import Cell, Plan
    from adapteval.suite.specs import AnalysisSpec


@dataclass
class AnalysisContext:
    """Everything an analysis of one cell can use."""

    cell: Cell
    split: Split
    predictions: Predictions  # the cell's stored test predictions
    predictor: Predictor | None  # None when the analysis declares needs_predictor = False
    model: Any = None  # the loaded model (encoder or baseline) the cell adapted
    embed: Callable[[list[str]], np.ndarray] | None = None
    plan: Plan | None = None
    progress: Callable[[str, int, int], None] | None = None
    cell_info: dict[str, Any] = field(default_factory=dict)

    def step(self, label: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(label, done, total)


CLASSIFICATION = frozenset({"binary", "multiclass"})
"""``task_types`` of analyses that need class predictions."""
SELECTORS = ("strategies", "tasks", "models", "seeds")
"""Keys of an analysis entry that choose its cells; the rest are its parameters."""


class Analysis(Plugin):
    """Base class: subclasses set ``name``, ``description``, ``Params``, ``offers`` (the
    numbers ``scalars`` returns, which acceptance criteria may name) and ``run``.
    ``config()`` (name and parameters) keys the stored result, with the cell's key."""

    kind = "analysis"
    scope: ClassVar[Literal["cell", "model"]] = "cell"
    needs_predictor: ClassVar[bool] = True

    def __init__(
        self, params: Params | None = None, *, strategies: list[str] | None = None,
        tasks: list[str] | None = None, models: list[str] | None = None,
        seeds: list[int] | None = None,
    ) -> None:
        super().__init__(params)
        self.strategies = strategies
        self.tasks = tasks
        self.models = models
        self.seeds = seeds

    @classmethod
    def from_spec(cls, spec: AnalysisSpec, *, where: str) -> Analysis:
        """The analysis of a suite entry; a bad parameter is a one-line ConfigError."""
        params = parse_params(cls.Params, spec.params, owner=f"{cls.kind} {cls.name!r}",
                              where=where, extra_keys=SELECTORS)
        return cls(params, strategies=spec.strategies, tasks=spec.tasks, models=spec.models,
                   seeds=spec.seeds)

    def check(self, plan: Plan, *, where: str) -> None:
        """Validate against the whole plan before any work (files exist, columns, ...)."""

    def applies(self, cell: Cell) -> str | None:
        """None when the analysis runs on ``cell``; else the reason it does not."""
        return None

    def selected(self, cell: Cell) -> bool:
        if self.strategies is not None and cell.strategy.name not in self.strategies:
            return False
        if self.tasks is not None and cell.task.name not in self.tasks:
            return False
        if self.models is not None and cell.model.label not in self.models:
            return False
        if self.seeds is not None and cell.seed not in self.seeds:
            return False
        if cell.task.modality not in type(self).modalities:
            return False  # the plan said so: it skips tasks of another modality
        return self.applies(cell) is None

    def run(self, ctx: AnalysisContext) -> dict[str, Any]:  # pragma: no cover - abstract
        """The result: a JSON-serialisable mapping (numbers, lists, strings)."""
        raise NotImplementedError

    @classmethod
    def scalars(cls, result: dict[str, Any]) -> dict[str, float | None]:
        """The headline numbers of one stored result, named as in ``offers``.
        Default: the top-level numbers of the result whose names are in ``offers``."""
        return {k: result.get(k) for k in cls.offers if isinstance(result.get(k), int | float)}

    @classmethod
    def table(cls, rows: list[AnalysisRow]) -> pd.DataFrame:
        """One line per stored result: labels plus ``scalars`` (reports and CLI use it)."""
        import pandas as pd

        return pd.DataFrame([
            {"model": r.model, "task": r.task, "strategy": r.strategy, "seed": r.seed,
             **cls.scalars(r.result)}
            for r in rows
        ])

    @classmethod
    def sections(cls, rows: list[AnalysisRow], results: Any = None) -> list[section.Section]:
        """What every view shows of this analysis (terminal tables, report tables, plots,
        examples and the numbers of the JSON export; ``results``, the whole result set,
        is there for analyses that need more). Default: one section with a table of its
        ``scalars`` per model, strategy and task, mean over seeds, placed under "other"
        in the written reports with the seed counts and its stored examples."""
        data = dg.other(rows, cls.scalars if cls.offers else dg.top_level_numbers)
        if data is None:
            return []
        return [generic_section(cls.name, cls.description, data, cls.numbers(rows))]

    @classmethod
    def section(cls, rows: list[AnalysisRow], data: dict[str, Any], *, title: str, part: str,
                report_tables: list[section.SectionTable], intro: str = "",
                plots: list[section.PlotSpec] | None = None,
                examples: section.SectionTable | None = None,
                notes: list[str] | None = None) -> section.Section:
        """This analysis' section: the terminal's ``numbers`` table and the given parts."""
        return section.Section(cls.name, title=title, intro=intro, tables=cls.numbers(rows),
                               plots=plots or [], notes=notes or [],
                               report_tables=report_tables, examples=examples, part=part,
                               data=data)

    @classmethod
    def numbers(cls, rows: list[AnalysisRow]) -> list[section.SectionTable]:
        """The terminal's table of this analysis' ``scalars`` per model, strategy and
        task, mean over seeds (none when there are no numbers)."""
        frame = cls.table(rows)
        numbers = [c for c in frame.columns
                   if c not in ("model", "task", "strategy", "seed") and frame[c].dtype.kind in "fiu"]
        if frame.empty or not numbers:
            return []
        keys = [c for c in ("model", "strategy", "task") if c in frame]
        mean = frame.groupby(keys, sort=False)[numbers].mean().reset_index()
        table = section.SectionTable(section.columns(*keys, *numbers, left=keys),
                                     caption=f"{cls.name}: {cls.description} (mean over seeds)")
        for r in mean.itertuples(index=False):
            table.add(*[str(v) for v in r[: len(keys)]],
                      *[section.Cell.of(v) for v in r[len(keys):]])
        return [table]


def generic_section(name: str, intro: str, data: dict[str, Any],
                    tables: list[section.SectionTable] | None = None) -> section.Section:
    """The section of an analysis without its own (``digest.other`` data): its numbers per
    model, strategy and task with the seed counts, and its examples."""
    shown = dg.table(data["summary"], ["model", "strategy", "task", "n_seeds", *data["fields"]])
    return section.Section(name, title=name, intro=intro, tables=tables or [],
                           report_tables=[shown], examples=dg.examples_table(data["examples"]),
                           part="other", data=data)


ANALYSES: Registry[type[Analysis]] = Registry("analyses", "analysis")


@dataclass(frozen=True)
class AnalysisRow:
    """One stored analysis result."""

    key: str
    cell_key: str
    name: str
    model: str
    task: str
    strategy: str
    seed: int
    config: dict[str, Any]
    result: dict[str, Any]
    version: str
    created_at: float
    duration_s: float
