"""Two result sets side by side (e.g. an old and a new version of a model), per task and
strategy, with the difference B − A and its significance.

Paired when it can be: the same task content (fingerprint), the same seeds, and so the
same test items in every seed. Then the bootstrap replicates of A and B were drawn on the
same resamples, and their difference gives a paired CI and a two-sided bootstrap p-value.
Otherwise the comparison says it is unpaired (and why) and only the two CIs are shown;
it counts as significant when they do not overlap (a conservative rule).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adapteval.contracts.strategy import Predictions
from adapteval.core.errors import ConfigError, StoreError
from adapteval.metrics import Scored
from adapteval.results import Results
from adapteval.statistics import paired_difference


def same_bootstrap(a: Results, b: Results) -> Results:
    """``b`` rescored with ``a``'s bootstrap settings, so their replicates pair up."""
    if a.bootstrap == b.bootstrap:
        return b
    return Results(b.rows, labels=b.labels, metrics=b.requested, bootstrap=a.bootstrap,
                   analyses=b.analyses)


def candidates(r: Results) -> list[str]:
    return list(dict.fromkeys(lab.model for lab in r.labels.values()
                              if lab.model not in r.baseline_labels))


def model_pairs(a: Results, b: Results, model_a: str | None, model_b: str | None
                ) -> list[tuple[str, str]]:
    """Which model of A is compared with which of B: the ones named, else the models both
    have, else the single candidate (non-baseline) model of each."""
    models_a = list(dict.fromkeys(lab.model for lab in a.labels.values()))
    models_b = list(dict.fromkeys(lab.model for lab in b.labels.values()))
    for name, models, side in ((model_a, models_a, "A"), (model_b, models_b, "B")):
        if name is not None and name not in models:
            raise ConfigError(f"no model {name!r} in result set {side}",
                              where=f"--model-{side.lower()}", fix=f"models: {', '.join(models)}")
    if model_a or model_b:
        return [(model_a or model_b, model_b or model_a)]  # type: ignore[list-item]
    common = [m for m in models_a if m in models_b]
    if common:
        return [(m, m) for m in common]
    ca, cb = candidates(a), candidates(b)
    if len(ca) == 1 and len(cb) == 1:
        return [(ca[0], cb[0])]
    raise ConfigError("the two result sets share no model", where="compare",
                      fix="name the two with --model-a and --model-b")


def seeds_of(r: Results, model: str, task: str, strategy: str) -> dict[int, Any]:
    return {r.labels[row.key].seed: row for row in r.rows
            if (r.labels[row.key].model, r.labels[row.key].task,
                r.labels[row.key].strategy) == (model, task, strategy)}


def unpaired_reason(rows_a: dict[int, Any], rows_b: dict[int, Any]) -> str | None:
    """Why A and B cannot be paired item by item (None when they can)."""
    if set(rows_a) != set(rows_b):
        return "different seeds"
    if {r.task_fingerprint for r in rows_a.values()} != {r.task_fingerprint
                                                         for r in rows_b.values()}:
        return "different task data"
    for seed, ra in rows_a.items():
        pa, pb = Predictions.from_bytes(ra.predictions), Predictions.from_bytes(rows_b[seed].predictions)
        if not (np.array_equal(pa.rows, pb.rows) and np.array_equal(pa.y_true, pb.y_true)):
            return "different test items"
    return None


def p_value(replicates: np.ndarray) -> float:
    """Two-sided bootstrap p-value of a difference: twice the share of replicates on the
    far side of zero (capped at 1)."""
    below, above = float(np.mean(replicates <= 0)), float(np.mean(replicates >= 0))
    return min(1.0, 2 * min(below, above))


def compare(a: Results, b: Results, *, model_a: str | None = None, model_b: str | None = None
            ) -> list[dict[str, Any]]:
    """One row per compared model pair, task and strategy (primary metric of the task).
    An empty result set, or two that share no (task, strategy), is a one-line error."""
    for side, r in (("A", a), ("B", b)):
        if not len(r):
            raise StoreError(f"result set {side} holds no cells", where=f"compare {side}",
                             fix="run its suite first, or pass the store folder that has them")
    b = same_bootstrap(a, b)
    out = []
    for ma, mb in model_pairs(a, b, model_a, model_b):
        for task, strategy in _shared(a, b, ma, mb)[0]:
            metric = a.primary_metric(task)
            out.append(compare_one(a, b, ma, mb, task, strategy, metric.name,
                                   metric.higher_is_better))
    if not out:
        only = "; ".join(unmatched(a, b, model_a=model_a, model_b=model_b))
        raise ConfigError(f"the two result sets share no task and strategy ({only})",
                          where="compare", fix="compare result sets of the same tasks, or name "
                          "the models with --model-a and --model-b")
    return out


def _pairs_of(r: Results, model: str) -> list[tuple[str, str]]:
    return list(dict.fromkeys((lab.task, lab.strategy) for lab in r.labels.values()
                              if lab.model == model))


def _shared(a: Results, b: Results, ma: str, mb: str):
    """(task, strategy) pairs both sides have for models ``ma``/``mb`` (in A's order), and
    those only A or only B has."""
    pa, pb = _pairs_of(a, ma), _pairs_of(b, mb)
    both = [k for k in pa if k in pb
            and (mb, *k, a.primary_metric(k[0]).name) in b.aggregates]
    return both, [k for k in pa if k not in both], [k for k in pb if k not in both]


def unmatched(a: Results, b: Results, *, model_a: str | None = None,
              model_b: str | None = None) -> list[str]:
    """What one side has and the other lacks, one line per model pair and side (what
    ``compare`` leaves out, named)."""
    lines = []
    for ma, mb in model_pairs(a, b, model_a, model_b):
        _, only_a, only_b = _shared(a, b, ma, mb)
        for side, model, keys in (("A", ma, only_a), ("B", mb, only_b)):
            if keys:
                listed = ", ".join(f"{t}/{s}" for t, s in keys)
                lines.append(f"only in {side} ({model}): {listed}")
    return lines


def compare_one(a: Results, b: Results, ma: str, mb: str, task: str, strategy: str,
                metric: str, higher_is_better: bool) -> dict[str, Any]:
    agg_a, agg_b = a.aggregates[(ma, task, strategy, metric)], b.aggregates[(mb, task, strategy, metric)]
    rows_a, rows_b = seeds_of(a, ma, task, strategy), seeds_of(b, mb, task, strategy)
    reason = unpaired_reason(rows_a, rows_b)
    rec: dict[str, Any] = {
        "task": task, "strategy": strategy, "metric": metric, "model_a": ma, "model_b": mb,
        "a": agg_a.value, "a_ci": [agg_a.ci_low, agg_a.ci_high],
        "b": agg_b.value, "b_ci": [agg_b.ci_low, agg_b.ci_high],
        "difference": agg_b.value - agg_a.value, "paired": reason is None,
        "unpaired_reason": reason, "n_seeds": min(len(rows_a), len(rows_b)),
    }
    if reason is None:
        mine: dict[int, Scored] = {s: b.scored[r.key][metric] for s, r in rows_b.items()}
        theirs = {s: a.scored[r.key][metric] for s, r in rows_a.items()}
        d = paired_difference(mine, theirs, a.bootstrap.confidence)
        assert d is not None
        rec.update(difference_ci=[d.ci_low, d.ci_high], p_value=p_value(d.replicates))
        rec["significant"] = bool(d.ci_low > 0 or d.ci_high < 0)
    else:
        rec.update(difference_ci=None, p_value=None)
        rec["significant"] = bool(agg_b.ci_low > agg_a.ci_high or agg_a.ci_low > agg_b.ci_high)
    sign = 1 if higher_is_better else -1
    rec["better"] = ("B" if sign * rec["difference"] > 0 else "A") if rec["significant"] else "tie"
    undefined = {side: agg.reason for side, agg in (("a", agg_a), ("b", agg_b)) if agg.reason}
    if undefined or not np.isfinite(rec["difference"]):
        rec.update(undefined=undefined or {"difference": "difference undefined"}, better="n/a",
                   significant=False)
    return rec

