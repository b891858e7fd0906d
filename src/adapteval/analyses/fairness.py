"""Group fairness of the stored test predictions, for tasks with a group column.

Point values come from fairlearn: per-group accuracy and its largest gap from a
``MetricFrame``, and ``demographic_parity_difference`` / ``equalized_odds_difference``.
Both of the latter are defined for one positive class; a multiclass task is treated one
class against the rest, and the largest difference over classes is reported (for a binary
task this equals the usual binary figure, whichever class is called positive).

Confidence intervals use the paired bootstrap of :func:`adapteval.metrics.bootstrap_indices`
(the same resamples as the cell's accuracy interval): each replicate resamples test items
with their group, label and prediction together, and recomputes every figure. Calling
fairlearn once per replicate would take minutes per cell, so replicates use the vectorised
:func:`group_rates` below, which tests check against fairlearn.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field

from adapteval.analyses._common import classification_only
from adapteval.contracts import digest as dg
from adapteval.contracts.analysis import (
    ANALYSES,
    CLASSIFICATION,
    Analysis,
    AnalysisContext,
    AnalysisRow,
)
from adapteval.contracts.section import PlotSpec, Section
from adapteval.core.errors import ConfigError
from adapteval.core.plugin import UNIT_LOWER, Params
from adapteval.metrics import bootstrap_indices, interval


class FairnessParams(Params):
    column: Literal["group", "domain"] = Field(
        default="group", description="the task column whose values are the groups"
    )
    n_resamples: int | None = Field(
        default=None, ge=100, le=100_000, description="default: the suite's bootstrap setting"
    )
    confidence: float | None = Field(default=None, gt=0.5, lt=1.0)


def group_rates(
    hit: np.ndarray, groups: np.ndarray, n_groups: int, idx: np.ndarray,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Mean of ``hit`` per group over the items of ``mask``, for each resample.

    ``groups`` holds codes ``0..n_groups-1``; ``idx`` is ``(B, n)`` item indices (one
    row per resample). Returns ``(B, n_groups)``, NaN where a resample has no item of
    the group.
    """
    b = idx.shape[0]
    slot = (np.arange(b)[:, None] * n_groups + groups[idx]).ravel()
    weight = np.ones(len(hit)) if mask is None else mask.astype(np.float64)
    counts = np.bincount(slot, weights=weight[idx].ravel(), minlength=b * n_groups)
    sums = np.bincount(slot, weights=(hit * weight)[idx].ravel(), minlength=b * n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sums / counts).reshape(b, n_groups)


def _spread(rates: np.ndarray) -> np.ndarray:
    """Largest minus smallest rate per resample, over groups that have items."""
    ok = np.isfinite(rates).sum(1) > 0
    out = np.full(rates.shape[0], np.nan)
    out[ok] = np.nanmax(rates[ok], 1) - np.nanmin(rates[ok], 1)
    return out


def fairness_replicates(
    y: np.ndarray, pred: np.ndarray, groups: np.ndarray, n_groups: int, n_classes: int,
    idx: np.ndarray,
) -> dict[str, np.ndarray]:
    """Per-resample group accuracies, their gap and the one-vs-rest (max over classes)
    demographic-parity and equalized-odds differences, as fairlearn defines them."""
    acc = group_rates((pred == y).astype(np.float64), groups, n_groups, idx)
    classes = [1] if n_classes == 2 else range(n_classes)
    dp, eo = [], []
    for k in classes:
        chosen, actual = (pred == k).astype(np.float64), y == k
        dp.append(_spread(group_rates(chosen, groups, n_groups, idx)))
        tpr = _spread(group_rates(chosen, groups, n_groups, idx, actual))
        fpr = _spread(group_rates(chosen, groups, n_groups, idx, ~actual))
        eo.append(np.fmax(tpr, fpr))
    return {
        "accuracy": acc, "largest_gap": _spread(acc),
        "demographic_parity_difference": np.fmax.reduce(np.stack(dp), 0),
        "equalized_odds_difference": np.fmax.reduce(np.stack(eo), 0),
    }


def fairlearn_point(
    y: np.ndarray, pred: np.ndarray, groups: np.ndarray, n_classes: int
) -> dict[str, Any]:
    """The point values, computed by fairlearn."""
    from fairlearn.metrics import (
        MetricFrame,
        demographic_parity_difference,
        equalized_odds_difference,
    )
    from sklearn.metrics import accuracy_score

    frame = MetricFrame(metrics=accuracy_score, y_true=y, y_pred=pred, sensitive_features=groups)
    classes = [1] if n_classes == 2 else range(n_classes)
    binary = [((y == k).astype(int), (pred == k).astype(int)) for k in classes]
    dp = [demographic_parity_difference(t, p, sensitive_features=groups) for t, p in binary]
    eo = [equalized_odds_difference(t, p, sensitive_features=groups) for t, p in binary]
    return {
        "by_group": {str(g): float(v) for g, v in frame.by_group.items()},
        "largest_gap": float(frame.difference()),
        "demographic_parity_difference": float(max(dp)),
        "equalized_odds_difference": float(max(eo)),
    }


@ANALYSES.register
class Fairness(Analysis):
    name = "fairness"
    description = "per-group accuracy, largest gap, demographic parity and equalized odds"
    Params = FairnessParams
    needs_predictor = False
    task_types = CLASSIFICATION  # any modality: it reads the stored predictions
    offers = dict.fromkeys(
        ("largest_gap", "demographic_parity_difference", "equalized_odds_difference"), UNIT_LOWER
    )
    params: FairnessParams

    def check(self, plan: Any, *, where: str) -> None:
        if self.tasks is None:
            return
        for name in self.tasks:
            task = plan.task(name)
            reason = self._skip(task)
            if reason:
                raise ConfigError(reason, where=where, fix=f"set {self.params.column}: on the "
                                  "task to the column holding the groups, or drop the task here")

    def _skip(self, task: Any) -> str | None:
        if task.is_regression:
            return f"{task.name} is a regression task; fairness needs class predictions"
        column = self.params.column
        if column not in task.frame:
            return f"task {task.name!r} has no {column} column"
        if task.frame[column].nunique() < 2:
            return f"task {task.name!r} has a single {column} value; fairness compares groups"
        return None

    def applies(self, cell: Any) -> str | None:
        return classification_only(cell, "fairness") or self._skip(cell.task)

    def run(self, ctx: AnalysisContext) -> dict[str, Any]:
        test, preds, cell = ctx.split.test, ctx.predictions, ctx.cell
        assert np.array_equal(test.rows, preds.rows), "stored predictions do not match the split"
        raw = test.groups if self.params.column == "group" else test.domains
        assert raw is not None
        names, codes = np.unique(np.asarray(raw).astype(str), return_inverse=True)
        y = np.asarray(preds.y_true, dtype=np.int64)
        k = len(cell.task.classes or ())
        boot = ctx.plan.suite.bootstrap if ctx.plan is not None else None
        n_boot = self.params.n_resamples or (boot.n_resamples if boot else 1000)
        conf = self.params.confidence or (boot.confidence if boot else 0.95)
        idx = bootstrap_indices(len(y), n_boot, boot.seed if boot else 0)
        points, reps = [], []
        for pred in preds.y_pred.astype(np.int64):  # one per experiment
            points.append(fairlearn_point(y, pred, names[codes], k))
            reps.append(fairness_replicates(y, pred, codes, len(names), k, idx))
        out = self._summary(names, codes, points, reps, conf, n_boot, k)
        spec = cell.task.spec
        named = spec.group if self.params.column == "group" else spec.domain
        out["group_column"] = named or self.params.column
        return out

    def _summary(
        self, names: np.ndarray, codes: np.ndarray, points: list[dict[str, Any]],
        reps: list[dict[str, np.ndarray]], conf: float, n_boot: int, k: int,
    ) -> dict[str, Any]:
        """Average over experiments (points and replicates), as cell metrics do."""
        def mean_reps(key: str) -> np.ndarray:
            return np.mean([r[key] for r in reps], axis=0)

        acc_reps = mean_reps("accuracy")
        groups = [
            {"group": str(g), "n": int(np.sum(codes == j)),
             "accuracy": float(np.mean([p["by_group"][str(g)] for p in points])),
             "accuracy_ci": list(interval(acc_reps[:, j], conf))}
            for j, g in enumerate(names)
        ]
        out: dict[str, Any] = {"group_column": self.params.column, "groups": groups}
        for key in ("largest_gap", "demographic_parity_difference", "equalized_odds_difference"):
            out[key] = float(np.mean([p[key] for p in points]))
            out[f"{key}_ci"] = list(interval(mean_reps(key), conf))
        out["worst_group"] = min(groups, key=lambda g: g["accuracy"])["group"]
        out["multiclass"] = None if k == 2 else "one-vs-rest, largest difference over classes"
        out["n_resamples"], out["confidence"] = n_boot, conf
        return out

    @classmethod
    def sections(cls, rows: list[AnalysisRow], results: Any = None) -> list[Section]:
        """Headline numbers with their CI envelopes, and accuracy per group (a plot per
        model and strategy)."""
        data = digest(rows)
        if data is None:
            return []
        plots = [PlotSpec("fairness-groups", f"Accuracy per group: {m} · {s}", gs)
                 for (m, s), gs in dg.grouped(data["groups"], ("model", "strategy")).items()]
        fields = ["largest_gap", "demographic_parity_difference", "equalized_odds_difference"]
        shown = dg.table(data["summary"], ["model", "strategy", "task", "group_column", *fields],
                         ["model", "strategy", "task", "group column", "largest gap",
                          "demographic parity diff.", "equalized odds diff."],
                         intervals={f: f"{f}_ci" for f in fields})
        return [cls.section(rows, data, title="Fairness", part="acceptability", plots=plots,
                            report_tables=[shown],
                            notes=["Intervals: the envelope of the per-seed bootstrap CIs."])]


def digest(rows: dg.Rows) -> dict[str, Any] | None:
    """The report's part: headline numbers with their CI envelopes, and accuracy per group."""
    fields = ("largest_gap", "demographic_parity_difference", "equalized_odds_difference")
    summary = dg.averaged(rows, fields)
    if not summary:
        return None
    groups = []
    for rec, ((model, strategy, task), rs) in zip(
        summary, dg.grouped(rows, ("model", "strategy", "task")).items(), strict=True
    ):
        rec["group_column"] = rs[0].result.get("group_column")
        for f in fields:
            rec[f"{f}_ci"] = dg.envelope(rs, f"{f}_ci")
        flat = [g for r in rs for g in r.result.get("groups") or [] if "group" in g]
        for (group,), gs in dg.grouped(flat, ("group",)).items():
            groups.append({"model": model, "strategy": strategy, "task": task,
                           "group": str(group), "n": dg.mean(g.get("n") for g in gs),
                           "accuracy": dg.mean(g.get("accuracy") for g in gs)})
    return {"summary": summary, "groups": groups}
