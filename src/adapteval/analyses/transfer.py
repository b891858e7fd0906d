"""Domain transfer: how well a model adapted on one domain does on the others.

Two layouts of the data are supported:

* ``tasks``: separate tasks with the same label set (e.g. Amazon, IMDb and Yelp reviews).
  The cell adapted on task i applies its own predictor to the test split (same seed) of
  every task j of its group. The diagonal is the cell's stored test result, so a transfer
  matrix never disagrees with the score table.
* ``domains``: one task with a ``domain`` column. The cell's strategy is re-run on the
  train items of each domain in turn (same seed, same parameters) and each refit is
  scored on the test items of every domain.

Each target keeps its per-item correctness (mean over k-shot draws), so
``Results.transfer_matrix()`` can bootstrap the matrix, the in- and out-of-domain means
and the gap with the same resamples as every other score.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from pydantic import Field

from adapteval.contracts import digest as dg
from adapteval.contracts.analysis import (
    ANALYSES,
    CLASSIFICATION,
    Analysis,
    AnalysisContext,
    AnalysisRow,
)
from adapteval.contracts.section import Cell as Shown
from adapteval.contracts.section import PlotSpec, Section, SectionTable, columns
from adapteval.contracts.strategy import CellContext, Predictor
from adapteval.core.errors import ConfigError
from adapteval.core.plugin import UNIT, Number, Params
from adapteval.data.task import Split, Task, View
from adapteval.strategies.probe import head_proba


class TransferParams(Params):
    mode: Literal["auto", "tasks", "domains"] = Field(
        default="auto",
        description="auto: domains when the task has a domain column with 2+ values, else tasks",
    )
    group: list[str] | None = Field(
        default=None, description="tasks mode: the tasks to transfer between; default: every "
        "task of the suite with the same classes",
    )


def domain_values(task: Task) -> list[str]:
    """The distinct domains of a task (empty when it has no domain column)."""
    if "domain" not in task.frame:
        return []
    return sorted(set(task.frame["domain"].astype(str)))


def item_correct(predictor: Predictor, view: View) -> np.ndarray:
    """Per-item correctness of a predictor on a view. A frozen predictor with several heads
    (k-shot draws) is scored head by head and averaged, as its stored results are."""
    heads = getattr(predictor, "heads", None)
    if predictor.kind == "frozen" and heads is not None and len(heads) > 1:
        k = len(predictor.task.classes or ())
        return np.mean([
            head_proba(h, predictor.features(view.items, view.pairs, head=i), k).argmax(1) == view.y
            for i, h in enumerate(heads)
        ], axis=0)
    return (predictor.predict(view.items, view.pairs) == view.y).astype(np.float64)


def _target(task: str, domain: str | None, source_domain: str | None, correct: np.ndarray,
            in_domain: bool, **extra: Any) -> dict[str, Any]:
    return {"task": task, "domain": domain, "source_domain": source_domain,
            "accuracy": float(correct.mean()) if len(correct) else None,
            "in_domain": in_domain, "n": len(correct),
            "correct": correct.tolist(), **extra}


@ANALYSES.register
class Transfer(Analysis):
    name = "transfer"
    description = "accuracy of a model adapted on one domain, on every other domain"
    Params = TransferParams
    task_types = CLASSIFICATION
    offers = {"in_domain_accuracy": UNIT, "out_of_domain_accuracy": UNIT,
              "transfer_gap": Number(-1.0, 1.0, higher_is_better=False)}

    def __init__(self, params: TransferParams | None = None, **kw: Any) -> None:
        super().__init__(params, **kw)
        self.groups: dict[str, list[str]] = {}  # task -> its transfer group (tasks mode)
        self.modes: dict[str, str] = {}  # task -> "tasks" | "domains"
        self.fingerprints: dict[str, str] = {}

    def config(self) -> dict[str, Any]:
        """The resolved groups (with their data fingerprints) are part of the identity: a
        task added to the suite, or changed data, makes the transfer run again."""
        out = super().config()
        out["resolved"] = {t: [[g, self.fingerprints.get(g, "")] for g in self.groups.get(t, [])]
                           for t in sorted(self.modes)}
        return out

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None = None, *,
                    where: str | None = None) -> Transfer:
        """Rebuilt from ``config()``: the parameters, and the groups it had resolved (an
        empty group: domains mode)."""
        params = dict(params or {})
        resolved = params.pop("resolved", None) or {}
        out: Transfer = super().from_params(params, where=where)  # type: ignore[assignment]
        for task, group in resolved.items():
            out.modes[task] = "tasks" if group else "domains"
            if group:
                out.groups[task] = [g for g, _ in group]
                out.fingerprints.update({g: fp for g, fp in group})
        return out

    def check(self, plan, *, where: str) -> None:
        p = self.params
        tasks = {t.name: t for t in plan.tasks}
        self.fingerprints = {n: t.fingerprint for n, t in tasks.items()}
        chosen = [t for n, t in tasks.items() if self.tasks is None or n in self.tasks]
        if p.group is not None:
            self._check_group(p.group, tasks, where)
        for task in chosen:
            if task.is_regression:
                continue
            multi = len(domain_values(task)) >= 2
            if p.mode == "domains" or (p.mode == "auto" and multi and p.group is None):
                if not multi:
                    raise ConfigError(
                        f"transfer mode 'domains' needs a domain column with 2 or more values "
                        f"in task {task.name!r}", where=where,
                        value=domain_values(task) or None, fix="set domain: on the task, or "
                        "use mode: tasks",
                    )
                self.modes[task.name] = "domains"
                continue
            group = p.group or [n for n, t in tasks.items()
                                if not t.is_regression and t.classes == task.classes]
            if task.name in group and len(group) >= 2:
                self.modes[task.name] = "tasks"
                self.groups[task.name] = list(group)
        if not self.modes:
            raise ConfigError(
                "transfer applies to no task of the suite", where=where,
                fix="list two or more classification tasks with the same labels, or give a "
                "task a domain column with 2 or more domains",
            )

    @staticmethod
    def _check_group(group: list[str], tasks: dict[str, Task], where: str) -> None:
        for name in group:
            if name not in tasks:
                raise ConfigError(f"group names unknown task {name!r}", where=f"{where}.group",
                                  fix=f"use tasks of the suite: {', '.join(tasks)}")
        if len(set(group)) < 2:
            raise ConfigError("group needs two or more distinct tasks", where=f"{where}.group",
                              value=group)
        first = tasks[group[0]]
        for name in group[1:]:
            t = tasks[name]
            if t.is_regression or first.is_regression or t.classes != first.classes:
                raise ConfigError(
                    f"group tasks have different labels: {first.name!r} has "
                    f"{list(first.classes or [])}, {name!r} has {list(t.classes or [])}",
                    where=f"{where}.group", fix="group only tasks with the same label set",
                )

    def applies(self, cell) -> str | None:
        if cell.task.is_regression:
            return "transfer needs a classification task"
        if cell.task.name not in self.modes:
            return "no other task with the same labels and no domain column"
        return None

    def run(self, ctx: AnalysisContext) -> dict[str, Any]:
        mode = self.modes[ctx.cell.task.name]
        targets = self._domains(ctx) if mode == "domains" else self._tasks(ctx)
        return {"source": ctx.cell.task.name, "mode": mode,
                "group": self.groups.get(ctx.cell.task.name), "targets": targets}

    def _tasks(self, ctx: AnalysisContext) -> list[dict[str, Any]]:
        assert ctx.plan is not None and ctx.predictor is not None
        cell, out = ctx.cell, []
        group = self.groups[cell.task.name]
        for i, name in enumerate(group):
            ctx.step("transfer", i, len(group))
            if name == cell.task.name:
                p = ctx.predictions
                stored = (p.y_pred == p.y_true[None]).mean(0)
                again = item_correct(ctx.predictor, ctx.split.test)
                out.append(_target(name, None, None, stored, True,
                                   recomputed_accuracy=float(again.mean())))
            else:
                test = ctx.plan.task(name).split(cell.seed).test
                out.append(_target(name, None, None, item_correct(ctx.predictor, test), False))
        return out

    def _domains(self, ctx: AnalysisContext) -> list[dict[str, Any]]:
        """One refit per source domain, each scored on the whole test split at once."""
        cell, split = ctx.cell, ctx.split
        train, test = split.train, split.test
        assert train.domains is not None and test.domains is not None
        out: list[dict[str, Any]] = []
        sources = sorted(set(train.domains.astype(str)))
        for i, source in enumerate(sources):
            ctx.step(f"transfer: adapting on {source}", i, len(sources))
            sub = _restrict(split, source)
            if len(set(sub.train.y.tolist())) < 2:
                continue  # one class only: nothing to learn from this domain
            fitted = cell.strategy.fit(CellContext(
                cell.task, sub, ctx.model, cell.seed, ctx.embed, ctx.progress,
            ))
            p = fitted.predictions
            correct = (p.y_pred == p.y_true[None]).mean(0)
            for target in sorted(set(test.domains.astype(str))):
                mask = test.domains.astype(str) == target
                out.append(_target(cell.task.name, target, source, correct[mask],
                                   source == target, n_train=len(sub.train)))
        return out

    @classmethod
    def scalars(cls, result: dict[str, Any]) -> dict[str, float | None]:
        """Per stored result: mean accuracy on and off the diagonal, and their difference."""
        ins = [t["accuracy"] for t in result["targets"] if t["in_domain"] and t["accuracy"] is not None]
        outs = [t["accuracy"] for t in result["targets"]
                if not t["in_domain"] and t["accuracy"] is not None]
        i = float(np.mean(ins)) if ins else None
        o = float(np.mean(outs)) if outs else None
        return {"in_domain_accuracy": i, "out_of_domain_accuracy": o,
                "transfer_gap": i - o if i is not None and o is not None else None}

    @classmethod
    def sections(cls, rows: list[AnalysisRow], results: Any = None) -> list[Section]:
        """One table per transfer scope (task group or domain task): for each model and
        strategy its matrix (``results.transfer_matrix()``), with the in/out-of-domain
        means, the gap and the worst pair."""
        by_scope: dict[str, list[Any]] = {}
        for m in results.transfer_matrix() if results is not None else []:
            by_scope.setdefault(m.scope, []).append(m)
        out = []
        for scope, matrices in by_scope.items():
            labels = list(dict.fromkeys(lab for m in matrices for lab in m.labels))
            table = SectionTable(
                columns("model", "strategy", "adapted on", *labels, "in / out", "gap [CI]",
                        "worst pair", left=("model", "strategy", "adapted on", "worst pair")),
                caption=f"Domain transfer ({scope}): accuracy adapted on the row, evaluated "
                "on the column; mean over seeds, gap = in-domain − out-of-domain with its CI")
            for i, m in enumerate(matrices):
                for j, source in enumerate(m.labels):
                    extra: list[Any] = ["", "", ""]
                    if j == 0:
                        extra = [Shown((m.in_domain.value, m.out_domain.value), "pair"),
                                 Shown(m.gap.value, "number", "+.3f",
                                       ci=(m.gap.ci_low, m.gap.ci_high)),
                                 Shown(m.worst[2], "number", label=f"{m.worst[0]} → {m.worst[1]}")]
                    table.add(m.model if j == 0 else "", m.strategy if j == 0 else "", source,
                              *[Shown.na() if (c := m.cells.get((source, t))) is None
                                else Shown(c.value, "number", strong=t == source)
                                for t in labels], *extra, new_group=bool(i) and j == 0)
            out.append(Section(f"transfer:{scope}", title=f"Domain transfer ({scope})",
                               tables=[table], report_tables=[]))
        data = digest(rows)
        if data is not None:  # the written reports: a heatmap per model and strategy
            out.append(Section(
                cls.name, title="Domain transfer", part="flexibility", report_tables=[],
                intro="Accuracy of a model adapted on one task (row) on every target "
                "(column), mean over seeds; in-domain cells in bold.", data=data,
                plots=[PlotSpec("transfer-heatmap", f"{m['model']} · {m['strategy']}", m)
                       for m in data["matrices"]]))
        return out


def digest(rows: dg.Rows) -> dict[str, Any] | None:
    """Per model and strategy, the source x target accuracy matrix (mean over seeds)."""
    matrices = []
    for (model, strategy), rs in dg.grouped(rows, ("model", "strategy")).items():
        cells: dict[tuple[str, str], list[float]] = {}
        in_domain: set[tuple[str, str]] = set()
        for r in rs:
            source = str(r.result.get("source") or r.task)
            for t in r.result.get("targets") or []:
                key = (source, target_label(t))
                cells.setdefault(key, []).append(t.get("accuracy"))
                if t.get("in_domain"):
                    in_domain.add(key)
        if not cells:
            continue
        sources = list(dict.fromkeys(s for s, _ in cells))
        targets = list(dict.fromkeys(t for _, t in cells))
        values = [[dg.mean(cells.get((s, t), [])) for t in targets] for s in sources]
        matrices.append({
            "model": model, "strategy": strategy, "sources": sources, "targets": targets,
            "values": values,
            "in_domain": [[(s, t) in in_domain for t in targets] for s in sources],
        })
    return {"matrices": matrices} if matrices else None


def _restrict(split: Split, domain: str) -> Split:
    """The split with train (and a given validation split) cut to one domain; test whole."""
    def cut(view: View) -> View:
        assert view.domains is not None
        return view.take(np.flatnonzero(view.domains.astype(str) == domain))

    val = split.validation
    return Split(cut(split.train), split.test,
                 cut(val) if val is not None and val.domains is not None else val)


def target_label(t: dict[str, Any]) -> str:
    task, domain = str(t.get("task", "")), t.get("domain")
    return f"{task}:{domain}" if domain not in (None, "", task) else task
