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
``ci_low`` | ``ci_high``) and an optional ``strategy`` (grammar:
:mod:`adapteval.suite.rules`). Rules are resolved against the plan before any work
(:mod:`adapteval.plan.criteria`), so an unknown metric, a metric whose analysis is not
listed or a threshold outside the number's range fails at once; this module measures
and checks them on stored results.

Where the numbers come from, per model × strategy:

- **cell metrics** (accuracy, macro_f1, ...): the mean over seeds; the CI is the
  percentile bootstrap CI over test items of that mean (replicates averaged over seeds,
  as ``Results.summary``). ``mean`` over tasks averages the replicates too (as P_avg).
- **analysis numbers** (any number a listed analysis ``offers``): the mean over
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
``task:<name>`` one task. A rule on a number that has no value (a correlation of
constant predictions, sigma_P over one task) fails, its ``undefined`` saying why.
Baselines are never candidates.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from adapteval.analyses.cost import busy_note
from adapteval.core.errors import ConfigError
from adapteval.metrics import METRICS, interval
from adapteval.plan.criteria import Rule
from adapteval.statistics import over_tasks, t_interval

if TYPE_CHECKING:
    from adapteval.plan import Plan
    from adapteval.results import Results

INF = math.inf
TIMED = ("latency_ms_p50", "latency_ms_p95", "throughput_per_s")  # load-sensitive numbers


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
    undefined: dict[str, str] = field(default_factory=dict)  # mean / ci -> why it is NaN

    def stat(self, statistic: str) -> float:
        return float(getattr(self, statistic))

    def why(self, statistic: str) -> str | None:
        """Why the statistic has no value (None when it has one)."""
        return self.undefined.get("mean" if statistic == "mean" else "ci") or (
            None if math.isfinite(self.stat(statistic)) else "no value")


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
            return [Measure(t, a.value, a.ci_low, a.ci_high, a.n_seeds, undefined=_why(a))
                    for t in self.tasks
                    if (a := aggs.get((model, t, strategy, rule.metric))) is not None]
        if rule.source == "aggregate":
            col = "std" if rule.metric == "seed_std" else "failure_rate"
            rows = self.stability[(self.stability["model"] == model)
                                  & (self.stability["strategy"] == strategy)]
            out = []
            for r in rows.itertuples():
                v, reason = float(getattr(r, col)), (r.undefined or {}).get(col)
                if not math.isnan(v) or reason:
                    out.append(Measure(r.task, v, v, v, int(r.n_seeds), "no CI",
                                       {"mean": reason, "ci": reason} if reason else {}))
            return out
        return [m for t in self.tasks
                if (m := self._analysis(rule, model, t, strategy)) is not None]

    def _analysis(self, rule: Rule, model: str, task: str | None, strategy: str | None
                  ) -> Measure | None:
        a = rule.analysis
        assert a is not None
        mine = [r for r in self.results.analyses
                if r.name == a.name and r.model == model
                and (task is None or r.task == task) and (strategy is None or r.strategy == strategy)]
        rows = []  # from the first listed entry of the analysis that measured these cells
        for entry in rule.entries or (a,):
            config = entry.config()
            rows = [r for r in mine if r.config == config]
            if rows:
                break
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
            lo, hi = t_interval(arr, self.conf)
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
            f = over_tasks(per_task, higher, self.conf)
            where = f"all tasks ({name})"
            if rule.metric == "P_avg":
                out.append(Measure(where, f.p_avg, f.ci_low, f.ci_high, _seeds(per_task),
                                   undefined=_why(f, "P_avg")))
            elif rule.metric == "worst":
                w = per_task[f.worst_task]
                out.append(Measure(f"{f.worst_task} ({name})", w.value, w.ci_low, w.ci_high,
                                   w.n_seeds, undefined=_why(w)))
            else:
                reps = np.stack([a.replicates for a in per_task.values()]).std(0)
                lo, hi = (np.nan, np.nan) if "sigma_P" in f.undefined else interval(reps,
                                                                                  self.conf)
                out.append(Measure(where, f.sigma_p, lo, hi, _seeds(per_task),
                                   undefined=_why(f, "sigma_P")))
        return out

    def mean_over_tasks(self, rule: Rule, model: str, strategy: str,
                        measures: list[Measure]) -> Measure | None:
        if not measures:
            return None
        if rule.source == "metric":
            per_task = {m.where: self.results.aggregates[(model, m.where, strategy, rule.metric)]
                        for m in measures}
            f = over_tasks(per_task, METRICS.get(rule.metric).higher_is_better, self.conf)
            return Measure("mean over tasks", f.p_avg, f.ci_low, f.ci_high, _seeds(per_task),
                           undefined=_why(f, "P_avg"))
        if undefined := next((m.undefined for m in measures if m.undefined), None):
            return Measure("mean over tasks", np.nan, np.nan, np.nan,
                           min(m.n_seeds for m in measures), undefined=undefined)
        return Measure(
            "mean over tasks", float(np.mean([m.mean for m in measures])),
            float(np.mean([m.ci_low for m in measures])),
            float(np.mean([m.ci_high for m in measures])),
            min(m.n_seeds for m in measures), "CI: mean of the per-task bounds",
        )


def _seeds(per_task: dict[str, Any]) -> int:
    return min(a.n_seeds for a in per_task.values())


def _why(agg: Any, value: str = "value") -> dict[str, str]:
    """A Measure's ``undefined`` from an aggregate's (its ``value`` field; ``ci``)."""
    u = agg.undefined
    reason = u.get(value)
    out = {"mean": reason} if reason else {}
    if reason or u.get("ci"):
        out["ci"] = reason or u["ci"]
    return out


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
    undefined: str = ""  # why the value has none (the rule then fails)


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
        if (undefined := _undefined(base, [m], rule.statistic, evidence)) is not None:
            return undefined
        v = m.stat(rule.statistic)
        return Check(**base, value=v, passed=rule.passes(v), where=m.where, evidence=evidence,
                     note=m.note)
    if (undefined := _undefined(base, measures, rule.statistic, evidence)) is not None:
        return undefined
    if rule.scope == "worst_task":
        lower_worse = rule.op in (">=", ">") or (rule.op == "==" and rule.higher_is_better)
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


def _undefined(base: dict[str, Any], measures: list[Measure], statistic: str,
               evidence: list[dict[str, Any]]) -> Check | None:
    """A rule on a number with no value fails, saying why (the first such measure)."""
    m = next((m for m in measures if m.why(statistic)), None)
    if m is None:
        return None
    return Check(**base, value=None, passed=False, where=m.where, evidence=evidence,
                 note=m.note, undefined=m.why(statistic) or "")


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

