"""Acceptance criteria and the verdict: is a model acceptable to ship?

A suite lists rules under ``criteria:``, either compact strings::

    criteria:
      - accuracy >= 0.85 on every task (ci_low)
      - flip_rate <= 10%
      - ece <= 0.05 on worst task
      - sigma_P <= 0.05
      - {metric: macro_f1, op: ">=", threshold: 0.8, scope: "task:sms-spam", strategy: probe}

or mappings with ``metric``, ``op`` (>=, <=, >, <, ==), ``threshold``, ``scope``
(``every_task`` | ``mean`` | ``worst_task`` | ``task:<name>``), ``statistic`` (``mean`` |
``ci_low`` | ``ci_high``) and an optional ``strategy``. Rules are resolved against the
plan before any work, so an unknown metric, a metric whose analysis is not listed or a
threshold outside the metric's range fails at once.

Where the numbers come from, per model × strategy:

- **cell metrics** (accuracy, macro_f1, ...): the mean over seeds; the CI is the
  percentile bootstrap CI over test items of that mean (replicates averaged over seeds,
  as ``Results.summary``). ``mean`` over tasks averages the replicates too (as P_avg).
- **analysis numbers** (any ``provides`` name of a listed analysis): the mean over
  seeds; the CI is the analysis' own ``<name>_ci`` (bounds averaged over seeds) when it
  reports one, else a Student-t interval over seeds (2+ seeds), else none (the bounds
  equal the mean and the evidence says so). ``mean`` over tasks averages the bounds,
  which is conservative (tasks treated as perfectly correlated).
- **aggregates** on each task's primary metric: ``P_avg`` and ``worst`` (with their
  bootstrap CIs), ``sigma_P`` (CI: its bootstrap distribution over the same resamples),
  and per task ``seed_std`` (std over seeds) and ``failure_rate`` (share of seeds not
  better than the majority class), which have no CI.
- **model-scope analysis numbers** (``cost``: params, latency_ms_p95, ...): one value per
  model, shared by its strategies.

``every_task`` passes when every task passes (the value shown is the task closest to
failing); ``worst_task`` checks the statistic of the task with the worst mean;
``task:<name>`` one task. Baselines are never candidates.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from adapteval.analyses import ANALYSES, Analysis
from adapteval.analyses.cost import BUSY, busy_note
from adapteval.core.errors import ConfigError
from adapteval.metrics import METRICS, interval
from adapteval.statistics import flexibility

if TYPE_CHECKING:
    from rich.table import Table

    from adapteval.plan import Plan
    from adapteval.results import Results
    from adapteval.suite.schema import CriterionSpec

OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
       "==": lambda a, b: math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)}
STATISTICS = ("mean", "ci_low", "ci_high")
ACROSS_TASKS = ("P_avg", "sigma_P", "worst")  # one number per model x strategy
PER_TASK_AGGREGATES = ("seed_std", "failure_rate")  # per task, no CI
INF = math.inf
TIMED = ("latency_ms_p50", "latency_ms_p95", "throughput_per_s")  # load-sensitive numbers
METRIC_BOUNDS = {
    "accuracy": (0.0, 1.0), "macro_f1": (0.0, 1.0), "mcc": (-1.0, 1.0), "log_loss": (0.0, INF),
    "spearman": (-1.0, 1.0), "r2": (-INF, 1.0), "mse": (0.0, INF), "mae": (0.0, INF),
}
# ranges of numbers named in the analysis contract (an analysis may add ``bounds``)
KNOWN_BOUNDS = {
    **dict.fromkeys(("clean_accuracy", "flip_rate", "ece", "mce", "largest_gap",
                     "demographic_parity_difference", "equalized_odds_difference",
                     "mean_abs_gap", "max_gap", "counterfactual_gap", "retention_auc",
                     "max_sparsity_99", "max_sparsity_95", "failure_rate"), (0.0, 1.0)),
    **dict.fromkeys(("mean_drop", "worst_drop"), (-1.0, 1.0)),
    "brier": (0.0, 2.0), "nll": (0.0, INF), "sigma_P": (0.0, INF), "seed_std": (0.0, INF),
    **dict.fromkeys(("params", "disk_mb", "latency_ms_p50", "latency_ms_p95",
                     "throughput_per_s", "peak_memory_mb"), (0.0, INF)),
}

_RULE = re.compile(
    r"^\s*(?P<metric>[A-Za-z_][\w.\-]*)\s*(?P<op>>=|<=|==|>|<)\s*"
    r"(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(?P<pct>%)?(?P<rest>.*)$"
)
_STATISTIC_WORDS = {
    "mean": "mean", "ci_low": "ci_low", "lower ci bound": "ci_low", "lower ci": "ci_low",
    "lower bound": "ci_low", "ci_high": "ci_high", "upper ci bound": "ci_high",
    "upper ci": "ci_high", "upper bound": "ci_high",
}
_SCOPE_WORDS = {
    "every task": "every_task", "every_task": "every_task", "all tasks": "every_task",
    "each task": "every_task", "worst task": "worst_task", "the worst task": "worst_task",
    "worst_task": "worst_task", "average": "mean", "mean": "mean", "the mean": "mean",
    "mean over tasks": "mean", "average over tasks": "mean",
}
RULE_FORM = ("METRIC OP NUMBER[%] [on every task | on worst task | on average | on task NAME] "
             "[(mean | ci_low | ci_high)] [for STRATEGY]")


def parse_rule(text: str) -> dict[str, Any]:
    """The compact form ``"accuracy >= 0.85 on every task (ci_low) for probe"`` as the
    mapping form; a ValueError (shown with the rule's place in the suite) otherwise."""
    m = _RULE.match(text)
    if m is None:
        raise ValueError(f"cannot read rule {text!r}; write {RULE_FORM}")
    rule: dict[str, Any] = {"metric": m["metric"], "op": m["op"],
                            "threshold": float(m["number"]) / (100 if m["pct"] else 1)}
    rest = m["rest"].strip()
    stat = re.search(r"\(([^)]*)\)", rest)
    if stat:
        word = " ".join(stat[1].lower().split())
        if word not in _STATISTIC_WORDS:
            raise ValueError(f"unknown statistic ({stat[1]}) in rule {text!r}; "
                             "use (mean), (ci_low) or (ci_high)")
        rule["statistic"] = _STATISTIC_WORDS[word]
        rest = (rest[: stat.start()] + rest[stat.end():]).strip()
    strat = re.search(r"\b(?:for|with)\s+(\S+)\s*$", rest)
    if strat:
        rule["strategy"] = strat[1]
        rest = rest[: strat.start()].strip()
    if rest:
        on = re.fullmatch(r"(?:on|over|across)\s+(.+)", rest)
        if on is None:
            raise ValueError(f"cannot read {rest!r} in rule {text!r}; write {RULE_FORM}")
        words = " ".join(on[1].split())
        task = re.fullmatch(r"(?:task\s+|task:)(\S+)", words)
        if task:
            rule["scope"] = f"task:{task[1]}"
        elif words.lower() in _SCOPE_WORDS:
            rule["scope"] = _SCOPE_WORDS[words.lower()]
        else:
            raise ValueError(f"unknown scope {words!r} in rule {text!r}; use every task, "
                             "worst task, average or task NAME")
    return rule


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

    @property
    def text(self) -> str:
        scope = {"every_task": " on every task", "mean": " on average", "all": "",
                 "worst_task": " on worst task"}.get(self.scope, f" on task {self.scope[5:]}")
        stat = "" if self.statistic == "mean" else f" ({self.statistic})"
        strategy = f" for {self.strategy}" if self.strategy else ""
        metric = f"{self.analysis.name}.{self.metric}" if self.qualified else self.metric
        return f"{metric} {self.op} {self.threshold:g}{scope}{stat}{strategy}"

    def passes(self, value: float) -> bool:
        return OPS[self.op](value, self.threshold)


def resolve_criteria(plan: Plan) -> list[Rule]:
    """Check every criterion against the plan (metrics, analyses, scopes, thresholds);
    the first problem is a ConfigError naming the rule."""
    return [_resolve(c, plan, where=f"{plan.suite.source}: criteria[{i}]")
            for i, c in enumerate(plan.suite.criteria)]


def _provider(metric: str, plan: Plan, where: str) -> Analysis | None:
    """The listed analysis that provides ``metric``; ``NAME.metric`` picks one analysis
    when several provide the same number (robustness and counterfactual: flip_rate)."""
    name, _, bare = metric.rpartition(".")
    listed = [a for a in plan.analyses if bare in type(a).provides and name in ("", a.name)]
    if len({a.name for a in listed}) > 1:
        options = " or ".join(f"{a.name}.{bare}" for a in listed)
        raise ConfigError(
            f"metric {bare!r} is provided by several listed analyses", where=where,
            fix=f"name the analysis: {options}",
        )
    if listed:
        return listed[0]
    owners = [n for n in ANALYSES.names() if bare in ANALYSES.get(n).provides
              and name in ("", n)]
    if owners:
        raise ConfigError(
            f"metric {bare!r} comes from the {' or '.join(map(repr, owners))} analysis, which "
            "the suite does not list", where=where, fix=f"add {owners[0]} to analyses:",
        )
    return None


def _unknown(metric: str, plan: Plan, where: str) -> ConfigError:
    names = [*METRICS.names(), *ACROSS_TASKS, *PER_TASK_AGGREGATES,
             *(n for a in plan.analyses for n in type(a).provides)]
    import difflib

    close = difflib.get_close_matches(metric, names, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return ConfigError(f"unknown metric {metric!r}", where=where,
                       fix=f"{hint}valid here: {', '.join(dict.fromkeys(names))}")


def _resolve(spec: CriterionSpec, plan: Plan, *, where: str) -> Rule:
    metric, suite = spec.metric, plan.suite
    task_names = [t.name for t in plan.tasks]
    analysis, bounds = None, None
    if metric in METRICS:
        source = "metric"
        if suite.metrics is not None and metric not in suite.metrics:
            raise ConfigError(f"metric {metric!r} is not among the suite's metrics", where=where,
                              fix=f"add {metric} to metrics:")
        applies = [t.name for t in plan.tasks if METRICS.get(metric).applies_to(t.type)]
        if not applies:
            raise ConfigError(f"metric {metric!r} applies to none of the suite's tasks",
                              where=where, fix="use a metric of the tasks' type")
        bounds = METRIC_BOUNDS.get(metric)
    elif metric in ACROSS_TASKS or metric in PER_TASK_AGGREGATES:
        source = "aggregate"
        bounds = KNOWN_BOUNDS.get(metric) or _primary_bounds(plan)
    else:
        analysis = _provider(metric, plan, where)
        if analysis is None:
            raise _unknown(metric, plan, where)
        source = "model_analysis" if analysis.scope == "model" else "analysis"
        metric = metric.rpartition(".")[2]  # the number's name inside the analysis' result
        bounds = {**KNOWN_BOUNDS, **getattr(type(analysis), "bounds", {})}.get(metric)

    across = metric in ACROSS_TASKS or source == "model_analysis"
    scope = spec.scope
    if across and scope not in (None, "all"):
        raise ConfigError(f"{metric} is one number per model and strategy; it has no scope",
                          where=f"{where}.scope", value=scope, fix="remove the scope")
    scope = "all" if across else (scope or "every_task")
    if scope not in ("all", "every_task", "mean", "worst_task") and not scope.startswith("task:"):
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
        if analysis is not None and analysis.tasks is not None and name not in analysis.tasks:
            raise ConfigError(f"analysis {analysis.name!r} does not run on task {name!r}",
                              where=where, fix=f"add {name} to the analysis' tasks")
    strategies = [s.name for s in plan.strategies]
    if spec.strategy is not None:
        if spec.strategy not in strategies:
            raise ConfigError(f"unknown strategy {spec.strategy!r}", where=f"{where}.strategy",
                              fix=f"use one of: {', '.join(strategies)}")
        if analysis is not None and analysis.strategies is not None \
                and spec.strategy not in analysis.strategies:
            raise ConfigError(f"analysis {analysis.name!r} does not run on {spec.strategy!r}",
                              where=where, fix=f"add {spec.strategy} to the analysis' strategies")
    if metric in PER_TASK_AGGREGATES and spec.statistic != "mean":
        raise ConfigError(f"{metric} has no confidence interval", where=f"{where}.statistic",
                          value=spec.statistic, fix="use statistic mean")
    if metric == "seed_std" and len(suite.seeds) < 2:
        raise ConfigError("seed_std needs at least two seeds", where=where,
                          value=suite.seeds, fix="list 2 or more seeds")
    if metric == "failure_rate" and "majority" not in {m.kind for m in plan.models}:
        raise ConfigError("failure_rate compares with the majority baseline, which the suite "
                          "does not run", where=where, fix="add majority to baselines:")
    if bounds is not None and not bounds[0] <= spec.threshold <= bounds[1]:
        raise ConfigError(
            f"threshold outside the range of {metric} [{bounds[0]:g}, {bounds[1]:g}]: the rule "
            "can never or always pass", where=f"{where}.threshold", value=spec.threshold,
            fix="use a threshold inside the range (fractions, not percents: 0.85 or 85%)",
        )
    return Rule(metric, spec.op, spec.threshold, scope, spec.statistic, spec.strategy, source,
                analysis, qualified="." in spec.metric)


def _primary_bounds(plan: Plan) -> tuple[float, float]:
    """Range of P_avg / worst: the union of the tasks' primary metrics' ranges."""
    from adapteval.metrics import metrics_for

    ranges = [METRIC_BOUNDS.get(metrics_for(t.type, plan.suite.metrics)[0].name, (-INF, INF))
              for t in plan.tasks]
    return min(r[0] for r in ranges), max(r[1] for r in ranges)


# --- measuring -----------------------------------------------------------------------

@dataclass(frozen=True)
class Measure:
    """One number with its CI; ``where`` is a task name or ``all tasks``."""

    where: str
    mean: float
    ci_low: float
    ci_high: float
    n_seeds: int
    note: str = ""

    def stat(self, statistic: str) -> float:
        return float(getattr(self, statistic))


def _t_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    from scipy import stats

    m = float(values.mean())
    if len(values) < 2:
        return m, m
    half = stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1) / math.sqrt(
        len(values))
    return m - float(half), m + float(half)


class Measurer:
    """Numbers of one Results, per model × strategy × task, for each kind of rule."""

    def __init__(self, results: Results) -> None:
        self.results = results
        self.conf = results.bootstrap.confidence
        self.stability = results.stability()
        self.tasks = list(dict.fromkeys(results.labels[r.key].task for r in results.rows))

    def per_task(self, rule: Rule, model: str, strategy: str) -> list[Measure]:
        if rule.source == "metric":
            aggs = self.results.aggregates
            return [Measure(t, a.value, a.ci_low, a.ci_high, a.n_seeds) for t in self.tasks
                    if (a := aggs.get((model, t, strategy, rule.metric))) is not None]
        if rule.source == "aggregate":
            col = "std" if rule.metric == "seed_std" else "failure_rate"
            rows = self.stability[(self.stability["model"] == model)
                                  & (self.stability["strategy"] == strategy)]
            return [Measure(r.task, float(getattr(r, col)), float(getattr(r, col)),
                            float(getattr(r, col)), int(r.n_seeds), "no CI")
                    for r in rows.itertuples() if not math.isnan(getattr(r, col))]
        return [m for t in self.tasks
                if (m := self._analysis(rule, model, t, strategy)) is not None]

    def _analysis(self, rule: Rule, model: str, task: str | None, strategy: str | None
                  ) -> Measure | None:
        a = rule.analysis
        assert a is not None
        config = a.config()
        rows = [r for r in self.results.analyses
                if r.name == a.name and r.config == config and r.model == model
                and (task is None or r.task == task) and (strategy is None or r.strategy == strategy)]
        values, cis = [], []
        for r in rows:
            v = type(a).scalars(r.result).get(rule.metric)
            if v is None:
                continue
            values.append(float(v))
            ci = r.result.get(f"{rule.metric}_ci")
            if isinstance(ci, list) and len(ci) == 2 and None not in ci:
                cis.append(ci)
        if not values:
            return None
        arr = np.array(values)
        if cis and len(cis) == len(values):
            lo, hi = np.mean(cis, axis=0)
            note = f"CI: the analysis' own {rule.metric}_ci"
        elif len(arr) > 1:
            lo, hi = _t_interval(arr, self.conf)
            note = "CI: t-interval over seeds"
        else:
            lo = hi = float(arr[0])
            note = "no CI (one seed)"
        busy = [n for r in rows if (n := busy_note(r.result))]
        if busy and rule.metric in TIMED:
            note = f"{note}; {busy[0]}"
        return Measure(task or "model", float(arr.mean()), float(lo), float(hi), len(arr), note)

    def across(self, rule: Rule, model: str, strategy: str) -> list[Measure]:
        """Numbers over all tasks: P_avg / sigma_P / worst (per primary metric) or a
        model-scope analysis number."""
        if rule.source == "model_analysis":
            m = self._analysis(rule, model, None, None)
            return [m] if m is not None else []
        res, out = self.results, []
        groups: dict[str, dict[str, Any]] = {}
        for t in self.tasks:
            name = res.primary_metric(t).name
            a = res.aggregates.get((model, t, strategy, name))
            if a is not None:
                groups.setdefault(name, {})[t] = a
        for name, per_task in groups.items():
            higher = METRICS.get(name).higher_is_better
            f = flexibility(per_task, higher, self.conf)
            where = f"all tasks ({name})"
            if rule.metric == "P_avg":
                out.append(Measure(where, f.p_avg, f.ci_low, f.ci_high, _seeds(per_task)))
            elif rule.metric == "worst":
                w = per_task[f.worst_task]
                out.append(Measure(f"{f.worst_task} ({name})", w.value, w.ci_low, w.ci_high,
                                   w.n_seeds))
            else:
                reps = np.stack([a.replicates for a in per_task.values()]).std(0)
                lo, hi = interval(reps, self.conf)
                out.append(Measure(where, f.sigma_p, lo, hi, _seeds(per_task)))
        return out

    def mean_over_tasks(self, rule: Rule, model: str, strategy: str,
                        measures: list[Measure]) -> Measure | None:
        if not measures:
            return None
        if rule.source == "metric":
            per_task = {m.where: self.results.aggregates[(model, m.where, strategy, rule.metric)]
                        for m in measures}
            f = flexibility(per_task, METRICS.get(rule.metric).higher_is_better, self.conf)
            return Measure("mean over tasks", f.p_avg, f.ci_low, f.ci_high, _seeds(per_task))
        return Measure(
            "mean over tasks", float(np.mean([m.mean for m in measures])),
            float(np.mean([m.ci_low for m in measures])),
            float(np.mean([m.ci_high for m in measures])),
            min(m.n_seeds for m in measures), "CI: mean of the per-task bounds",
        )


def _seeds(per_task: dict[str, Any]) -> int:
    return min(a.n_seeds for a in per_task.values())


# --- the verdict ---------------------------------------------------------------------

@dataclass
class Check:
    """One rule on one model × strategy: the number measured and whether it passes."""

    rule: str
    metric: str
    op: str
    threshold: float
    scope: str
    statistic: str
    value: float | None
    passed: bool
    where: str  # the task (or "all tasks") the value comes from
    evidence: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""


@dataclass
class Candidate:
    model: str
    strategy: str
    acceptable: bool
    checks: list[Check]
    p_avg: float | None = None
    higher_is_better: bool = True


@dataclass
class Verdict:
    """Every candidate model × strategy with its checked rules. ``acceptable``: the chosen
    model (or, without one, at least one candidate) passes every rule with some strategy."""

    suite: str
    candidates: list[Candidate]
    model: str | None = None
    strategy: str | None = None

    @property
    def acceptable(self) -> bool:
        return any(c.acceptable for c in self.candidates)

    @property
    def best(self) -> Candidate | None:
        """The acceptable candidate with the best P_avg (plan order breaks ties)."""
        ok = [c for c in self.candidates if c.acceptable]
        if not ok:
            return None
        return max(ok, key=lambda c: -INF if c.p_avg is None else
                   (c.p_avg if c.higher_is_better else -c.p_avg))

    def to_dict(self) -> dict[str, Any]:
        from adapteval.core.keys import jsonable

        best = self.best
        return jsonable({
            "suite": self.suite, "model": self.model, "strategy": self.strategy,
            "acceptable": self.acceptable,
            "best": {"model": best.model, "strategy": best.strategy} if best else None,
            "candidates": [asdict(c) for c in self.candidates],
        })


def _check(rule: Rule, measurer: Measurer, model: str, strategy: str) -> Check:
    if rule.scope == "all":
        measures = measurer.across(rule, model, strategy)
    else:
        measures = measurer.per_task(rule, model, strategy)
        if rule.scope.startswith("task:"):
            measures = [m for m in measures if m.where == rule.scope[5:]]
    evidence = [{**asdict(m), "passed": rule.passes(m.stat(rule.statistic))} for m in measures]
    base = dict(rule=rule.text, metric=rule.metric, op=rule.op, threshold=rule.threshold,
                scope=rule.scope, statistic=rule.statistic)
    if not measures:
        return Check(**base, value=None, passed=False, where="", evidence=[],
                     note="not measured: no stored result for this model and strategy")
    if rule.scope == "mean":
        m = measurer.mean_over_tasks(rule, model, strategy, measures)
        assert m is not None
        v = m.stat(rule.statistic)
        return Check(**base, value=v, passed=rule.passes(v), where=m.where, evidence=evidence,
                     note=m.note)
    if rule.scope == "worst_task":
        lower_worse = rule.op in (">=", ">") or (rule.op == "==" and _higher_better(rule))
        m = (min if lower_worse else max)(measures, key=lambda x: x.mean)
        v = m.stat(rule.statistic)
        return Check(**base, value=v, passed=rule.passes(v), where=m.where, evidence=evidence,
                     note=m.note)
    # every_task / task:<name> / all: every entry must pass; show the one closest to failing
    failing = [m for m, e in zip(measures, evidence, strict=True) if not e["passed"]]
    pool = failing or measures
    if rule.op in (">=", ">"):
        m = min(pool, key=lambda x: x.stat(rule.statistic))
    elif rule.op in ("<=", "<"):
        m = max(pool, key=lambda x: x.stat(rule.statistic))
    else:
        m = pool[0]
    return Check(**base, value=m.stat(rule.statistic), passed=not failing, where=m.where,
                 evidence=evidence, note=m.note)


def _higher_better(rule: Rule) -> bool:
    if rule.metric in METRICS:
        return METRICS.get(rule.metric).higher_is_better
    if rule.analysis is not None:
        return rule.metric not in type(rule.analysis).lower_is_better
    return rule.metric not in ("sigma_P", "seed_std", "failure_rate")


def candidates_of(plan: Plan) -> list[str]:
    """Models listed under ``models:`` (baselines added by ``baselines:`` are not candidates)."""
    return [m.label for m in plan.suite.models]


def check_choice(plan: Plan, model: str | None, strategy: str | None) -> None:
    """Validate ``--model`` / ``--strategy`` and that the suite has criteria, before work."""
    where = plan.suite.source
    if not plan.suite.criteria:
        raise ConfigError(
            "the suite has no acceptance criteria", where=f"{where}: criteria",
            fix="add e.g. criteria: [\"accuracy >= 0.85 on every task (ci_low)\"]",
        )
    names = candidates_of(plan)
    if model is not None and model not in names:
        baseline = model in {m.label for m in plan.models}
        raise ConfigError(
            f"{model!r} is a baseline, not a candidate" if baseline else f"unknown model {model!r}",
            where="--model", fix=f"use one of the suite's models: {', '.join(names)}",
        )
    strategies = [s.name for s in plan.strategies]
    if strategy is not None and strategy not in strategies:
        raise ConfigError(f"unknown strategy {strategy!r}", where="--strategy",
                          fix=f"use one of: {', '.join(strategies)}")


def verdict(results: Results, plan: Plan, *, model: str | None = None,
            strategy: str | None = None) -> Verdict:
    """Check every rule of the plan on every candidate model × strategy that has results
    (only ``model`` / ``strategy`` when given)."""
    check_choice(plan, model, strategy)
    rules = plan.criteria
    measurer = Measurer(results)
    flex = results.flexibility()
    ran = {(lab.model, lab.strategy) for lab in (results.labels[r.key] for r in results.rows)}
    out = []
    for m in candidates_of(plan):
        if model is not None and m != model:
            continue
        for s in (st.name for st in plan.strategies):
            if (m, s) not in ran or (strategy is not None and s != strategy):
                continue
            checks = [_check(r, measurer, m, s) for r in rules if r.strategy in (None, s)]
            if not checks:
                continue
            row = flex[(flex["model"] == m) & (flex["strategy"] == s)]
            p_avg = float(row["P_avg"].iloc[0]) if len(row) else None
            higher = METRICS.get(row["metric"].iloc[0]).higher_is_better if len(row) else True
            out.append(Candidate(m, s, all(c.passed for c in checks), checks, p_avg, higher))
    return Verdict(plan.suite.name, out, model, strategy)


def verdict_table(v: Verdict) -> Table:
    """One line per rule and candidate: measured value, statistic, threshold, pass/fail."""
    from rich.table import Table

    table = Table(title=f"Acceptance: {v.suite} (measured: the rule's statistic; on: the "
                  "task it comes from, the one closest to failing for every-task rules)",
                  title_justify="left")
    for col, just in (("model", "left"), ("strategy", "left"), ("rule", "left"),
                      ("measured", "right"), ("on", "left"), ("result", "left")):
        table.add_column(col, justify=just, no_wrap=col in ("model", "strategy", "result"))
    for i, c in enumerate(v.candidates):
        if i:
            table.add_section()
        for j, ch in enumerate(c.checks):
            value = "n/a" if ch.value is None else f"{ch.value:.4g}"
            shown = ch.note if ch.statistic != "mean" or ch.value is None else (
                ch.note.split("; ", 1)[1] if BUSY in ch.note else "")
            on = " ".join(x for x in (ch.where, f"[dim]({shown})[/]" if shown else "") if x)
            table.add_row(
                c.model if j == 0 else "", c.strategy if j == 0 else "", ch.rule, value, on,
                "[green]pass[/]" if ch.passed else "[red]FAIL[/]",
            )
        mark = "[bold green]ACCEPTABLE[/]" if c.acceptable else "[bold red]NOT ACCEPTABLE[/]"
        table.add_row("", "", mark, "", "", "")
    return table
