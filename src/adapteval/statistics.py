"""Statistics over cells: seeds, tasks (flexibility) and paired gains (customizability).

Inputs are ``Scored`` values (point value + bootstrap replicates). Averaging the
replicates of several cells gives the bootstrap distribution of their mean, so every
aggregate keeps a confidence interval over test items; the spread over seeds is
reported separately as a standard deviation.

A number that has no value (a rank correlation of constant predictions, a spread over
one seed or one task) is NaN and says why in the ``undefined`` mapping of what holds it
(field -> reason, e.g. ``{"value": "Spearman undefined: constant predictions"}``); it is
never averaged into a defined number nor put into a tie group.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from adapteval.metrics import Metric, Scored, interval, score

NAN = float("nan")
ONE_SEED = "std undefined: one seed"
ONE_TASK = "sigma_P undefined: one task"
NO_FINITE_CI = "CI undefined: no bootstrap resample has a finite value"
CORRELATIONS = {"spearman": "Spearman"}
"""Metrics that are correlations: undefined when the predictions or the gold values are
constant (checked before scipy is asked, so it never warns)."""


@dataclass(frozen=True)
class Undefined(Scored):
    """A metric with no value on one cell, and why."""

    reason: str = "undefined"


def undefined_score(reason: str, n_resamples: int) -> Undefined:
    return Undefined(NAN, np.full(n_resamples, NAN), 0.0, reason)


def reason_of(s: Scored) -> str | None:
    """Why a score has no value (None when it has one)."""
    if isinstance(s, Undefined):
        return s.reason
    return None if np.isfinite(s.value) else "undefined on these test items"


def undefined_reason(metric: Metric, y_true: np.ndarray, y_pred: np.ndarray) -> str | None:
    """Why ``metric`` has no value on these predictions (shape (E, n)); None when it has."""
    label = CORRELATIONS.get(metric.name)
    if label is None:
        return None
    if y_pred.size and bool((np.ptp(y_pred, axis=-1) == 0).any()):
        return f"{label} undefined: constant predictions"
    if y_true.size and np.ptp(y_true) == 0:
        return f"{label} undefined: constant gold values"
    return None


def score_cell(metric: Metric, *, y_true: np.ndarray, y_pred: np.ndarray,
               proba: np.ndarray | None, n_classes: int | None, idx: np.ndarray) -> Scored:
    """``metrics.score``, or :class:`Undefined` with its reason when the metric has no value
    on these predictions (found before computing it, or a NaN it gives)."""
    reason = undefined_reason(metric, y_true, y_pred)
    if reason is None:
        s = score(metric, y_true=y_true, y_pred=y_pred, proba=proba, n_classes=n_classes,
                  idx=idx)
        reason = reason_of(s)
        if reason is None:
            return s
        reason = f"{metric.name} {reason}"
    return undefined_score(reason, idx.shape[0])


@dataclass(frozen=True)
class Aggregate:
    value: float
    std: float  # over seeds (ddof=1); NaN for one seed (``undefined["std"]`` says so)
    ci_low: float
    ci_high: float
    n_seeds: int
    replicates: np.ndarray
    spread: float = 0.0  # mean spread over k-shot experiments
    undefined: Mapping[str, str] = field(default_factory=dict)  # field -> why it is NaN

    @property
    def reason(self) -> str | None:
        """Why the value is undefined (None when it is defined)."""
        return self.undefined.get("value")

    def fmt(self, digits: int = 3, *, ci: bool = True, signed: bool = False) -> str:
        if self.reason:
            return "n/a"
        sign = "+" if signed else ""
        text = f"{self.value:{sign}.{digits}f}"
        if self.n_seeds > 1:
            text += f" ±{self.std:.{digits}f}"
        if ci and "ci" not in self.undefined:
            text += f" [{self.ci_low:{sign}.{digits}f}, {self.ci_high:{sign}.{digits}f}]"
        return text


def over_seeds(scores: list[Scored], confidence: float) -> Aggregate:
    """Mean over seeds with the bootstrap CI of the mean; undefined (NaN with the reason)
    when any seed's score is."""
    n = len(scores)
    reps = np.mean([s.replicates for s in scores], axis=0)
    spread = float(np.mean([s.spread for s in scores]))
    reasons = [r for s in scores if (r := reason_of(s))]
    if reasons:
        why = reasons[0] if len(reasons) == n else f"{reasons[0]} ({len(reasons)} of {n} seeds)"
        return Aggregate(NAN, NAN, NAN, NAN, n, np.full_like(reps, NAN), spread,
                         {"value": why, "ci": why, "std": why})
    values = np.array([s.value for s in scores])
    lo, hi = interval(reps, confidence)
    undefined = {} if n > 1 else {"std": ONE_SEED}
    if not np.isfinite(lo):
        undefined["ci"] = NO_FINITE_CI
    std = float(values.std(ddof=1)) if n > 1 else NAN
    return Aggregate(float(values.mean()), std, lo, hi, n, reps, spread, undefined)


def paired_difference(a: dict[int, Scored], b: dict[int, Scored], confidence: float) -> Aggregate | None:
    """a − b over the seeds both have; replicates are paired (same test items per seed).
    Undefined where either side is."""
    seeds = sorted(set(a) & set(b))
    if not seeds:
        return None
    diffs: list[Scored] = []
    for s in seeds:
        why = reason_of(a[s]) or reason_of(b[s])
        diffs.append(undefined_score(why, len(a[s].replicates)) if why else
                     Scored(a[s].value - b[s].value, a[s].replicates - b[s].replicates))
    return over_seeds(diffs, confidence)


@dataclass(frozen=True)
class TaskAggregate:
    """One model and strategy across tasks: the mean score (P_avg) with its CI, the
    spread over tasks (sigma_P) and the worst task; ``undefined`` says which of them
    have no value and why (a task whose score is undefined, one task for sigma_P)."""

    p_avg: float
    ci_low: float
    ci_high: float
    sigma_p: float  # population std of per-task scores
    worst_task: str
    worst_score: float
    n_tasks: int
    undefined: Mapping[str, str] = field(default_factory=dict)


def over_tasks(per_task: dict[str, Aggregate], higher_is_better: bool,
               confidence: float) -> TaskAggregate:
    """Aggregate per-task scores: mean (replicates averaged too, for the CI), population
    std over tasks, and the worst task. Undefined when a task's score is (that task is
    named as the worst); sigma_P is undefined over one task."""
    names = list(per_task)
    bad = [t for t in names if per_task[t].reason]
    if bad:
        why = f"{per_task[bad[0]].reason} on {bad[0]}"
        return TaskAggregate(NAN, NAN, NAN, NAN, bad[0], NAN, len(names),
                             {k: why for k in ("P_avg", "ci", "sigma_P", "worst_score")})
    values = np.array([per_task[t].value for t in names])
    reps = np.mean([per_task[t].replicates for t in names], axis=0)
    lo, hi = interval(reps, confidence)
    worst = int(values.argmin() if higher_is_better else values.argmax())
    undefined = {} if len(names) > 1 else {"sigma_P": ONE_TASK}
    if not np.isfinite(lo):
        undefined["ci"] = NO_FINITE_CI
    return TaskAggregate(
        float(values.mean()), lo, hi, float(values.std(ddof=0)) if len(names) > 1 else NAN,
        names[worst], float(values[worst]), len(names), undefined,
    )


def tie_groups(
    scores: dict[str, Aggregate], higher_is_better: bool, confidence: float
) -> dict[str, int]:
    """Group entries whose scores are not statistically separable (1 = best group).

    Entries are sorted by score; each group is led by its best entry and takes every
    following entry whose paired bootstrap difference to the leader has a CI that
    contains 0. Replicates are paired because every entry was scored on the same test
    items with the same resamples. An entry whose score is undefined is in no group.
    """
    sign = 1.0 if higher_is_better else -1.0
    defined = [k for k in scores if not scores[k].reason and np.isfinite(scores[k].value)]
    order = sorted(defined, key=lambda k: -sign * scores[k].value)
    groups: dict[str, int] = {}
    group, leader = 0, None
    for name in order:
        if leader is not None:
            diff = sign * (scores[leader].replicates - scores[name].replicates)
            lo, _ = interval(diff, confidence)
            if not lo > 0:
                groups[name] = group
                continue
        group += 1
        leader = name
        groups[name] = group
    return groups


def t_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """Student's t interval of the mean of ``values`` (the point itself for one value)."""
    from scipy.special import stdtrit  # the t quantile, without scipy.stats' import

    m = float(values.mean())
    if len(values) < 2:
        return m, m
    half = stdtrit(len(values) - 1, 0.5 + confidence / 2) * values.std(ddof=1) / math.sqrt(
        len(values))
    return m - float(half), m + float(half)
