"""Calibration of the stored test probabilities: ECE, MCE, Brier, NLL and the
reliability-diagram bins, with optional temperature scaling.

The numbers come from the cell's stored test predictions, so calibration never re-runs a
model unless a temperature is fitted on a validation split. When a cell has several
experiments (k-shot draws), their predictions are pooled: the figures describe the
strategy's predictions as a whole.

Where the temperature is fitted (``fit_on``):

- ``validation``: on the task's own validation split, scored by the cell's predictor;
  the fitted ``T`` is then applied to the stored test probabilities. This is the textbook
  recipe and is used by ``auto`` whenever the task has a validation split.
- ``cross_fit``: the test items are split in two seeded halves; ``T`` fitted on one half
  calibrates the other, both ways, and the metrics are measured on the whole split. No
  test item is calibrated by a temperature that saw it, so the "after" numbers are honest
  even without a validation split (``auto`` uses it when the task has none). Training
  data is never used: a model's probabilities on its own training items are
  over-confident and would fit the wrong temperature.

Stored probabilities stand in for logits (``log p``): for softmax and logistic models
``softmax(log p / T)`` equals ``softmax(z / T)`` exactly, since the two differ by a
per-item constant.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field

from adapteval.analyses._common import as_stored, classification_only
from adapteval.calibration.reliability import (
    brier_score,
    negative_log_likelihood,
    reliability_diagram,
)
from adapteval.calibration.temperature import apply_temperature, fit_temperature, proba_to_logits
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
from adapteval.core.plugin import NONNEGATIVE_LOWER, UNIT_LOWER, Number, Params


class CalibrationParams(Params):
    n_bins: int = Field(default=15, ge=2, le=1000)
    strategy: Literal["uniform", "quantile"] = Field(
        default="uniform", description="uniform: equal-width bins; quantile: equal-mass bins"
    )
    temperature: bool = Field(default=False, description="also fit temperature scaling")
    fit_on: Literal["auto", "validation", "cross_fit"] = Field(
        default="auto", description="where T is fitted; auto: validation split if any"
    )


def calibration_metrics(
    y: np.ndarray, proba: np.ndarray, n_bins: int, strategy: str
) -> dict[str, Any]:
    """ECE, MCE, Brier, NLL and the reliability bins of one set of predictions."""
    diagram = reliability_diagram(y_true=y, proba=proba, n_bins=n_bins, strategy=strategy)
    bins = [
        {"lo": float(diagram.edges[b]), "hi": float(diagram.edges[b + 1]),
         "confidence": float(diagram.mean_confidence[b]),
         "accuracy": float(diagram.accuracy[b]), "count": int(diagram.counts[b])}
        for b in range(diagram.n_bins)
    ]
    return {
        "ece": diagram.ece, "mce": diagram.mce,
        "brier": brier_score(y_true=y, proba=proba),
        "nll": negative_log_likelihood(y_true=y, proba=proba),
        "bins": bins,
    }


def cross_fit_temperature(
    y: np.ndarray, proba: np.ndarray, experiments: int, seed: int
) -> tuple[np.ndarray, list[float], list[np.ndarray]]:
    """Two-fold cross-fitted temperature scaling of pooled predictions.

    ``proba`` holds ``experiments`` blocks of the same ``n`` items; the halves split
    items, not rows, so one item's predictions from every experiment stay in one fold.
    Returns the calibrated probabilities, the two temperatures and the two folds (item
    positions); the temperature fitted on ``folds[0]`` calibrates ``folds[1]`` and back.
    """
    n = len(y) // experiments
    perm = np.random.default_rng([seed, n, 2]).permutation(n)
    folds = [np.sort(perm[: n // 2]), np.sort(perm[n // 2 :])]
    logits = proba_to_logits(proba)
    out = np.empty_like(proba)
    temps = []
    for fit, apply in ((folds[0], folds[1]), (folds[1], folds[0])):
        fit_rows = (fit[None, :] + n * np.arange(experiments)[:, None]).ravel()
        apply_rows = (apply[None, :] + n * np.arange(experiments)[:, None]).ravel()
        t = fit_temperature(logits=logits[fit_rows], y_true=y[fit_rows])
        out[apply_rows] = apply_temperature(logits[apply_rows], t)
        temps.append(t)
    return out, temps, folds


@ANALYSES.register
class Calibration(Analysis):
    name = "calibration"
    description = "ECE, MCE, Brier, NLL, reliability bins; optional temperature scaling"
    Params = CalibrationParams
    task_types = CLASSIFICATION
    offers = {"ece": UNIT_LOWER, "mce": UNIT_LOWER,
              "brier": Number(0.0, 2.0, higher_is_better=False), "nll": NONNEGATIVE_LOWER}
    params: CalibrationParams
    _validation_tasks: frozenset[str] = frozenset()

    @property
    def needs_predictor(self) -> bool:  # type: ignore[override]
        """Only a validation-fitted temperature scores new texts; decided at plan time."""
        return bool(self._validation_tasks)

    def check(self, plan: Any, *, where: str) -> None:
        p = self.params
        tasks = [t for t in plan.tasks if self.tasks is None or t.name in self.tasks]
        tasks = [t for t in tasks if not t.is_regression]
        with_val = {t.name for t in tasks if (t.frame["split"] == "validation").any()}
        if p.temperature and p.fit_on == "validation":
            missing = [t.name for t in tasks if t.name not in with_val]
            if missing:
                raise ConfigError(
                    f"fit_on: validation, but task {missing[0]!r} has no validation split",
                    where=where, fix="use fit_on: auto (cross-fits on the test split) or "
                    "give the task a validation file / split value",
                )
        use_val = p.temperature and p.fit_on in ("auto", "validation")
        self._validation_tasks = frozenset(with_val) if use_val else frozenset()

    def applies(self, cell: Any) -> str | None:
        return classification_only(cell, "calibration")

    def run(self, ctx: AnalysisContext) -> dict[str, Any]:
        preds, p = as_stored(ctx.predictions), self.params
        assert preds.proba is not None
        experiments = preds.proba.shape[0]
        proba = preds.proba.reshape(-1, preds.proba.shape[-1])
        y = np.tile(np.asarray(preds.y_true, dtype=np.int64), experiments)
        result: dict[str, Any] = {
            **calibration_metrics(y, proba, p.n_bins, p.strategy),
            "n_bins": p.n_bins, "strategy": p.strategy, "n_items": len(preds.y_true),
            "experiments": experiments, "temperature": None,
        }
        if p.temperature:
            result["temperature"] = self._temperature(ctx, y, proba, experiments)
        return result

    def _temperature(
        self, ctx: AnalysisContext, y: np.ndarray, proba: np.ndarray, experiments: int
    ) -> dict[str, Any]:
        p, val = self.params, ctx.split.validation
        if ctx.cell.task.name in self._validation_tasks and val is not None and len(val):
            assert ctx.predictor is not None
            val_proba = ctx.predictor.scores(val.items, val.pairs)
            t = fit_temperature(logits=proba_to_logits(val_proba), y_true=val.y)
            after = apply_temperature(proba_to_logits(proba), t)
            fitted = {"T": t, "fit_on": "validation", "n_fit": len(val)}
        else:
            after, temps, _ = cross_fit_temperature(y, proba, experiments, ctx.cell.seed)
            fitted = {"T": float(np.exp(np.mean(np.log(temps)))), "T_folds": temps,
                      "fit_on": "cross_fit", "n_fit": len(y) // experiments // 2}
        metrics = calibration_metrics(y, after, p.n_bins, p.strategy)
        return {**fitted, **{k: metrics[k] for k in ("ece", "mce", "brier", "nll")},
                "bins": metrics["bins"]}

    @classmethod
    def sections(cls, rows: list[AnalysisRow], results: Any = None) -> list[Section]:
        """Headline numbers with the fitted temperature, and a reliability diagram per
        model and strategy (the pooled bins)."""
        data = digest(rows)
        if data is None:
            return []
        plots = [PlotSpec("reliability-diagram", f"Reliability diagram: {m} · {s}", ds)
                 for (m, s), ds in dg.grouped(data["diagrams"], ("model", "strategy")).items()
                 if any(d["bins"] for d in ds)]
        shown = dg.table(data["summary"], ["model", "strategy", "task", "ece", "mce", "brier",
                                           "nll", "n_bins", "T", "ece_after"],
                         ["model", "strategy", "task", "ECE", "MCE", "Brier", "NLL", "bins",
                          "temperature", "ECE after scaling"])
        return [cls.section(rows, data, title="Calibration", part="acceptability", plots=plots,
                            report_tables=[shown])]


def digest(rows: dg.Rows) -> dict[str, Any] | None:
    """The report's part: headline numbers (with the fitted temperature) and the pooled reliability bins."""
    summary = dg.averaged(rows, ("ece", "mce", "brier", "nll"))
    if not summary:
        return None
    diagrams = []
    for rec, ((model, strategy, task), rs) in zip(
        summary, dg.grouped(rows, ("model", "strategy", "task")).items(), strict=True
    ):
        bins = {r.result.get("n_bins") for r in rs} - {None}  # a setting: an integer, not a mean
        rec["n_bins"] = int(bins.pop()) if len(bins) == 1 else None
        temps = [r.result.get("temperature") for r in rs if r.result.get("temperature")]
        if temps:
            rec["T"] = dg.mean(t.get("T") for t in temps)
            rec["ece_after"] = dg.mean(t.get("ece") for t in temps)
        diagrams.append({"model": model, "strategy": strategy, "task": task,
                         "bins": pooled_bins([r.result for r in rs])})
    return {"summary": summary, "diagrams": diagrams}


def pooled_bins(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reliability bins of several seeds merged: count-weighted confidence and accuracy
    per bin (bins with the same edges)."""
    acc: dict[tuple[float, float], list[float]] = {}
    for res in results:
        for b in res.get("bins") or []:
            n = b.get("count") or 0
            if not n or b.get("confidence") is None or b.get("accuracy") is None:
                continue
            s = acc.setdefault((b["lo"], b["hi"]), [0.0, 0.0, 0.0])
            s[0] += n
            s[1] += n * b["confidence"]
            s[2] += n * b["accuracy"]
    return [{"lo": lo, "hi": hi, "count": int(n), "confidence": c / n, "accuracy": a / n}
            for (lo, hi), (n, c, a) in sorted(acc.items())]
