"""Flexibility beyond one score per task: domain transfer matrices, ensembles of models
and error overlap between them, and one summary row per model.

Everything here is computed from what the store already holds (cell predictions and
``transfer`` / ``compression`` / ``cost`` analysis results); nothing re-runs a model.
Bootstrap intervals use the same resample indices as the score tables
(``metrics.bootstrap_indices``), so a matrix diagonal has exactly the interval of the
cell it comes from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from adapteval.contracts.analysis import AnalysisRow
from adapteval.contracts.strategy import Predictions
from adapteval.core.keys import content_key
from adapteval.metrics import bootstrap_indices, interval
from adapteval.store import CellRow
from adapteval.suite.schema import BootstrapSpec

if TYPE_CHECKING:
    from adapteval.results import Results


@dataclass(frozen=True)
class Estimate:
    """A mean with its bootstrap interval (over test items) and replicates."""

    value: float
    ci_low: float
    ci_high: float
    replicates: np.ndarray


def _estimate(values: list[float], reps: list[np.ndarray], confidence: float) -> Estimate:
    r = np.mean(reps, axis=0)
    lo, hi = interval(r, confidence)
    return Estimate(float(np.mean(values)), lo, hi, r)


# ---------------------------------------------------------------- transfer matrices


@dataclass(frozen=True)
class TransferMatrix:
    """Accuracy of one model and strategy adapted on each source (rows) and evaluated on
    each target (columns), mean over seeds with bootstrap CIs."""

    model: str
    strategy: str
    mode: str  # "tasks" | "domains"
    scope: str  # the task (domains mode) or the group's tasks joined by "+"
    labels: list[str]
    cells: dict[tuple[str, str], Estimate]
    n_seeds: int
    in_domain: Estimate
    out_domain: Estimate
    gap: Estimate  # in_domain - out_domain (paired replicates)
    worst: tuple[str, str, float]  # the lowest off-diagonal (source, target, accuracy)

    def values(self) -> pd.DataFrame:
        """The matrix as a frame: rows = adapted on, columns = evaluated on."""
        return pd.DataFrame(
            [[self.cells[(s, t)].value if (s, t) in self.cells else np.nan for t in self.labels]
             for s in self.labels], index=pd.Index(self.labels, name="source"),
            columns=pd.Index(self.labels, name="target"),
        )

    def to_pandas(self) -> pd.DataFrame:
        """One row per (source, target) pair with its CI."""
        return pd.DataFrame([
            {"model": self.model, "strategy": self.strategy, "scope": self.scope,
             "source": s, "target": t, "in_domain": s == t, "accuracy": e.value,
             "ci_low": e.ci_low, "ci_high": e.ci_high, "n_seeds": self.n_seeds}
            for (s, t), e in self.cells.items()
        ])


def _labels(row: AnalysisRow, target: dict) -> tuple[str, str]:
    if row.result.get("mode") == "domains":
        return str(target["source_domain"]), str(target["domain"])
    return str(row.result["source"]), str(target["task"])


def transfer_matrices(rows: list[AnalysisRow], boot: BootstrapSpec) -> list[TransferMatrix]:
    """Group stored ``transfer`` results by model, strategy, scope and analysis config and
    average each (source, target) cell over seeds."""
    groups: dict[tuple, list[AnalysisRow]] = {}
    for r in rows:
        mode = r.result.get("mode", "tasks")
        scope = r.task if mode == "domains" else "+".join(r.result.get("group") or [r.task])
        cfg = json.dumps({k: v for k, v in r.config.items() if k != "resolved"}, sort_keys=True)
        groups.setdefault((r.model, r.strategy, mode, scope, cfg), []).append(r)
    return [m for key, rs in groups.items() if (m := _matrix(key, rs, boot)) is not None]


def _matrix(key: tuple, rows: list[AnalysisRow], boot: BootstrapSpec) -> TransferMatrix | None:
    model, strategy, mode, scope, _ = key
    per_cell: dict[tuple[str, str], tuple[list[float], list[np.ndarray]]] = {}
    for r in rows:
        for t in r.result["targets"]:
            correct = np.asarray(t["correct"], dtype=np.float64)
            if not len(correct):
                continue
            idx = bootstrap_indices(len(correct), boot.n_resamples, boot.seed)
            vals, reps = per_cell.setdefault(_labels(r, t), ([], []))
            vals.append(float(correct.mean()))
            reps.append(correct[idx].mean(1))
    if not per_cell:
        return None
    conf = boot.confidence
    cells = {k: _estimate(v, r, conf) for k, (v, r) in per_cell.items()}
    # targets come in group (or sorted domain) order within every row: take that order
    labels = list(dict.fromkeys([t for _, t in cells] + [s for s, _ in cells]))
    diag = [e for (s, t), e in cells.items() if s == t]
    off = {k: e for k, e in cells.items() if k[0] != k[1]}
    if not diag or not off:
        return None
    ins = _estimate([e.value for e in diag], [e.replicates for e in diag], conf)
    outs = _estimate([e.value for e in off.values()], [e.replicates for e in off.values()], conf)
    g = ins.replicates - outs.replicates
    lo, hi = interval(g, conf)
    gap = Estimate(ins.value - outs.value, lo, hi, g)
    (ws, wt), we = min(off.items(), key=lambda kv: kv[1].value)
    n_seeds = len({r.seed for r in rows})
    return TransferMatrix(model, strategy, mode, scope, labels, cells, n_seeds, ins, outs, gap,
                          (ws, wt, we.value))


def transfer_summary(matrices: list[TransferMatrix]) -> pd.DataFrame:
    return pd.DataFrame([
        {"model": m.model, "strategy": m.strategy, "mode": m.mode, "scope": m.scope,
         "in_domain": m.in_domain.value, "out_domain": m.out_domain.value,
         "out_ci_low": m.out_domain.ci_low, "out_ci_high": m.out_domain.ci_high,
         "gap": m.gap.value, "gap_ci_low": m.gap.ci_low, "gap_ci_high": m.gap.ci_high,
         "worst_source": m.worst[0], "worst_target": m.worst[1], "worst_accuracy": m.worst[2],
         "n_seeds": m.n_seeds}
        for m in matrices
    ])


# ---------------------------------------------------------------- ensembles


def ensemble_label(members: list[str]) -> str:
    return f"ensemble({'+'.join(members)})"


def _aligned(p: Predictions) -> Predictions:
    """The predictions ordered by task row id, so two cells line up item by item."""
    order = np.argsort(p.rows, kind="stable")
    return Predictions(p.y_true[order], p.y_pred[:, order],
                       p.proba[:, order] if p.proba is not None else None, p.rows[order], p.info)


def average_predictions(members: list[Predictions]) -> Predictions:
    """Averaged-probability ensemble (mean of predicted values for regression). Members
    with the same number of experiments are averaged experiment by experiment; otherwise
    each is first averaged over its experiments."""
    ps = [_aligned(p) for p in members]
    same_e = len({p.y_pred.shape[0] for p in ps}) == 1
    if ps[0].proba is not None:
        probas = [p.proba if same_e else p.proba.mean(0, keepdims=True) for p in ps]
        proba = np.mean(probas, axis=0)
        return Predictions(ps[0].y_true, proba.argmax(-1), proba, ps[0].rows)
    preds = [p.y_pred if same_e else p.y_pred.mean(0, keepdims=True) for p in ps]
    return Predictions(ps[0].y_true, np.mean(preds, axis=0), None, ps[0].rows)


def ensemble_rows(rows: list[CellRow], labels: dict, ensembles: list[list[str]]) -> list[CellRow]:
    """One synthetic cell per ensemble and (task, strategy, seed) that all its members ran,
    built from their stored predictions. Labels for the new keys are added to ``labels``."""
    from adapteval.results import Labels

    by_cell: dict[tuple[str, str, int], dict[str, CellRow]] = {}
    for r in rows:
        lab = labels[r.key]
        by_cell.setdefault((lab.task, lab.strategy, lab.seed), {})[lab.model] = r
    out = []
    for members in ensembles:
        name = ensemble_label(members)
        for (task, strategy, seed), cells in by_cell.items():
            if not all(m in cells for m in members):
                continue
            got = [cells[m] for m in members]
            preds = [Predictions.from_bytes(c.predictions) for c in got]
            if len({tuple(np.sort(p.rows)) for p in preds}) != 1:
                continue  # members saw different test items (different task data)
            ens = average_predictions(preds)
            first = got[0]
            info = {"n_test": len(ens.y_true), "n_train": first.info.get("n_train", 0),
                    "members": members}
            key = content_key({"ensemble": [c.key for c in got]})
            out.append(CellRow(
                key=key, suite=first.suite, model=name, task=first.task, strategy=first.strategy,
                seed=first.seed, model_fingerprint=content_key({"ensemble": members})[:20],
                task_fingerprint=first.task_fingerprint, strategy_config=first.strategy_config,
                task_type=first.task_type, classes=first.classes, version=first.version,
                created_at=max(c.created_at for c in got),
                duration_s=sum(c.duration_s for c in got), info=info,
                predictions=Predictions(ens.y_true, ens.y_pred, ens.proba, ens.rows,
                                        info).to_bytes(),
            ))
            labels[key] = Labels(name, task, strategy, seed)
    return out


def pair_statistics(correct_a: np.ndarray, correct_b: np.ndarray) -> dict[str, float]:
    """Kuncheva & Whitaker (2003) pairwise measures on 0/1 correctness vectors:
    disagreement = (N01 + N10) / N, double fault = N00 / N, and the oracle accuracy
    (at least one of the two right) = 1 - N00 / N."""
    a, b = correct_a.astype(bool), correct_b.astype(bool)
    n = len(a)
    n00 = float(np.sum(~a & ~b))
    disagree = float(np.sum(a != b))
    return {"disagreement": disagree / n, "double_fault": n00 / n, "oracle_accuracy": 1 - n00 / n}


def _correct_matrix(row: CellRow) -> tuple[np.ndarray, np.ndarray]:
    p = _aligned(Predictions.from_bytes(row.predictions))
    return p.rows, p.y_pred == p.y_true[None]


def pairwise_overlap(results: Results) -> pd.DataFrame:
    """Per task, strategy and pair of models (not ensembles, not the majority baseline):
    error-overlap measures, mean over seeds (and over paired k-shot draws)."""
    ens = {ensemble_label(m) for m in results.ensembles}
    skip = ens | ({results.majority_label} if results.majority_label else set())
    by_cell: dict[tuple[str, str, int], dict[str, CellRow]] = {}
    for r in results.rows:
        lab = results.labels[r.key]
        if lab.model not in skip and r.task_type != "regression":
            by_cell.setdefault((lab.task, lab.strategy, lab.seed), {})[lab.model] = r
    order = {m: i for i, m in enumerate(results._order.get("model", []))}
    recs: dict[tuple[str, str, str, str], list[dict[str, float]]] = {}
    for (task, strategy, _seed), cells in by_cell.items():
        correct = {m: _correct_matrix(c) for m, c in cells.items()}
        models = sorted(cells, key=lambda m: (order.get(m, len(order)), m))  # same pair order
        for a, b in combinations(models, 2):
            (ra, ca), (rb, cb) = correct[a], correct[b]
            if not np.array_equal(ra, rb):
                continue
            e = min(len(ca), len(cb))
            stats = [pair_statistics(ca[i], cb[i]) for i in range(e)]
            both = {k: float(np.mean([s[k] for s in stats])) for k in stats[0]}
            both["accuracy_a"], both["accuracy_b"] = float(ca.mean()), float(cb.mean())
            recs.setdefault((task, strategy, a, b), []).append(both)
    out = []
    for (task, strategy, a, b), seeds in recs.items():
        mean = {k: float(np.mean([s[k] for s in seeds])) for k in seeds[0]}
        out.append({"task": task, "strategy": strategy, "model_a": a, "model_b": b, **mean,
                    "n_seeds": len(seeds)})
    return results._sorted(pd.DataFrame(out)) if out else pd.DataFrame(out)


# ---------------------------------------------------------------- summary per model


def _mean_by(rows: list[AnalysisRow], key, field: str) -> dict:
    got: dict = {}
    for r in rows:
        v = r.result.get(field)
        if isinstance(v, int | float):
            got.setdefault(key(r), []).append(float(v))
    return {k: float(np.mean(v)) for k, v in got.items()}


def flexibility_summary(results: Results) -> pd.DataFrame:
    """One row per model and strategy: P_avg (CI), sigma_P and the worst task; the
    out-of-domain gap (CI) when ``transfer`` ran; the retention area when ``compression``
    ran; latency p95 and parameters when ``cost`` ran (cost is per model)."""
    flex = results.flexibility()
    if flex.empty:
        return flex
    gaps: dict[tuple[str, str], list[TransferMatrix]] = {}
    for m in results.transfer_matrix():
        gaps.setdefault((m.model, m.strategy), []).append(m)
    auc = _mean_by(results.analysis("compression"), lambda r: (r.model, r.strategy),
                   "retention_auc")
    cost = results.analysis("cost")
    p95 = _mean_by(cost, lambda r: r.model, "latency_ms_p95")
    params = _mean_by(cost, lambda r: r.model, "params")
    recs = []
    for r in flex.to_dict("records"):
        ms = gaps.get((r["model"], r["strategy"]), [])
        g = (_estimate([m.gap.value for m in ms], [m.gap.replicates for m in ms],
                       results.bootstrap.confidence) if ms else None)
        recs.append({
            **r,
            "ood_gap": g.value if g else np.nan, "ood_gap_ci_low": g.ci_low if g else np.nan,
            "ood_gap_ci_high": g.ci_high if g else np.nan,
            "retention_auc": auc.get((r["model"], r["strategy"]), np.nan),
            "latency_ms_p95": p95.get(r["model"], np.nan),
            "params": params.get(r["model"], np.nan),
        })
    return pd.DataFrame(recs)
