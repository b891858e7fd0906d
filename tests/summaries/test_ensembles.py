"""Ensembles from stored predictions: averaged probabilities scored as an extra model row,
and pairwise error overlap checked against a direct count."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score

import adapteval
from adapteval.contracts.strategy import Predictions
from adapteval.core.errors import ConfigError
from adapteval.store import ResultStore
from adapteval.summaries.ensembles import average_predictions

L3 = {"source": "paraphrase-MiniLM-L3-v2-onnx", "name": "L3", "tokenizer": "all-MiniLM-L6-v2"}
ENSEMBLE = "ensemble(L3+tfidf)"


def suite(out, **kw) -> dict:
    return {"name": "ensembles", "models": [L3], "tasks": ["sentiment-yelp"],
            "strategies": ["probe", {"name": "kshot", "samples_per_label": 8, "n_experiments": 3}],
            "seeds": [0, 1], "ensembles": [["L3", "tfidf"]], "output_dir": str(out),
            "bootstrap": {"n_resamples": 300}, **kw}


@pytest.fixture(scope="module")
def run(tmp_path_factory, one_torch_thread):
    out = tmp_path_factory.mktemp("ensembles") / "out"
    res = adapteval.run(suite(out))
    store = ResultStore(out)
    stored = {(r.model, r.strategy, r.seed): Predictions.from_bytes(r.predictions)
              for r in store.rows()}
    store.close()
    return res, stored


@pytest.mark.slow
def test_ensemble_probabilities_are_the_mean_of_the_members(run):
    res, stored = run
    ens = [r for r in res.rows if r.model == ENSEMBLE]
    assert {(r.strategy, r.seed) for r in ens} == {(s, k) for s in ("probe", "kshot") for k in (0, 1)}
    assert not any(key[0] == ENSEMBLE for key in stored)  # computed, never stored
    summary = res.summary().set_index(["model", "task", "strategy", "metric"])
    for strategy in ("probe", "kshot"):
        accs = []
        for seed in (0, 1):
            row = next(r for r in ens if r.strategy == strategy and r.seed == seed)
            got = Predictions.from_bytes(row.predictions)
            a, b = stored[("L3", strategy, seed)], stored[("tfidf", strategy, seed)]
            assert np.array_equal(a.rows, b.rows) and np.array_equal(got.rows, a.rows)
            np.testing.assert_allclose(got.proba, (a.proba + b.proba) / 2, atol=1e-6)
            assert got.proba.shape == a.proba.shape  # k-shot: draw by draw
            assert np.array_equal(got.y_pred, got.proba.argmax(-1))
            accs.append(np.mean([accuracy_score(got.y_true, p) for p in got.y_pred]))
        s = summary.loc[(ENSEMBLE, "sentiment-yelp", strategy, "accuracy")]
        assert s["value"] == pytest.approx(np.mean(accs), abs=1e-9)
        assert s["ci_low"] < s["value"] < s["ci_high"]  # its own bootstrap interval
    assert ENSEMBLE in set(res.flexibility()["model"])


@pytest.mark.slow
def test_members_are_aligned_by_task_row_ids(run):
    _, stored = run
    a, b = stored[("L3", "probe", 0)], stored[("tfidf", "probe", 0)]
    perm = np.random.default_rng(0).permutation(len(b.rows))
    shuffled = Predictions(b.y_true[perm], b.y_pred[:, perm], b.proba[:, perm], b.rows[perm])
    np.testing.assert_allclose(average_predictions([a, shuffled]).proba,
                               average_predictions([a, b]).proba)


@pytest.mark.slow
def test_pairwise_overlap_matches_a_direct_count(run):
    res, stored = run
    overlap = res.ensemble_overlap().set_index(["task", "strategy", "model_a", "model_b"])
    assert ENSEMBLE not in set(overlap.index.get_level_values("model_a")) | set(
        overlap.index.get_level_values("model_b"))
    for strategy in ("probe", "kshot"):
        row = overlap.loc[("sentiment-yelp", strategy, "L3", "tfidf")]
        per_seed = []
        for seed in (0, 1):
            a, b = stored[("L3", strategy, seed)], stored[("tfidf", strategy, seed)]
            draws = []
            for pa, pb in zip(a.y_pred, b.y_pred, strict=True):
                ca, cb = pa == a.y_true, pb == b.y_true
                n11, n00 = np.sum(ca & cb), np.sum(~ca & ~cb)
                n10, n01 = np.sum(ca & ~cb), np.sum(~ca & cb)
                n = n11 + n00 + n10 + n01
                draws.append(((n01 + n10) / n, n00 / n, (n11 + n10 + n01) / n))
            per_seed.append(np.mean(draws, axis=0))
        dis, df, oracle = np.mean(per_seed, axis=0)
        assert row["disagreement"] == pytest.approx(dis)
        assert row["double_fault"] == pytest.approx(df)
        assert row["oracle_accuracy"] == pytest.approx(oracle)
        assert row["oracle_accuracy"] >= max(row["accuracy_a"], row["accuracy_b"])
        assert row["n_seeds"] == 2


@pytest.mark.parametrize(
    ("ensembles", "message"),
    [
        ([["L3", "bert-base"]], "ensembles\\[0\\]: 'bert-base' is not a model of the suite; "
         "use names from: L3, majority, tfidf"),
        ([["L3"]], "ensembles\\[0\\]: list two or more distinct models"),
        ([["L3", "tfidf"], ["tfidf", "tfidf"]], "ensembles\\[1\\]: list two or more distinct"),
    ],
)
def test_bad_ensembles_are_one_line_config_errors(tmp_path, ensembles, message):
    with pytest.raises(ConfigError, match=message) as err:
        adapteval.run(suite(tmp_path / "out", ensembles=ensembles))
    assert "\n" not in str(err.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_reports_count_stored_cells_and_ensemble_combinations_apart(run, tmp_path):
    """12 stored cells (L3, TF-IDF and the majority baseline x probe and k-shot x 2 seeds);
    the 4 ensemble rows are combinations of them, not cells that ran."""
    from adapteval.report import write_report

    res, stored = run
    assert len(stored) == 12 and len(res.rows) == 16
    md = write_report(res, tmp_path / "r.md", fmt="md").read_text()
    assert "12 cells (+4 ensemble combinations), seeds 0, 1" in md
    html = write_report(res, tmp_path / "r.html").read_text()
    assert "<p>12 cells (+4 ensemble combinations) ·" in html
