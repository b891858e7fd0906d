"""Learning curves read back: every point's score, label efficiency, crossings and the
model ranking at each size. Read by ``Results.curves()``.

A point is one (model, task, strategy, size): the mean over its draws (and seeds) of
the task's primary metric, the bootstrap CI of that mean over test items (every draw
is scored on the same test items with the same resamples, so replicates average) and
the spread over draws (std). The full-size point is the strategy's plain cell (k-shot:
its own ``full`` point). The size axis is the mean number of training items of the
point's draws (``n_train``); classification also shows it per label.

Label efficiency: the smallest size whose curve reaches ``fraction`` x the full-data
score, linearly interpolated between the two sizes around the first crossing on the
log-size axis, with a percentile interval from re-drawing the draws of every size
(bootstrap over draws). It is n/a, with the reason, for a lower-is-better metric, a
full score that is not positive, or one draw per size (no interval).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from adapteval.contracts.strategy import Predictions
from adapteval.metrics import Scored, interval
from adapteval.statistics import over_seeds as _over_seeds
from adapteval.statistics import paired_difference, reason_of, score_cell, tie_groups

FRACTIONS = (0.9, 0.95, 0.99)
EFFICIENCY_RESAMPLES = 500
FULL = "full"


@dataclass
class Point:
    model: str
    task: str
    strategy: str
    size: str
    metric: str
    higher_is_better: bool
    n_train: list[int] = field(default_factory=list)
    n_classes: int | None = None
    draws: dict[int, list[Scored]] = field(default_factory=dict)  # seed -> per-draw scores

    @property
    def per_draw(self) -> list[float]:
        return [s.value for d in self.draws.values() for s in d]

    @property
    def x(self) -> float:
        return float(np.mean(self.n_train))

    def by_seed(self) -> dict[int, Scored]:
        """seed -> the mean over draws (replicates averaged: the same test resamples)."""
        out: dict[int, Scored] = {}
        for seed, scores in self.draws.items():
            if any(reason_of(s) for s in scores):
                out[seed] = next(s for s in scores if reason_of(s))
            else:
                out[seed] = Scored(float(np.mean([s.value for s in scores])),
                                   np.mean([s.replicates for s in scores], axis=0))
        return out


def _size_of(config: dict[str, Any]) -> str:
    size = config["curve"]["size"]
    return f"{size:g}" if isinstance(size, float) else str(size)


def curve_points(results: Any) -> list[Point]:
    """Every point of every curve in the results, grouped, in plan order."""
    curve_groups = {(results.labels[r.key].model, results.labels[r.key].task,
                     results.labels[r.key].strategy) for r in results.curve_rows}
    own_full = {k for k in curve_groups if any(
        _size_of(r.strategy_config) == FULL for r in results.curve_rows
        if (results.labels[r.key].model, results.labels[r.key].task,
            results.labels[r.key].strategy) == k)}
    rows = [(r, _size_of(r.strategy_config)) for r in results.curve_rows]
    for r in results.rows:
        lab = results.labels[r.key]
        key = (lab.model, lab.task, lab.strategy)
        if key in curve_groups and key not in own_full:
            rows.append((r, FULL))
    points: dict[tuple[str, str, str, str], Point] = {}
    for r, size in rows:
        lab = results.labels[r.key]
        metric = results.primary_metric(lab.task)
        p = Predictions.from_bytes(r.predictions, r.info)
        n = len(p.y_true)
        k = len(r.classes) if r.classes else None
        point = points.setdefault((lab.model, lab.task, lab.strategy, size), Point(
            lab.model, lab.task, lab.strategy, size, metric.name, metric.higher_is_better,
            n_classes=k))
        for e in range(p.y_pred.shape[0]):
            s = score_cell(metric, y_true=p.y_true, y_pred=p.y_pred[e:e + 1],
                           proba=None if p.proba is None else p.proba[e:e + 1],
                           n_classes=k, idx=results.resamples(n))
            point.draws.setdefault(lab.seed, []).append(s)
            point.n_train.append(_n_train(r))
    return sorted(points.values(), key=lambda q: (_place(results, "model", q.model),
                                                 _place(results, "task", q.task),
                                                 _place(results, "strategy", q.strategy), q.x))


def _n_train(r: Any) -> int:
    """Training items the point drew (a plain cell: its whole training split, before a
    trained strategy carves its validation part)."""
    if "curve_point" in r.info:
        return int(r.info["curve_point"]["n_train"])
    data = (r.provenance or {}).get("data") or {}
    return int(data.get("n_train") or r.info.get("n_train", 0))


def _place(results: Any, col: str, value: str) -> int:
    order = results._order.get(col) or []
    return order.index(value) if value in order else len(order)


def points_frame(results: Any, points: list[Point]) -> pd.DataFrame:
    """One row per point: size, training items, mean over draws, CI, spread, draws."""
    recs = []
    for q in points:
        agg = _over_seeds(list(q.by_seed().values()), results.bootstrap.confidence)
        values = q.per_draw
        spread = float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")
        undefined = dict(agg.undefined)
        undefined.pop("std", None)
        if len(values) < 2:
            undefined["spread"] = "spread undefined: one draw"
        recs.append({
            "model": q.model, "task": q.task, "strategy": q.strategy, "size": q.size,
            "n_train": q.x, "per_label": q.x / q.n_classes if q.n_classes else float("nan"),
            "metric": q.metric, "value": agg.value, "ci_low": agg.ci_low,
            "ci_high": agg.ci_high, "spread": spread, "draws": len(values),
            "draw_values": values, "undefined": undefined or None,
        })
    return pd.DataFrame(recs)


def size_to_reach(xs: np.ndarray, values: np.ndarray, target: float) -> float:
    """The training size at which the curve (xs ascending, values) first reaches
    ``target``, linear in log(size) between the points around the first crossing; the
    first size when it is reached there; NaN when never reached."""
    xs, values = np.asarray(xs, float), np.asarray(values, float)
    hit = np.flatnonzero(values >= target)
    if not hit.size:
        return float("nan")
    i = int(hit[0])
    if i == 0:
        return float(xs[0])
    lx0, lx1 = np.log(xs[i - 1]), np.log(xs[i])
    v0, v1 = values[i - 1], values[i]
    return float(np.exp(lx0 + (target - v0) / (v1 - v0) * (lx1 - lx0)))


def _curves(points: list[Point]) -> dict[tuple[str, str, str], list[Point]]:
    out: dict[tuple[str, str, str], list[Point]] = {}
    for q in points:
        out.setdefault((q.model, q.task, q.strategy), []).append(q)
    return {k: sorted(v, key=lambda q: q.x) for k, v in out.items()}


def efficiency_frame(results: Any, points: list[Point],
                     fractions: tuple[float, ...] = FRACTIONS) -> pd.DataFrame:
    """Per model, task and strategy: the size reaching each fraction of the full score."""
    recs = []
    for (m, t, s), curve in _curves(points).items():
        full = next((q for q in curve if q.size == FULL), None)
        rec: dict[str, Any] = {"model": m, "task": t, "strategy": s, "metric": curve[0].metric,
                               "full": float(np.mean(full.per_draw)) if full else float("nan"),
                               "full_n_train": full.x if full else float("nan")}
        why = None if full is not None else "no full-size point"
        if why is None and not curve[0].higher_is_better:
            why = f"{curve[0].metric} is lower-is-better: a fraction of it is not a target"
        if why is None and not rec["full"] > 0:
            why = "the full-data score is not positive"
        undefined: dict[str, str] = {}
        xs = np.array([q.x for q in curve])
        draws = [np.array(q.per_draw) for q in curve]
        means = np.array([d.mean() for d in draws])
        rng = np.random.default_rng(results.bootstrap.seed)
        boot = np.array([[rng.choice(d, size=len(d)).mean() for d in draws]
                         for _ in range(EFFICIENCY_RESAMPLES)]) if why is None else None
        for f in fractions:
            col = f"size_{round(f * 100)}"
            if why is not None:
                rec.update({col: float("nan"), f"{col}_low": float("nan"),
                            f"{col}_high": float("nan")})
                undefined[col] = why
                continue
            x = size_to_reach(xs, means, f * rec["full"])
            at = curve.index(full)
            sims = np.array([size_to_reach(xs, b, f * b[at]) for b in boot])
            lo, hi = interval(sims, results.bootstrap.confidence)
            rec.update({col: x, f"{col}_low": lo, f"{col}_high": hi})
            if not np.isfinite(x):
                undefined[col] = f"never reaches {f:.0%} of the full score"
            elif max(len(d) for d in draws) < 2:
                undefined[f"{col}_ci"] = "interval undefined: one draw per size"
        rec["per_label"] = bool(curve[0].n_classes)
        rec["n_classes"] = curve[0].n_classes
        rec["undefined"] = undefined or None
        recs.append(rec)
    return pd.DataFrame(recs)


def crossings_frame(results: Any, points: list[Point]) -> pd.DataFrame:
    """Where one curve overtakes another on the same task: between two consecutive
    shared sizes the paired difference (a - b, over seeds and test items) changes sign.
    Each row gives the difference and its CI at both sizes and whether each is
    significant (its CI excludes 0)."""
    curves = _curves(points)
    by_task: dict[str, list[tuple[str, str, str]]] = {}
    for key in curves:
        by_task.setdefault(key[1], []).append(key)
    conf = results.bootstrap.confidence
    recs = []
    for task, keys in by_task.items():
        for i, a in enumerate(keys):
            for b in keys[i + 1:]:
                pa = {q.size: q for q in curves[a]}
                pb = {q.size: q for q in curves[b]}
                shared = [q.size for q in curves[a] if q.size in pb]
                diffs = []
                for size in shared:
                    d = paired_difference(pa[size].by_seed(), pb[size].by_seed(), conf)
                    if d is not None and not d.reason:
                        diffs.append((size, d))
                for (s0, d0), (s1, d1) in zip(diffs, diffs[1:], strict=False):
                    if _sign(d0.value) * _sign(d1.value) < 0:
                        recs.append({
                            "task": task, "a": f"{a[0]} · {a[2]}", "b": f"{b[0]} · {b[2]}",
                            "metric": pa[s0].metric, "from_size": s0, "to_size": s1,
                            "diff_before": d0.value, "before_low": d0.ci_low,
                            "before_high": d0.ci_high,
                            "before_significant": not d0.ci_low <= 0 <= d0.ci_high,
                            "diff_after": d1.value, "after_low": d1.ci_low,
                            "after_high": d1.ci_high,
                            "after_significant": not d1.ci_low <= 0 <= d1.ci_high,
                        })
    return pd.DataFrame(recs)


def _sign(value: float, tol: float = 1e-9) -> int:
    return 0 if abs(value) <= tol else int(np.sign(value))


def size_ranking_frame(results: Any, points: list[Point]) -> pd.DataFrame:
    """Per task, strategy and size: the models ranked by score with tie groups (1 =
    best), whether the order differs from the previous size's (a flip) and whether a
    pair of models in different tie groups there is in reversed different groups here
    (``separable_flip``: a flip the paired bootstrap separates at both sizes)."""
    conf = results.bootstrap.confidence
    groups: dict[tuple[str, str], dict[str, dict[str, Point]]] = {}
    for q in points:
        if q.model in results.baseline_labels:
            continue
        groups.setdefault((q.task, q.strategy), {}).setdefault(q.size, {})[q.model] = q
    recs = []
    for (task, strategy), sizes in groups.items():
        order = sorted(sizes, key=lambda s: np.mean([q.x for q in sizes[s].values()]))
        previous, before = None, {}
        for size in order:
            members = sizes[size]
            if len(members) < 2:
                continue
            aggs = {m: _over_seeds(list(q.by_seed().values()), conf) for m, q in members.items()}
            hib = next(iter(members.values())).higher_is_better
            ties = tie_groups(aggs, hib, conf)
            ranked = sorted(ties, key=lambda m: -aggs[m].value if hib else aggs[m].value)
            flip = previous is not None and [m for m in ranked if m in previous] != [
                m for m in previous if m in ranked]
            separable = previous is not None and any(
                m in before and n in before and before[m] < before[n] and ties[m] > ties[n]
                for m in ties for n in ties)
            recs.append({"task": task, "strategy": strategy, "size": size,
                         "ranking": ranked, "groups": [ties[m] for m in ranked],
                         "flip": bool(flip), "separable_flip": bool(separable),
                         "first_size": previous is None})
            previous, before = ranked, ties
    return pd.DataFrame(recs)


@dataclass
class Curves:
    """Everything ``Results.curves()`` gives: the points and what is read from them."""

    points: pd.DataFrame
    efficiency: pd.DataFrame
    crossings: pd.DataFrame
    ranking: pd.DataFrame

    def __bool__(self) -> bool:
        return not self.points.empty


def curves_of(results: Any) -> Curves:
    points = curve_points(results)
    return Curves(points_frame(results, points), efficiency_frame(results, points),
                  crossings_frame(results, points), size_ranking_frame(results, points))
