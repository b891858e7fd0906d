"""A whole suite through the API and the CLI: tables, rerun, resume-by-key, listings."""

from __future__ import annotations

import os
import subprocess
import time

import numpy as np
import pytest
import yaml
from tests.conftest import CLI

import adapteval
from adapteval.store import ResultStore

pytestmark = pytest.mark.slow  # one real run, reused by every test here

SUITE = {
    "name": "small",
    "models": ["all-MiniLM-L6-v2"],
    "tasks": [
        {"name": "yelp", "bundled": "sentiment-yelp"},
        {"name": "spam", "bundled": "sms-spam", "max_train": 300, "max_test": 200},
    ],
    "strategies": ["probe", {"name": "kshot", "samples_per_label": 4, "n_experiments": 3}],
    "seeds": [0, 1],
    "bootstrap": {"n_resamples": 500},
}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("run")
    (d / "suite.yaml").write_text(yaml.safe_dump(SUITE))
    t0 = time.perf_counter()
    results = adapteval.run(d / "suite.yaml")
    return d, results, time.perf_counter() - t0


def test_every_cell_is_scored_with_a_ci(run_dir):
    _, results, _ = run_dir
    frame = results.to_pandas()
    # (MiniLM + majority + tfidf) x 2 tasks x 2 strategies x 2 seeds
    assert len(results) == 24
    assert set(frame["metric"]) == {"accuracy", "macro_f1", "mcc", "log_loss"}
    assert (frame["ci_low"] <= frame["value"]).all() and (frame["value"] <= frame["ci_high"]).all()


def test_pretrained_model_beats_baselines_and_flexibility_is_reported(run_dir):
    _, results, _ = run_dir
    flex = results.flexibility().set_index(["model", "strategy"])
    minilm = flex.loc[("all-MiniLM-L6-v2", "probe")]
    assert minilm["P_avg"] > flex.loc[("majority", "probe")]["P_avg"] + 0.1
    assert minilm["n_tasks"] == 2 and minilm["worst_task"] in ("yelp", "spam")
    accs = results.summary().query("model == 'all-MiniLM-L6-v2' and strategy == 'probe' "
                                   "and metric == 'accuracy'")["value"]
    assert minilm["P_avg"] == pytest.approx(accs.mean())
    assert minilm["sigma_P"] == pytest.approx(accs.std(ddof=0))


def test_gains_are_paired_differences_over_the_tfidf_baseline(run_dir):
    _, results, _ = run_dir
    gains = results.customizability()
    row = gains.query("model == 'all-MiniLM-L6-v2' and strategy == 'probe' and task == 'yelp' "
                      "and over == 'baseline'").iloc[0]
    s = results.summary().set_index(["model", "task", "strategy", "metric"])["value"]
    expected = s[("all-MiniLM-L6-v2", "yelp", "probe", "accuracy")] - s[("tfidf", "yelp", "probe", "accuracy")]
    assert row["gain"] == pytest.approx(expected)
    assert row["ci_low"] < row["gain"] < row["ci_high"]
    assert set(gains["model"]) == {"all-MiniLM-L6-v2"}


def test_rerun_skips_finished_cells_and_prints_the_same_numbers(run_dir):
    d, first, first_seconds = run_dir
    t0 = time.perf_counter()
    again = adapteval.run(d / "suite.yaml")
    assert time.perf_counter() - t0 < first_seconds / 3
    a, b = first.to_pandas(), again.to_pandas()
    np.testing.assert_array_equal(a["value"].to_numpy(), b["value"].to_numpy())
    store = ResultStore(d / "adapteval-results")
    assert store.count() == 24
    store.close()


def test_adding_a_metric_rescores_without_rerunning(run_dir):
    d, _, _ = run_dir
    suite = adapteval.load_suite(d / "suite.yaml").model_copy(update={"metrics": ["mcc"]})
    suite.with_base(d, "suite.yaml")
    results = adapteval.run(suite)
    assert set(results.to_pandas()["metric"]) == {"mcc"} and len(results) == 24


def test_cli_results_table_and_csv(run_dir):
    d, _, _ = run_dir
    table = subprocess.run([*CLI, "results", str(d / "adapteval-results")], capture_output=True,
                           text=True, check=True).stdout
    assert "Flexibility across tasks" in table and "all-MiniLM-L6-v2" in table and "P_avg" in table
    csv_out = subprocess.run([*CLI, "results", str(d / "suite.yaml"), "--format", "csv"],
                             capture_output=True, text=True, check=True).stdout
    assert csv_out.splitlines()[0].startswith("model,task,strategy,seed,metric,value,ci_low,ci_high")
    assert len(csv_out.splitlines()) == 1 + 24 * 4


@pytest.mark.parametrize(("kind", "expected"), [
    ("models", "all-MiniLM-L6-v2"), ("tasks", "sentiment-imdb"),
    ("strategies", "samples_per_label"), ("metrics", "macro_f1"),
])
def test_cli_lists(kind, expected):
    wide = {**os.environ, "COLUMNS": "200"}  # no name cut, whatever ran before in the session
    out = subprocess.run([*CLI, "list", kind], capture_output=True, text=True, check=True,
                         env=wide).stdout
    assert expected in out


def test_python_suite_object_runs_like_yaml(tmp_path):
    suite = adapteval.Suite(
        models=[adapteval.ModelSpec(source="tfidf")],
        tasks=[adapteval.TaskSpec(name="spam", bundled="sms-spam")],
        baselines=[], output_dir=str(tmp_path / "out"),
    )
    results = adapteval.run(suite)
    acc = results.summary().query("metric == 'accuracy'")["value"].iloc[0]
    assert acc > 0.9


def test_stability_reports_spread_over_seeds_and_failures_against_majority(run_dir):
    _, results, _ = run_dir
    stab = results.stability().set_index(["model", "task", "strategy"])
    frame = results.to_pandas().query("metric == 'accuracy'")
    row = stab.loc[("all-MiniLM-L6-v2", "yelp", "probe")]
    seeds = frame.query("model == 'all-MiniLM-L6-v2' and task == 'yelp' and strategy == 'probe'")["value"]
    assert row["n_seeds"] == 2 and row["mean"] == pytest.approx(seeds.mean())
    assert row["std"] == pytest.approx(seeds.std(ddof=1))
    assert (row["min"], row["max"]) == (seeds.min(), seeds.max())
    assert row["failure_rate"] == 0.0
    # 4 TF-IDF examples per label never beat always answering "ham" on imbalanced spam
    assert stab.loc[("tfidf", "spam", "kshot"), "failure_rate"] == 1.0
