"""Calibration and group fairness of real predictions, checked against scikit-learn,
scipy and fairlearn on the 3-domain sentiment sentences (the review site as the group)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from acceptability_data import accuracy, read_domains, stored_predictions
from scipy.optimize import minimize_scalar
from scipy.special import softmax
from sklearn.metrics import brier_score_loss, log_loss

import adapteval
from adapteval.analyses.calibration import cross_fit_temperature
from adapteval.analyses.fairness import fairness_replicates, group_rates
from adapteval.core.errors import ConfigError
from adapteval.metrics import bootstrap_indices

pytestmark = pytest.mark.slow  # real runs of a 720-item task


def suite(tmp_path, tasks, analyses, strategies=("probe",)):
    return {
        "name": "acceptability-test", "models": ["tfidf"], "baselines": [], "tasks": tasks,
        "strategies": list(strategies), "analyses": analyses,
        "output_dir": str(tmp_path / "out"), "bootstrap": {"n_resamples": 200},
    }


@pytest.fixture(scope="module")
def run(domains_csv, tmp_path_factory):
    """tfidf probe and 3-draw k-shot on reviews (binary, group = site) and on site
    prediction (3 classes, group = sentiment label), with calibration and fairness."""
    tmp = tmp_path_factory.mktemp("calfair")
    tasks = [
        {"name": "reviews", "path": str(domains_csv), "group": "site"},
        {"name": "site", "path": str(domains_csv), "label": "site", "group": "label"},
    ]
    res = adapteval.run(suite(tmp, tasks, [
        {"name": "calibration", "n_bins": 10, "temperature": True}, "fairness",
    ], strategies=["probe", {"name": "kshot", "samples_per_label": 16, "n_experiments": 3}]))
    return res, stored_predictions(tmp / "out"), adapteval.plan.build_plan(
        adapteval.api.as_suite(suite(tmp, tasks, []))
    )


def reference_ece(y, proba, n_bins):
    """Top-label ECE written out plainly: right-closed equal-width bins, the first also
    holding 0."""
    conf, hit = proba.max(1), proba.argmax(1) == y
    total = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        inside = (conf > lo) & (conf <= hi) if b else (conf >= lo) & (conf <= hi)
        if inside.any():
            total += inside.mean() * abs(hit[inside].mean() - conf[inside].mean())
    return total


def result_of(res, name, task, strategy):
    rows = [r for r in res.analysis(name) if r.task == task and r.strategy == strategy]
    assert len(rows) == 1
    return rows[0].result


@pytest.mark.parametrize("task", ["reviews", "site"])
def test_calibration_equals_sklearn_and_a_plain_ece(run, task):
    res, stored, _ = run
    got = result_of(res, "calibration", task, "probe")
    p = stored[("tfidf", task, "probe")]
    proba, y = p.proba[0], p.y_true
    k = proba.shape[1]
    assert got["nll"] == pytest.approx(log_loss(y, proba, labels=list(range(k))), rel=1e-9)
    brier = brier_score_loss(y, proba[:, 1]) * 2 if k == 2 else brier_score_loss(
        y, proba, labels=list(range(k)))
    assert got["brier"] == pytest.approx(brier, rel=1e-9)
    assert got["ece"] == pytest.approx(reference_ece(y, proba, 10), abs=1e-12)
    bins = got["bins"]
    assert len(bins) == got["n_bins"] == 10
    assert sum(b["count"] for b in bins) == len(y)
    # the bins hold the top-label accuracy: their weighted mean is the accuracy
    assert sum(b["count"] * b["accuracy"] for b in bins) / len(y) == pytest.approx(accuracy(p))
    assert got["mce"] >= got["ece"]


def test_kshot_calibration_pools_its_draws(run):
    res, stored, _ = run
    got = result_of(res, "calibration", "reviews", "kshot")
    p = stored[("tfidf", "reviews", "kshot")]
    assert got["experiments"] == p.proba.shape[0] == 3
    pooled = p.proba.reshape(-1, 2)
    assert got["nll"] == pytest.approx(log_loss(np.tile(p.y_true, 3), pooled), rel=1e-9)


def test_cross_fitted_temperature_calibrates_each_half_with_the_other_halfs_fit(run):
    res, stored, _ = run
    p = stored[("tfidf", "reviews", "probe")]
    proba, y = p.proba[0], p.y_true
    out, temps, folds = cross_fit_temperature(y, proba, 1, seed=0)
    assert sorted(np.concatenate(folds).tolist()) == list(range(len(y)))
    for (fit, other), t in zip([(folds[0], folds[1]), (folds[1], folds[0])], temps, strict=True):
        best = minimize_scalar(
            lambda g, f=fit: log_loss(y[f], softmax(np.log(proba[f]) / np.exp(g), axis=1),
                                      labels=[0, 1]),
            bounds=(-4, 4), method="bounded", options={"xatol": 1e-9},
        )
        assert t == pytest.approx(np.exp(best.x), rel=1e-3)
        assert np.allclose(out[other], softmax(np.log(proba[other]) / t, axis=1))
    assert np.array_equal(out.argmax(1), proba.argmax(1))  # accuracy never changes
    stored_t = result_of(res, "calibration", "reviews", "probe")["temperature"]
    assert stored_t["fit_on"] == "cross_fit" and stored_t["T_folds"] == pytest.approx(temps)
    assert stored_t["nll"] == pytest.approx(log_loss(y, out), rel=1e-9)


def test_temperature_uses_the_validation_split_when_the_task_has_one(shared, tmp_path):
    frame = read_domains(shared)
    frame = frame[frame.domain == "yelp"].sample(n=450, random_state=1)
    files = {}
    for name, lo, hi in [("train", 0, 250), ("validation", 250, 350), ("test", 350, 450)]:
        files[name] = str(tmp_path / f"{name}.csv")
        frame.iloc[lo:hi][["text", "label"]].to_csv(files[name], index=False)
    task = {"name": "yelp", "files": files}
    res = adapteval.run(suite(tmp_path, [task], [{"name": "calibration", "temperature": True}]))
    got = res.analysis("calibration")[0].result["temperature"]
    assert got["fit_on"] == "validation" and got["n_fit"] == 100 and got["T"] > 0


def test_fit_on_validation_without_a_validation_split_is_a_config_error(domains_csv, tmp_path):
    task = {"name": "reviews", "path": str(domains_csv)}
    with pytest.raises(ConfigError, match="task 'reviews' has no validation split"):
        adapteval.run(suite(tmp_path, [task], [
            {"name": "calibration", "temperature": True, "fit_on": "validation"}]))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("task", ["reviews", "site"])
def test_group_metrics_equal_fairlearn(run, task):
    from fairlearn.metrics import (
        MetricFrame,
        demographic_parity_difference,
        equalized_odds_difference,
    )
    from sklearn.metrics import accuracy_score

    res, stored, plan = run
    got = result_of(res, "fairness", task, "probe")
    p = stored[("tfidf", task, "probe")]
    groups = plan.task(task).split(0).test.groups.astype(str)
    y, pred = p.y_true, p.y_pred[0]
    frame = MetricFrame(metrics=accuracy_score, y_true=y, y_pred=pred, sensitive_features=groups)
    assert {g["group"]: g["accuracy"] for g in got["groups"]} == pytest.approx(
        frame.by_group.to_dict())
    assert {g["group"]: g["n"] for g in got["groups"]} == pd.Series(groups).value_counts().to_dict()
    assert got["largest_gap"] == pytest.approx(frame.difference())
    k = p.proba.shape[-1]
    if k == 2:  # the plain binary definitions
        dp = demographic_parity_difference(y, pred, sensitive_features=groups)
        eo = equalized_odds_difference(y, pred, sensitive_features=groups)
        assert got["multiclass"] is None
    else:  # one class against the rest, the largest over classes
        dp = max(demographic_parity_difference(y == c, pred == c, sensitive_features=groups)
                 for c in range(k))
        eo = max(equalized_odds_difference(y == c, pred == c, sensitive_features=groups)
                 for c in range(k))
        assert "one-vs-rest" in got["multiclass"]
    assert got["demographic_parity_difference"] == pytest.approx(dp)
    assert got["equalized_odds_difference"] == pytest.approx(eo)
    for key in ("largest_gap", "demographic_parity_difference", "equalized_odds_difference"):
        lo, hi = got[f"{key}_ci"]
        assert lo <= got[key] <= hi or np.isclose(got[key], lo) or np.isclose(got[key], hi)
    assert got["group_column"] == ("site" if task == "reviews" else "label")


def test_bootstrap_replicates_equal_fairlearn_on_the_same_resamples(run):
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference

    _, stored, plan = run
    p = stored[("tfidf", "site", "probe")]
    names, codes = np.unique(plan.task("site").split(0).test.groups.astype(str),
                             return_inverse=True)
    y, pred = p.y_true, p.y_pred[0]
    idx = bootstrap_indices(len(y), 200, 0)[:5]
    reps = fairness_replicates(y, pred, codes, len(names), 3, idx)
    for b, rows in enumerate(idx):
        g = names[codes[rows]]
        dp = max(demographic_parity_difference(y[rows] == c, pred[rows] == c,
                                               sensitive_features=g) for c in range(3))
        eo = max(equalized_odds_difference(y[rows] == c, pred[rows] == c,
                                           sensitive_features=g) for c in range(3))
        assert reps["demographic_parity_difference"][b] == pytest.approx(dp)
        assert reps["equalized_odds_difference"][b] == pytest.approx(eo)
    whole = group_rates((pred == y).astype(float), codes, len(names), np.arange(len(y))[None])
    assert whole[0] == pytest.approx([np.mean(pred[codes == j] == y[codes == j])
                                      for j in range(len(names))])


def test_fairness_skips_tasks_without_groups_and_rejects_them_when_named(domains_csv, tmp_path):
    tasks = [{"name": "reviews", "path": str(domains_csv), "group": "site"},
             {"name": "plain", "path": str(domains_csv)}]
    res = adapteval.run(suite(tmp_path, tasks, ["fairness"]))
    assert [r.task for r in res.analysis("fairness")] == ["reviews"]
    fairness = adapteval.plan.build_plan(adapteval.api.as_suite(suite(tmp_path, tasks, [
        "fairness"]))).analyses[0]
    plain = adapteval.plan.build_plan(adapteval.api.as_suite(suite(tmp_path, tasks, []))).cells[1]
    assert fairness.applies(plain) == "task 'plain' has no group column"
    with pytest.raises(ConfigError, match="task 'plain' has no group column"):
        adapteval.run(suite(tmp_path / "x", tasks, [{"name": "fairness", "tasks": ["plain"]}]))
