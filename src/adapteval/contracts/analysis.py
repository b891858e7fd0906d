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
from pydantic import ValidationError

from adapteval.contracts.strategy import Params, Predictions, Predictor
from adapteval.core.errors import ConfigError
from adapteval.core.registry import Registry
from adapteval.data.task import Split

if TYPE_CHECKING:
    import pandas as pd

    from adapteval.plan import Cell, Plan
    from adapteval.suite.schema import AnalysisSpec


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


class Analysis:
    """Base class: subclasses set ``name``, ``description``, ``Params`` and ``run``."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    Params: ClassVar[type[Params]] = Params
    scope: ClassVar[Literal["cell", "model"]] = "cell"
    needs_predictor: ClassVar[bool] = True
    # names of the per-cell numbers ``scalars`` returns (acceptance criteria may name them)
    provides: ClassVar[tuple[str, ...]] = ()
    # True when lower is better for the provided numbers (for tables/plots; criteria say >= or <=)
    lower_is_better: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self, params: Params, *, strategies: list[str] | None = None,
        tasks: list[str] | None = None, models: list[str] | None = None,
    ) -> None:
        self.params = params
        self.strategies = strategies
        self.tasks = tasks
        self.models = models

    @classmethod
    def from_spec(cls, spec: AnalysisSpec, *, where: str) -> Analysis:
        try:
            params = cls.Params.model_validate(spec.params)
        except ValidationError as err:
            e = err.errors(include_url=False)[0]
            key = ".".join(map(str, e["loc"]))
            if e["type"] == "extra_forbidden":
                raise ConfigError(
                    f"unknown parameter {key!r} of analysis {cls.name!r}", where=where,
                    fix=f"valid parameters: {', '.join(['strategies', 'tasks', 'models', *cls.Params.model_fields])}",
                ) from None
            raise ConfigError(
                f"{key}: {e['msg'][0].lower()}{e['msg'][1:]}", where=where, value=e.get("input")
            ) from None
        return cls(params, strategies=spec.strategies, tasks=spec.tasks, models=spec.models)

    def config(self) -> dict[str, Any]:
        """Identity of the analysis: it keys the stored result (with the cell's key)."""
        return {"name": self.name, **self.params.model_dump(mode="json")}

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
        return self.applies(cell) is None

    def run(self, ctx: AnalysisContext) -> dict[str, Any]:  # pragma: no cover - abstract
        """The result: a JSON-serialisable mapping (numbers, lists, strings)."""
        raise NotImplementedError

    @classmethod
    def scalars(cls, result: dict[str, Any]) -> dict[str, float | None]:
        """The headline numbers of one stored result, named as in ``provides``.
        Default: the top-level numbers of the result whose names are in ``provides``."""
        return {k: result.get(k) for k in cls.provides if isinstance(result.get(k), int | float)}

    @classmethod
    def table(cls, rows: list[AnalysisRow]) -> pd.DataFrame:
        """One line per stored result: labels plus ``scalars`` (reports and CLI use it)."""
        import pandas as pd

        return pd.DataFrame([
            {"model": r.model, "task": r.task, "strategy": r.strategy, "seed": r.seed,
             **cls.scalars(r.result)}
            for r in rows
        ])


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


#END
