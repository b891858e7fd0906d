"""Statistics over cells: seeds, tasks (flexibility) and paired gains (customizability).

Inputs are ``Scored`` values (point value + bootstrap replicates). Averaging the
replicates of several cells gives the bootstrap distribution of their mean, so every
aggregate keeps a confidence interval over test items; the spread over seeds is
reported separately as a standard deviation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adapteval.metrics import Scored, interval


@dataclass(frozen=True)
class Aggregate:
    value: float
    std: float  # over seeds (ddof=1), 0 for one seed
    ci_low: float
    ci_high: float
    n_seeds: int
    replicates: np.ndarray
    spread: float = 0.0  # mean spread over k-shot experiments

    def fmt(self, digits: int = 3, *, ci: bool = True, signed: bool = False) -> str:
        sign = "+" if signed else ""
        text = f"{self.value:{sign}.{digits}f}"
        if self.n_seeds > 1:
            text += f" ±{self.std:.{digits}f}"
        if ci:
            text += f" [{self.ci_low:{sign}.{digits}f}, {self.ci_high:{sign}.{digits}f}]"
        return text


def over_seeds(scores: list[Scored], confidence: float) -> Aggregate:
    values = np.array([s.value for s in scores])
    reps = np.mean([s.replicates for s in scores], axis=0)
    lo, hi = interval(reps, confidence)
    std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    spread = float(np.mean([s.spread for s in scores]))
    return Aggregate(float(values.mean()), std, lo, hi, len(values), reps, spread)


def paired_difference(a: dict[int, Scored], b: dict[int, Scored], confidence: float) -> Aggregate | None:
    """a − b over the seeds both have; replicates are paired (same test items per seed)."""
    seeds = sorted(set(a) & set(b))
    if not seeds:
        return None
    diffs = [
        Scored(a[s].value - b[s].value, a[s].replicates - b[s].replicates) for s in seeds
    ]
    return over_seeds(diffs, confidence)


@dataclass(frozen=True)
class TaskAggregate:
    """One model and strategy across tasks: the mean score (P_avg) with its CI, the
    spread over tasks (sigma_P) and the worst task."""

    p_avg: float
    ci_low: float
    ci_high: float
    sigma_p: float  # population std of per-task scores
    worst_task: str
    worst_score: float
    n_tasks: int


def over_tasks(per_task: dict[str, Aggregate], higher_is_better: bool,
               confidence: float) -> TaskAggregate:
    """Aggregate per-task scores: mean (replicates averaged too, for the CI), population
    std over tasks, and the worst task."""
    names = list(per_task)
    values = np.array([per_task[t].value for t in names])
    reps = np.mean([per_task[t].replicates for t in names], axis=0)
    lo, hi = interval(reps, confidence)
    worst = int(values.argmin() if higher_is_better else values.argmax())
    return TaskAggregate(
        float(values.mean()), lo, hi, float(values.std(ddof=0)), names[worst],
        float(values[worst]), len(names),
    )


def tie_groups(
    scores: dict[str, Aggregate], higher_is_better: bool, confidence: float
) -> dict[str, int]:
    """Group entries whose scores are not statistically separable (1 = best group).

    Entries are sorted by score; each group is led by its best entry and takes every
    following entry whose paired bootstrap difference to the leader has a CI that
    contains 0. Replicates are paired because every entry was scored on the same test
    items with the same resamples.
    """
    sign = 1.0 if higher_is_better else -1.0
    order = sorted(scores, key=lambda k: -sign * scores[k].value)
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
