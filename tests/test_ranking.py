"""Ranking without training, the shortlist, agreement with real results, tie groups."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import adapteval
from adapteval.ranking import ranking_agreement
from adapteval.statistics import Aggregate, tie_groups

SUITE = {
    "name": "rank",
    "models": [
        "all-MiniLM-L6-v2",
        {"source": "all-MiniLM-L6-v2", "name": "random-init", "random_init": True},
    ],
    "tasks": [{"name": "yelp", "bundled": "sentiment-yelp"},
              {"name": "spam", "bundled": "sms-spam", "max_train": 300, "max_test": 200}],
    "strategies": ["probe", {"name": "kshot", "samples_per_label": 4, "n_experiments": 2}],
    "baselines": ["majority", "tfidf"],
    "rank": {"estimators": ["logme", "hscore_shrinkage", "knn_loo", "linear_cv", "gbc"]},
    "shortlist": 1,
    "bootstrap": {"n_resamples": 300},
}


@pytest.fixture(scope="module")
def shortlisted(tmp_path_factory):
    out = tmp_path_factory.mktemp("rank")
    from adapteval.api import run_full

    return (*run_full({**SUITE, "output_dir": str(out)}), out)


@pytest.mark.slow
def test_rank_scores_every_rankable_model_on_every_task(shortlisted):
    _, _, ranking, _ = shortlisted
    s = ranking.scores
    assert set(s["model"]) == {"all-MiniLM-L6-v2", "random-init", "tfidf"}  # majority has no features
    assert len(s) == 3 * 2 * 5
    assert np.isfinite(s["score"]).all()


@pytest.mark.slow
def test_pretrained_model_outranks_its_random_init_control(shortlisted):
    _, _, ranking, _ = shortlisted
    r = ranking.ranks().set_index(["task", "estimator", "model"])["rank"]
    # sentiment needs what pretraining learned; (on SMS spam, random-init features already
    # separate the classes about as well: its probe ties the pretrained one)
    for est in ("logme", "linear_cv", "knn_loo", "hscore_shrinkage", "gbc"):
        assert r[("yelp", est, "all-MiniLM-L6-v2")] < r[("yelp", est, "random-init")], est
    assert ranking.top(1) == ["all-MiniLM-L6-v2"]


@pytest.mark.slow
def test_shortlist_adapts_only_the_top_k_beyond_the_probe(shortlisted):
    results, _, _, _ = shortlisted
    cells = results.to_pandas().drop_duplicates(["model", "task", "strategy", "seed"])
    kshot_models = set(cells.loc[cells["strategy"] == "kshot", "model"])
    probe_models = set(cells.loc[cells["strategy"] == "probe", "model"])
    assert probe_models == {"all-MiniLM-L6-v2", "random-init", "majority", "tfidf"}
    assert kshot_models == {"all-MiniLM-L6-v2", "majority", "tfidf"}


@pytest.mark.slow
def test_agreement_is_kendall_tau_against_the_probe_ranking(shortlisted):
    results, _, ranking, _ = shortlisted
    agreement = ranking_agreement(ranking, results)
    row = agreement.query("task == 'yelp' and strategy == 'probe' and estimator == 'logme'").iloc[0]
    real = results.summary().query("task == 'yelp' and strategy == 'probe' and metric == 'accuracy'")
    est = ranking.scores.query("task == 'yelp' and estimator == 'logme'").set_index("model")["score"]
    models = [m for m in real["model"] if m in est.index]
    expected = stats.kendalltau(est.loc[models].to_numpy(),
                                real.set_index("model").loc[models, "value"].to_numpy()).statistic
    assert row["n_models"] == 3 and row["kendall_tau"] == pytest.approx(expected)
    assert set(agreement["estimator"]) == {"logme", "hscore_shrinkage", "knn_loo", "linear_cv", "gbc"}


@pytest.mark.slow
def test_rank_cli_reports_tau_once_results_exist(shortlisted, tmp_path):
    import subprocess

    import yaml
    from tests.conftest import CLI

    _, _, _, store = shortlisted
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump({**SUITE, "output_dir": str(store)}))
    out = subprocess.run([*CLI, "rank", str(tmp_path / "suite.yaml")], capture_output=True,
                         text=True, check=True)
    assert "Aggregate rank" in out.stdout and "Kendall's tau" in out.stdout
    assert "ranked in" in out.stderr


def _agg(value, reps):
    reps = np.asarray(reps, dtype=float)
    return Aggregate(value, 0.0, float(reps.min()), float(reps.max()), 1, reps)


def test_identical_predictions_tie_and_clear_differences_do_not():
    rng = np.random.default_rng(0)
    base = rng.normal(0.80, 0.02, 1000)
    groups = tie_groups(
        {"a": _agg(0.80, base), "a-copy": _agg(0.80, base), "worse": _agg(0.60, base - 0.2)},
        higher_is_better=True, confidence=0.95,
    )
    assert groups == {"a": 1, "a-copy": 1, "worse": 2}


def test_lower_is_better_metrics_group_from_the_smallest():
    reps = np.random.default_rng(1).normal(0.3, 0.01, 500)
    groups = tie_groups({"low": _agg(0.3, reps), "high": _agg(0.9, reps + 0.6)},
                        higher_is_better=False, confidence=0.95)
    assert groups == {"low": 1, "high": 2}


@pytest.mark.slow
def test_results_report_equivalent_models_as_tied(tmp_path):
    # max_length 255 vs 256 changes the model key but not a single short Yelp sentence
    suite = adapteval.Suite(
        models=[adapteval.ModelSpec(source="all-MiniLM-L6-v2", name="minilm-256"),
                adapteval.ModelSpec(source="all-MiniLM-L6-v2", name="minilm-255", max_length=255)],
        tasks=[adapteval.TaskSpec(name="yelp", bundled="sentiment-yelp")],
        baselines=["majority"], output_dir=str(tmp_path),
    )
    ties = adapteval.run(suite).ties().set_index("model")["tie_group"]
    assert ties["minilm-256"] == ties["minilm-255"] == 1 and ties["majority"] == 2


def test_the_same_model_twice_is_a_config_error(tmp_path):
    suite = adapteval.Suite(
        models=[adapteval.ModelSpec(source="tfidf", name="a"), adapteval.ModelSpec(source="tfidf", name="b")],
        tasks=[adapteval.TaskSpec(name="yelp", bundled="sentiment-yelp")], output_dir=str(tmp_path),
    )
    with pytest.raises(adapteval.ConfigError, match="same model"):
        adapteval.run(suite)


@pytest.mark.slow
def test_rank_scores_are_stored_and_read_back_without_recomputing(shortlisted, tmp_path):
    import sqlite3

    import yaml

    _, _, ranking, store = shortlisted
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump({**SUITE, "output_dir": str(store)}))
    rows = sqlite3.connect(store / "results.sqlite").execute("SELECT COUNT(*) FROM rank_scores").fetchone()[0]
    assert rows == 3 * 2 * 5
    again, _ = adapteval.rank(tmp_path / "suite.yaml")
    merged = ranking.scores.merge(again.scores, on=["model", "task", "estimator"])
    assert len(merged) == 30 and (merged["score_x"] == merged["score_y"]).all()
    assert (merged["seconds_x"] == merged["seconds_y"]).all()  # read back, not recomputed
