"""Ensembles of models (averaged probabilities, as synthetic cells) and the error overlap
between models (Kuncheva & Whitaker pairwise measures)."""

from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from adapteval.contracts.strategy import Predictions
from adapteval.core.keys import content_key
from adapteval.store import CellRow
from adapteval.summaries.labels import Labels

if TYPE_CHECKING:
    from adapteval.results import Results


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
