"""Domain transfer matrices from stored ``transfer`` results: accuracy of a model adapted
on each source and evaluated on each target, mean over seeds with bootstrap CIs."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from adapteval.contracts.analysis import AnalysisRow
from adapteval.metrics import bootstrap_indices, interval
from adapteval.suite.specs import BootstrapSpec


@dataclass(frozen=True)
class Estimate:
    """A mean with its bootstrap interval (over test items) and replicates."""

    value: float
    ci_low: float
    ci_high: float
    replicates: np.ndarray


def estimate(values: list[float], reps: list[np.ndarray], confidence: float) -> Estimate:
    r = np.mean(reps, axis=0)
    lo, hi = interval(r, confidence)
    return Estimate(float(np.mean(values)), lo, hi, r)


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
    cells = {k: estimate(v, r, conf) for k, (v, r) in per_cell.items()}
    # targets come in group (or sorted domain) order within every row: take that order
    labels = list(dict.fromkeys([t for _, t in cells] + [s for s, _ in cells]))
    diag = [e for (s, t), e in cells.items() if s == t]
    off = {k: e for k, e in cells.items() if k[0] != k[1]}
    if not diag or not off:
        return None
    ins = estimate([e.value for e in diag], [e.replicates for e in diag], conf)
    outs = estimate([e.value for e in off.values()], [e.replicates for e in off.values()], conf)
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


