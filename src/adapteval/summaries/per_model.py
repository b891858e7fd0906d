"""One summary row per model and strategy: the score across tasks with the out-of-domain
gap, retention area and cost, each where it was measured."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from adapteval.contracts.analysis import AnalysisRow
from adapteval.summaries.transfer import TransferMatrix, estimate

if TYPE_CHECKING:
    from adapteval.results import Results


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
        g = (estimate([m.gap.value for m in ms], [m.gap.replicates for m in ms],
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
