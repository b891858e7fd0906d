"""What a plan holds: keyed cells (model × task × strategy × seed), their analysis jobs
and the resolved acceptance rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from adapteval._version import __version__
from adapteval.analyses import Analysis
from adapteval.core.keys import content_key
from adapteval.data.task import Task
from adapteval.models.kinds import MODEL_KINDS
from adapteval.models.ref import ModelRef
from adapteval.strategies import Strategy
from adapteval.strategies.curve import CurvePoint
from adapteval.suite.schema import Suite

if TYPE_CHECKING:
    from adapteval.plan.criteria import Rule


@dataclass(frozen=True)
class Cell:
    key: str
    model: ModelRef
    task: Task
    strategy: Strategy
    seed: int

    @property
    def label(self) -> str:
        point = ""
        if isinstance(self.strategy, CurvePoint):
            point = f" · size {self.strategy.size}" + (
                f" draw {self.strategy.draw}" if self.strategy.own is None else "")
        return (f"{self.model.label} · {self.task.name} · {self.strategy.name}{point} · "
                f"seed {self.seed}")


@dataclass(frozen=True)
class Job:
    """One analysis of one cell, with its storage key."""

    key: str
    analysis: Analysis
    cell: Cell


@dataclass
class Plan:
    suite: Suite
    models: list[ModelRef]
    tasks: list[Task]
    strategies: list[Strategy]
    cells: list[Cell]
    skipped: list[str] = field(default_factory=list)
    analyses: list[Analysis] = field(default_factory=list)
    criteria: list[Rule] = field(default_factory=list)  # resolved acceptance rules
    warnings: list[str] = field(default_factory=list)  # what may mislead, found before work

    def task(self, name: str) -> Task:
        return next(t for t in self.tasks if t.name == name)

    def model_tasks(self, model: ModelRef) -> list[Task]:
        """The tasks ``model`` is evaluated on: those its ``tasks:`` names (else all) whose
        items its kind accepts (a text encoder skips the image tasks of a mixed suite)."""
        accepted = MODEL_KINDS.get(model.kind).modalities
        return [t for t in self.tasks if (model.spec.tasks is None or t.name in model.spec.tasks)
                and t.modality in accepted]

    def shortlist_groups(self) -> list[list[str]]:
        """The groups of models ``shortlist`` chooses among, each ranked on its own: the
        pretrained models without a ``tasks:`` of their own, grouped by the tasks they run
        on (text encoders on the text tasks, image models on the image tasks). A model
        limited to some tasks is in none: a mean rank over other tasks than the rest's
        does not compare, so it keeps every strategy the suite gives it."""
        groups: dict[tuple[str, ...], list[str]] = {}
        for m in self.models:
            if m.pretrained and m.spec.tasks is None:
                tasks = tuple(t.name for t in self.model_tasks(m))
                groups.setdefault(tasks, []).append(m.label)
        return list(groups.values())

    def shortlist_candidates(self) -> list[str]:
        """Every model of :meth:`shortlist_groups`."""
        return [label for group in self.shortlist_groups() for label in group]

    def jobs(self) -> dict[str, list[Job]]:
        """cell key -> the analyses to run on it. Model-scope analyses go to the first
        cell of their model they apply to (in plan order), once per model; their key
        holds that cell's task data and seed, since what they measure (e.g. latency)
        depends on the texts they run on."""
        out: dict[str, list[Job]] = {}
        placed: set[tuple[str, int]] = set()
        for cell in self.cells:
            if isinstance(cell.strategy, CurvePoint):
                continue  # analyses run on a strategy's plain cells, not its curve points
            for i, analysis in enumerate(self.analyses):
                if not analysis.selected(cell):
                    continue
                if analysis.scope == "model":
                    if (cell.model.key, i) in placed:
                        continue
                    placed.add((cell.model.key, i))
                    key = content_key({"model": cell.model.key, "analysis": analysis.config(),
                                       "version": __version__, "texts": cell.task.fingerprint,
                                       "seed": cell.seed})
                else:
                    key = content_key({"cell": cell.key, "analysis": analysis.config()})
                out.setdefault(cell.key, []).append(Job(key, analysis, cell))
        return out


def cell_key(model: ModelRef, task: Task, strategy: Strategy, seed: int) -> str:
    """The storage key of a cell: everything that changes its numbers."""
    return content_key({"model": model.key, "task": task.fingerprint,
                        "strategy": strategy.config(), "seed": seed, "version": __version__})
