"""Acceptance criteria resolved against the plan: where each rule's number comes from.

Each rule (``suite.criteria``, grammar in :mod:`adapteval.suite.rules`) names a number
offered by a metric (``Metric.number``), by a listed analysis (its ``offers``) or by an
aggregate of the primary metric (``AGGREGATES``, ``P_avg``/``worst``). Every offered
number has a range and a direction (:class:`~adapteval.core.plugin.Number`), so an
unknown metric, a metric whose analysis is not listed or a threshold outside the number's
range fails when the plan is built, before any work.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from adapteval.analyses import ANALYSES, Analysis
from adapteval.core.errors import ConfigError
from adapteval.core.plugin import Number
from adapteval.metrics import METRICS, metrics_for
from adapteval.suite.rules import OPS, SCOPES

if TYPE_CHECKING:
    from adapteval.plan.cells import Plan
    from adapteval.suite.specs import CriterionSpec

INF = math.inf
ACROSS_TASKS = ("P_avg", "sigma_P", "worst")  # one number per model x strategy
PER_TASK_AGGREGATES = ("seed_std", "failure_rate")  # per task, no CI
AGGREGATES: dict[str, Number] = {
    "sigma_P": Number(0.0, INF, False, "std over tasks of the primary metric"),
    "seed_std": Number(0.0, INF, False, "std over seeds of a task's primary metric"),
    "failure_rate": Number(0.0, 1.0, False, "share of seeds not better than the majority class"),
}
"""Aggregates with a fixed range; ``P_avg`` and ``worst`` take the primary metrics' range."""


@dataclass(frozen=True)
class Rule:
    """A criterion resolved against the plan: where its number comes from."""

    metric: str
    op: str
    threshold: float
    scope: str  # every_task | mean | worst_task | task:<name> | all (numbers over all tasks)
    statistic: str
    strategy: str | None
    source: str  # metric | analysis | model_analysis | aggregate
    analysis: Analysis | None = None
    qualified: bool = False  # written as ANALYSIS.metric
    number: Number = Number()  # the number's range and direction
    entries: tuple[Analysis, ...] = ()  # every listed entry of that analysis, in suite order

    @property
    def text(self) -> str:
        scope = {"every_task": " on every task", "mean": " on average", "all": "",
                 "worst_task": " on worst task"}.get(self.scope, f" on task {self.scope[5:]}")
        stat = "" if self.statistic == "mean" else f" ({self.statistic})"
        strategy = f" for {self.strategy}" if self.strategy else ""
        metric = f"{self.analysis.name}.{self.metric}" if self.qualified else self.metric
        return f"{metric} {self.op} {self.threshold:g}{scope}{stat}{strategy}"

    @property
    def higher_is_better(self) -> bool:
        """Which side of the number is better (a number with no better side: higher)."""
        return self.number.higher_is_better is not False

    def passes(self, value: float) -> bool:
        return OPS[self.op](value, self.threshold)


def resolve_criteria(plan: Plan) -> list[Rule]:
    """Check every criterion against the plan (metrics, analyses, scopes, thresholds);
    the first problem is a ConfigError naming the rule."""
    return [_resolve(c, plan, where=f"{plan.suite.source}: criteria[{i}]")
            for i, c in enumerate(plan.suite.criteria)]


def _provider(metric: str, plan: Plan, where: str) -> Analysis | None:
    """The listed analysis that offers ``metric``; ``NAME.metric`` picks one analysis
    when several offer the same number (robustness and counterfactual: flip_rate)."""
    name, _, bare = metric.rpartition(".")
    listed = [a for a in plan.analyses if bare in type(a).offers and name in ("", a.name)]
    if len({a.name for a in listed}) > 1:
        options = " or ".join(f"{a.name}.{bare}" for a in listed)
        raise ConfigError(
            f"metric {bare!r} is provided by several listed analyses", where=where,
            fix=f"name the analysis: {options}",
        )
    if listed:
        return listed[0]
    owners = [n for n in ANALYSES.names() if bare in ANALYSES.get(n).offers
              and name in ("", n)]
    if owners:
        raise ConfigError(
            f"metric {bare!r} comes from the {' or '.join(map(repr, owners))} analysis, which "
            "the suite does not list", where=where, fix=f"add {owners[0]} to analyses:",
        )
    return None


def _unknown(metric: str, plan: Plan, where: str) -> ConfigError:
    names = [*METRICS.names(), *ACROSS_TASKS, *PER_TASK_AGGREGATES,
             *(n for a in plan.analyses for n in type(a).offers)]
    close = difflib.get_close_matches(metric, names, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return ConfigError(f"unknown metric {metric!r}", where=where,
                       fix=f"{hint}valid here: {', '.join(dict.fromkeys(names))}")


def _source(spec: CriterionSpec, plan: Plan, where: str
            ) -> tuple[str, str, Analysis | None, Number]:
    """(source, the number's name, its analysis, its Number) of a criterion's metric."""
    metric, suite = spec.metric, plan.suite
    if metric in METRICS:
        if suite.metrics is not None and metric not in suite.metrics:
            raise ConfigError(f"metric {metric!r} is not among the suite's metrics", where=where,
                              fix=f"add {metric} to metrics:")
        if not any(METRICS.get(metric).applies_to(t.type) for t in plan.tasks):
            raise ConfigError(f"metric {metric!r} applies to none of the suite's tasks",
                              where=where, fix="use a metric of the tasks' type")
        return "metric", metric, None, METRICS.get(metric).number
    if metric in ACROSS_TASKS or metric in PER_TASK_AGGREGATES:
        return "aggregate", metric, None, AGGREGATES.get(metric) or _primary_number(plan)
    analysis = _provider(metric, plan, where)
    if analysis is None:
        raise _unknown(metric, plan, where)
    source = "model_analysis" if analysis.scope == "model" else "analysis"
    name = metric.rpartition(".")[2]  # the number's name inside the analysis' result
    return source, name, analysis, type(analysis).offers[name]


def _resolve(spec: CriterionSpec, plan: Plan, *, where: str) -> Rule:
    suite = plan.suite
    task_names = [t.name for t in plan.tasks]
    source, metric, analysis, number = _source(spec, plan, where)
    # an analysis listed several times (text and image robustness) measures with each
    entries = tuple(a for a in plan.analyses if analysis is not None and a.name == analysis.name)
    across = metric in ACROSS_TASKS or source == "model_analysis"
    scope = spec.scope
    if across and scope not in (None, "all"):
        raise ConfigError(f"{metric} is one number per model and strategy; it has no scope",
                          where=f"{where}.scope", value=scope, fix="remove the scope")
    scope = "all" if across else (scope or "every_task")
    if scope != "all" and scope not in SCOPES and not scope.startswith("task:"):
        raise ConfigError("unknown scope", where=f"{where}.scope", value=scope,
                          fix="use every_task, mean, worst_task or task:<name>")
    if scope.startswith("task:"):
        name = scope[5:]
        if name not in task_names:
            raise ConfigError(f"unknown task {name!r}", where=f"{where}.scope",
                              fix=f"use one of: {', '.join(task_names)}")
        if source == "metric" and not METRICS.get(metric).applies_to(plan.task(name).type):
            raise ConfigError(f"metric {metric!r} does not apply to {plan.task(name).type} "
                              f"task {name!r}", where=where, fix="pick a metric of its type")
        if analysis is not None and all(a.tasks is not None and name not in a.tasks
                                        for a in entries):
            raise ConfigError(f"analysis {analysis.name!r} does not run on task {name!r}",
                              where=where, fix=f"add {name} to the analysis' tasks")
    strategies = [s.name for s in plan.strategies]
    if spec.strategy is not None:
        if spec.strategy not in strategies:
            raise ConfigError(f"unknown strategy {spec.strategy!r}", where=f"{where}.strategy",
                              fix=f"use one of: {', '.join(strategies)}")
        if analysis is not None and all(a.strategies is not None
                                        and spec.strategy not in a.strategies for a in entries):
            raise ConfigError(f"analysis {analysis.name!r} does not run on {spec.strategy!r}",
                              where=where, fix=f"add {spec.strategy} to the analysis' strategies")
    if metric in PER_TASK_AGGREGATES and spec.statistic != "mean":
        raise ConfigError(f"{metric} has no confidence interval", where=f"{where}.statistic",
                          value=spec.statistic, fix="use statistic mean")
    if metric == "seed_std" and len(suite.seeds) < 2:
        raise ConfigError("seed_std needs at least two seeds", where=where,
                          value=suite.seeds, fix="list 2 or more seeds")
    if metric == "sigma_P" and len(plan.tasks) < 2:
        raise ConfigError("sigma_P (the spread over tasks) needs at least two tasks", where=where,
                          value=[t.name for t in plan.tasks], fix="add a task, or drop the rule")
    if metric == "failure_rate" and "majority" not in {m.kind for m in plan.models}:
        raise ConfigError("failure_rate compares with the majority baseline, which the suite "
                          "does not run", where=where, fix="add majority to baselines:")
    if not number.contains(spec.threshold):
        raise ConfigError(
            f"threshold outside the range of {metric} [{number.low:g}, {number.high:g}]: the "
            "rule can never or always pass", where=f"{where}.threshold", value=spec.threshold,
            fix="use a threshold inside the range (fractions, not percents: 0.85 or 85%)",
        )
    return Rule(metric, spec.op, spec.threshold, scope, spec.statistic, spec.strategy, source,
                analysis, qualified="." in spec.metric, number=number, entries=entries)


def _primary_number(plan: Plan) -> Number:
    """Range of P_avg / worst: the union of the tasks' primary metrics' ranges."""
    numbers = [metrics_for(t.type, plan.suite.metrics)[0].number for t in plan.tasks]
    return Number(min(n.low for n in numbers), max(n.high for n in numbers))
