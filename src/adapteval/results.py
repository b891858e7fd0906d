"""Results: stored cells scored with the suite's metrics, as tables.

Scores are computed from the stored predictions each time results are read, so adding
a metric to a suite never re-runs a model. ``to_pandas()`` gives one row per cell and
metric; ``summary()``, ``flexibility()``, ``customizability()`` and ``ladder()`` aggregate
them.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from adapteval.contracts.analysis import AnalysisRow
from adapteval.kept_scores import score_rows
from adapteval.metrics import (
    METRICS,
    Metric,
    Scored,
    bootstrap_indices,
    interval,
    metrics_for,
)
from adapteval.statistics import (
    NO_FINITE_CI,
    ONE_SEED,
    Aggregate,
    over_seeds,
    over_tasks,
    paired_difference,
    reason_of,
    tie_groups,
)
from adapteval.store import CellRow
from adapteval.suite.specs import BootstrapSpec
from adapteval.summaries.curves import Curves, curves_of
from adapteval.summaries.ensembles import ensemble_label, ensemble_rows, pairwise_overlap
from adapteval.summaries.labels import Labels
from adapteval.summaries.ladder import BASELINE_REFERENCES, ladder_frame, ladder_rungs
from adapteval.summaries.per_model import flexibility_summary
from adapteval.summaries.transfer import TransferMatrix, transfer_matrices, transfer_summary
from adapteval.verdict import Verdict, verdict

if TYPE_CHECKING:
    from adapteval.plan import Plan

PROMPTING_REFERENCE = "zeroshot"
"""The strategy a model's own prompting gain is measured over (``over: prompting``)."""


class Results:
    """Scored cells of one suite (or of a whole store)."""

    def __init__(
        self,
        rows: list[CellRow],
        *,
        labels: dict[str, Labels] | None = None,
        metrics: list[str] | None = None,
        bootstrap: BootstrapSpec | None = None,
        order: dict[str, list[str]] | None = None,
        analyses: list[AnalysisRow] | None = None,
        plan: Plan | None = None,
        ensembles: list[list[str]] | None = None,
    ) -> None:
        # learning-curve points are read by ``curves()``, not the per-strategy tables
        self.curve_rows = [r for r in rows if "curve" in (r.strategy_config or {})]
        rows = [r for r in rows if "curve" not in (r.strategy_config or {})]
        self.rows = rows
        self.plan = plan  # the suite's plan, when read through one (criteria, order)
        self.analyses = analyses or []
        self.labels = labels or {
            r.key: Labels(r.model, r.task, r.strategy, r.seed) for r in rows + self.curve_rows
        }
        self.ensembles = [list(e) for e in ensembles or []]
        if self.ensembles:  # averaged-probability ensembles become rows like any model's
            self.labels = dict(self.labels)
            self.rows = rows + ensemble_rows(rows, self.labels, self.ensembles)
        self.requested = metrics
        self.bootstrap = bootstrap or BootstrapSpec()
        self._order = dict(order or {})
        self._resamples: dict[int, np.ndarray] = {}
        if self.ensembles and "model" in self._order:
            self._order["model"] = [*self._order["model"],
                                    *(ensemble_label(e) for e in self.ensembles)]
        # baseline label -> kind ("majority" | "tfidf"), from fingerprints "<kind>-baseline-v1"
        self.baselines = {
            self.labels[r.key].model: r.model_fingerprint.split("-baseline-")[0]
            for r in rows if "-baseline-" in r.model_fingerprint
        }
        self.baseline_labels = set(self.baselines)
        self.majority_label = next(
            (m for m, kind in self.baselines.items() if kind == "majority"), None
        )

    def __len__(self) -> int:
        return len(self.rows)

    def verdict(self) -> list[dict] | None:
        """The acceptance verdict of each candidate model × strategy, one entry each with
        its rules (measured value, threshold, pass/fail; a value with none fails and says why
        in ``undefined``); None when the results were not read
        through a suite with ``criteria:``."""
        judged = self.judgement
        if judged is None:
            return None
        return [
            {"model": c.model, "strategy": c.strategy, "acceptable": c.acceptable,
             "rules": [{"rule": k.rule, "value": k.value, "where": k.where,
                        "statistic": k.statistic, "passed": k.passed, "note": k.note,
                        "undefined": {"value": k.undefined} if k.undefined else None}
                       for k in c.checks]}
            for c in judged.candidates
        ]

    @cached_property
    def judgement(self) -> Verdict | None:
        """The acceptance verdict over every candidate, judged once per result set; None
        without criteria."""
        plan = self.plan
        return None if plan is None or not plan.criteria else verdict(self, plan)

    def analysis(self, name: str) -> list[AnalysisRow]:
        """Stored results of one analysis (e.g. ``"robustness"``), in plan order."""
        return [a for a in self.analyses if a.name == name]

    def transfer_matrix(self) -> list[TransferMatrix]:
        """Domain transfer matrices from stored ``transfer`` results: one per model,
        strategy and task group (or domain task), mean over seeds with bootstrap CIs."""
        return list(self._transfer_matrices)

    @cached_property
    def _transfer_matrices(self) -> list[TransferMatrix]:
        return transfer_matrices(self.analysis("transfer"), self.bootstrap)

    def transfer_summary(self) -> pd.DataFrame:
        """One row per transfer matrix: in-domain and out-of-domain means, gap, worst pair."""
        return transfer_summary(self.transfer_matrix())

    def ensemble_overlap(self) -> pd.DataFrame:
        """Pairwise error overlap (disagreement, double fault, oracle accuracy) per task."""
        return pairwise_overlap(self)

    def flexibility_summary(self) -> pd.DataFrame:
        """Per model and strategy: P_avg, sigma_P, worst task, out-of-domain gap, retention
        area and cost, each where it was measured."""
        return flexibility_summary(self)

    def metrics_of(self, task_type: str) -> list[Metric]:
        return metrics_for(task_type, self.requested)

    def resamples(self, n: int) -> np.ndarray:
        """The bootstrap resample indices of a test split of ``n`` items: the same for
        every cell of that size (drawn once per size)."""
        if n not in self._resamples:
            self._resamples[n] = bootstrap_indices(n, self.bootstrap.n_resamples,
                                                   self.bootstrap.seed)
        return self._resamples[n]

    @cached_property
    def scored(self) -> dict[str, dict[str, Scored]]:
        """key -> metric name -> Scored (``statistics.Undefined``, with its reason, where the
        metric has no value on the cell); kept across reads (:mod:`adapteval.kept_scores`)."""
        return score_rows(self.rows, self.metrics_of, self.resamples, self.bootstrap)

    def _sorted(self, frame: pd.DataFrame) -> pd.DataFrame:
        for col, order in self._order.items():
            if col in frame and order:
                frame[col] = pd.Categorical(frame[col], categories=order, ordered=True)
        keys = [c for c in ("model", "task", "strategy", "seed", "metric") if c in frame]
        frame = frame.sort_values(keys, kind="stable").reset_index(drop=True)
        for col in self._order:
            if col in frame:
                frame[col] = frame[col].astype(str)
        return frame

    def to_pandas(self) -> pd.DataFrame:
        """One row per cell and metric, with the 95% (or configured) bootstrap CI;
        ``undefined`` maps a NaN field to why it has no value (None: all defined)."""
        recs = []
        for r in self.rows:
            lab = self.labels[r.key]
            for name, s in self.scored[r.key].items():
                lo, hi = interval(s.replicates, self.bootstrap.confidence)
                why = reason_of(s)
                undefined = ({"value": why, "ci": why} if why else
                             None if np.isfinite(lo) else {"ci": NO_FINITE_CI})
                recs.append({
                    "model": lab.model, "task": lab.task, "strategy": lab.strategy,
                    "seed": lab.seed, "metric": name, "value": s.value, "ci_low": lo,
                    "ci_high": hi, "spread": s.spread, "n_test": int(r.info.get("n_test", 0)),
                    "n_train": int(r.info.get("n_train", 0)), "seconds": r.duration_s,
                    "task_type": r.task_type, "key": r.key, "undefined": undefined,
                })
        return self._sorted(pd.DataFrame(recs))

    def _groups(self) -> dict[tuple[str, str, str], dict[int, str]]:
        """(model, task, strategy) -> seed -> cell key."""
        g: dict[tuple[str, str, str], dict[int, str]] = {}
        for r in self.rows:
            lab = self.labels[r.key]
            g.setdefault((lab.model, lab.task, lab.strategy), {})[lab.seed] = r.key
        return g

    @cached_property
    def _task_types(self) -> dict[str, str]:
        return {self.labels[r.key].task: r.task_type for r in self.rows}

    def primary_metric(self, task: str) -> Metric:
        return self.metrics_of(self._task_types[task])[0]

    @cached_property
    def aggregates(self) -> dict[tuple[str, str, str, str], Aggregate]:
        """(model, task, strategy, metric) -> aggregate over seeds."""
        out = {}
        for (model, task, strategy), seeds in self._groups().items():
            metric_names = self.scored[next(iter(seeds.values()))].keys()
            for name in metric_names:
                out[(model, task, strategy, name)] = over_seeds(
                    [self.scored[k][name] for k in seeds.values()], self.bootstrap.confidence
                )
        return out

    def summary(self) -> pd.DataFrame:
        """Per model, task, strategy and metric: mean ± std over seeds and the CI
        (``undefined``: what has no value and why, e.g. the std of one seed)."""
        recs = [
            {"model": m, "task": t, "strategy": s, "metric": name, "value": a.value,
             "std": a.std, "ci_low": a.ci_low, "ci_high": a.ci_high, "n_seeds": a.n_seeds,
             "kshot_spread": a.spread, "undefined": dict(a.undefined) or None}
            for (m, t, s, name), a in self.aggregates.items()
        ]
        return self._sorted(pd.DataFrame(recs))

    def stability(self) -> pd.DataFrame:
        """Per model, task and strategy over seeds: mean, std, min, max of the primary metric,
        and the failure rate: the share of seeds whose score is not better than the
        majority-class baseline on the same split (a known fine-tuning failure mode).
        ``undefined`` maps each NaN field to why (one seed, an undefined score, no
        majority baseline)."""
        groups = self._groups()
        majority = self.majority_label
        recs = []
        for (m, t, s), seeds in groups.items():
            metric = self.primary_metric(t)
            scored = {seed: self.scored[k][metric.name] for seed, k in seeds.items()}
            values = {seed: sc.value for seed, sc in scored.items()}
            arr = np.array(list(values.values()))
            why = next((r for sc in scored.values() if (r := reason_of(sc))), None)
            undefined = dict.fromkeys(("mean", "std", "min", "max", "failure_rate"), why) \
                if why else {}
            if len(arr) < 2:
                undefined.setdefault("std", ONE_SEED)
            rec = {"model": m, "task": t, "strategy": s, "metric": metric.name,
                   "n_seeds": len(arr), "mean": arr.mean(),
                   "std": arr.std(ddof=1) if len(arr) > 1 else np.nan,
                   "min": arr.min(), "max": arr.max(), "failure_rate": np.nan}
            ref = groups.get((majority, t, "probe")) if majority and m != majority else None
            if ref and not why:
                sign = 1 if metric.higher_is_better else -1
                base = {seed: self.scored[ref[seed]][metric.name] for seed in values
                        if seed in ref}
                base_why = next((r for sc in base.values() if (r := reason_of(sc))), None)
                fails = [sign * (values[seed] - b.value) <= 1e-12 for seed, b in base.items()]
                if base_why:
                    undefined["failure_rate"] = (f"failure rate undefined: the majority "
                                                 f"baseline's {base_why}")
                elif fails:
                    rec["failure_rate"] = float(np.mean(fails))
            if not why and np.isnan(rec["failure_rate"]):
                undefined.setdefault("failure_rate", "failure rate undefined: " + (
                    "the majority baseline itself" if m == majority
                    else "no majority baseline on the same seeds"))
            rec["undefined"] = undefined or None
            recs.append(rec)
        return self._sorted(pd.DataFrame(recs))

    def ties(self) -> pd.DataFrame:
        """Per task: every model and strategy with its tie group on the primary metric
        (1 = best; entries in one group are not separable by a paired bootstrap)."""
        recs = []
        for task in dict.fromkeys(self.labels[r.key].task for r in self.rows):
            metric = self.primary_metric(task)
            entries = {(m, s): a for (m, t, s, name), a in self.aggregates.items()
                       if t == task and name == metric.name}
            same_items = len({a.replicates.shape for a in entries.values()}) == 1
            if not same_items:
                continue
            groups = tie_groups(entries, metric.higher_is_better, self.bootstrap.confidence)
            recs += [{"task": task, "model": m, "strategy": s, "metric": metric.name,
                      "value": entries[(m, s)].value, "tie_group": g}
                     for (m, s), g in groups.items()]
        return pd.DataFrame(recs)

    def flexibility(self) -> pd.DataFrame:
        """Per model and strategy: P_avg (CI), sigma_P and the worst task, on each task's
        primary metric (tasks are grouped by metric so only like is averaged with like);
        ``undefined`` says which have no value and why (sigma_P over one task)."""
        groups: dict[tuple[str, str, str], dict[str, Aggregate]] = {}
        for (m, t, s, name), a in self.aggregates.items():
            if name == self.primary_metric(t).name:
                groups.setdefault((m, s, name), {})[t] = a
        recs = []
        for (m, s, name), per_task in groups.items():
            f = over_tasks(per_task, METRICS.get(name).higher_is_better, self.bootstrap.confidence)
            recs.append({
                "model": m, "strategy": s, "metric": name, "P_avg": f.p_avg,
                "ci_low": f.ci_low, "ci_high": f.ci_high, "sigma_P": f.sigma_p,
                "worst_task": f.worst_task, "worst_score": f.worst_score, "n_tasks": f.n_tasks,
                "undefined": dict(f.undefined) or None,
            })
        return self._sorted(pd.DataFrame(recs))

    def customizability(self) -> pd.DataFrame:
        """Gain of each model and strategy over the TF-IDF baseline (same strategy if it ran,
        else its probe), over the model's own frozen probe and over its own zero-shot
        prompt (``over: prompting``, when it ran), paired by seed."""
        groups = self._groups()
        recs = []
        for (m, t, s), seeds in groups.items():
            if m in self.baseline_labels:
                continue
            name = self.primary_metric(t).name
            mine = {seed: self.scored[k][name] for seed, k in seeds.items()}
            refs = []
            for base in sorted(m for m, k in self.baselines.items() if k in BASELINE_REFERENCES):
                if base != m:
                    ref_s = s if (base, t, s) in groups else "probe"
                    refs.append(("baseline", f"{base} · {ref_s}", groups.get((base, t, ref_s))))
            if s != "probe":
                refs.append(("probe", f"{m} · probe", groups.get((m, t, "probe"))))
            if s != PROMPTING_REFERENCE:
                refs.append(("prompting", f"{m} · {PROMPTING_REFERENCE}",
                             groups.get((m, t, PROMPTING_REFERENCE))))
            for kind, ref_label, ref_seeds in refs:
                if not ref_seeds:
                    continue
                theirs = {seed: self.scored[k][name] for seed, k in ref_seeds.items()}
                d = paired_difference(mine, theirs, self.bootstrap.confidence)
                if d is None:
                    continue
                recs.append({
                    "model": m, "task": t, "strategy": s, "metric": name, "over": kind,
                    "reference": ref_label, "gain": d.value, "std": d.std,
                    "ci_low": d.ci_low, "ci_high": d.ci_high, "n_seeds": d.n_seeds,
                    "undefined": {("gain" if k == "value" else k): v
                                  for k, v in d.undefined.items()} or None,
                })
        return self._sorted(pd.DataFrame(recs))

    @cached_property
    def rungs(self) -> dict[str, float]:
        """Strategy label -> its place on the customizability ladder (``Strategy.rung``)."""
        return ladder_rungs(self)

    def ladder(self) -> pd.DataFrame:
        """Per model and task, the strategies on the customizability ladder in rung order,
        with gains over the rung below and over the baseline (see ``summaries.ladder``)."""
        return ladder_frame(self)

    @cached_property
    def curve_summary(self) -> Curves:
        """Learning curves (see ``summaries.curves``): every point, label efficiency,
        crossings and the model ranking at each size; empty without curve cells."""
        return curves_of(self)

    def curves(self) -> Curves:
        return self.curve_summary

