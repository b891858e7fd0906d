"""What adapteval keeps in its cache folder between runs (drawn splits, scored cells) is
exactly what computing it again gives, is recomputed when anything it depends on
changes or the kept copy is damaged, and never turns a broken cache into an error."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from scipy import stats
from sklearn.model_selection import train_test_split

from adapteval.contracts.strategy import Predictions
from adapteval.core.memo import Memo
from adapteval.data import task as task_module
from adapteval.kept_scores import SCORES
from adapteval.results import Results
from adapteval.statistics import Undefined, t_interval
from adapteval.store import CellRow
from adapteval.suite.specs import BootstrapSpec


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ADAPTEVAL_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _row(key: str, seed: int, *, constant: bool = False, n: int = 120) -> CellRow:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    pred = np.zeros((2, n), dtype=np.int64) if constant else np.where(
        rng.random((2, n)) < 0.7, y, rng.integers(0, 3, (2, n)))
    proba = rng.dirichlet(np.ones(3), size=(2, n))
    blob = Predictions(y, pred, proba, np.arange(n)).to_bytes()
    return CellRow(key, "s", "m", "t", "kshot", seed, "fp", "tfp", {"name": "kshot"},
                   "multiclass", ["a", "b", "c"], "0", 0.0, 1.0, {"n_test": n}, blob)


def _scores(rows, metrics, **boot):
    return Results(rows, metrics=metrics, bootstrap=BootstrapSpec(n_resamples=200, **boot)).scored


def _same(a, b) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].keys() == b[key].keys()
        for name in a[key]:
            x, y = a[key][name], b[key][name]
            assert type(x) is type(y)
            np.testing.assert_array_equal(x.replicates, y.replicates)
            assert (x.value == y.value or (np.isnan(x.value) and np.isnan(y.value)))
            assert x.spread == y.spread
            assert getattr(x, "reason", None) == getattr(y, "reason", None)


METRICS = ["accuracy", "macro_f1", "mcc", "log_loss"]


def test_kept_scores_equal_scoring_again_bit_for_bit(cache):
    rows = [_row("a", 0), _row("b", 1), _row("c", 2)]
    first = _scores(rows, METRICS)
    assert (cache / "scores.sqlite").is_file()
    with sqlite3.connect(cache / "scores.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM kept").fetchone()[0] == 3
    _same(_scores(rows, METRICS), first)
    (cache / "scores.sqlite").unlink()
    _same(_scores(rows, METRICS), first)  # computed again: the same numbers


def test_an_undefined_score_is_kept_with_its_reason(cache):
    n = 50
    y = np.linspace(0.0, 1.0, n)
    blob = Predictions(y, np.full((1, n), 0.5), None, np.arange(n)).to_bytes()
    rows = [CellRow("flat", "s", "m", "t", "probe", 0, "fp", "tfp", {"name": "probe"},
                    "regression", None, "0", 0.0, 1.0, {"n_test": n}, blob)]
    first = _scores(rows, ["spearman", "mae"])
    kept = _scores(rows, ["spearman", "mae"])
    _same(kept, first)
    assert isinstance(kept["flat"]["spearman"], Undefined)
    assert kept["flat"]["spearman"].reason == "Spearman undefined: constant predictions"
    assert kept["flat"]["mae"].value == pytest.approx(np.abs(y - 0.5).mean())


def test_a_change_in_metrics_or_resampling_scores_again(cache):
    rows = [_row("a", 0)]
    base = _scores(rows, ["accuracy", "log_loss"])
    other = _scores(rows, ["accuracy"])
    assert list(other["a"]) == ["accuracy"]
    _same(other, {"a": {"accuracy": base["a"]["accuracy"]}})
    reseeded = _scores(rows, ["accuracy"], seed=1)
    assert not np.array_equal(reseeded["a"]["accuracy"].replicates,
                              base["a"]["accuracy"].replicates)
    with sqlite3.connect(cache / "scores.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM kept").fetchone()[0] == 3


def test_damaged_kept_scores_are_scored_again(cache):
    rows = [_row("a", 0)]
    first = _scores(rows, METRICS)
    with sqlite3.connect(cache / "scores.sqlite") as db:
        db.execute("UPDATE kept SET value = ?", (b"\x10\x00\x00\x00not json at all",))
    _same(_scores(rows, METRICS), first)


def test_an_unusable_cache_folder_only_costs_the_scoring(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("ADAPTEVAL_CACHE", str(blocker / "cache"))
    rows = [_row("a", 0)]
    _same(_scores(rows, METRICS), _scores(rows, METRICS))
    assert SCORES.get_many(["anything"]) == {}


def test_memo_keeps_the_newest_entries(cache):
    memo = Memo("trial", keep=3)
    for i in range(5):
        memo.put(f"k{i}", bytes([i]))
    assert memo.get_many([f"k{i}" for i in range(5)]) == {"k2": b"\x02", "k3": b"\x03",
                                                          "k4": b"\x04"}


@pytest.mark.parametrize("stratified", [True, False])
def test_kept_splits_equal_scikit_learns(cache, stratified):
    y = np.repeat(np.arange(4), [30, 20, 40, 10])
    idx = np.arange(len(y))
    for seed in (0, 1, 7):
        strat = y if stratified else None
        want = train_test_split(idx, test_size=0.2, random_state=seed, stratify=strat)
        for _ in range(2):  # drawn, then read back
            got = task_module._split(idx, y, 0.2, seed, stratified)
            for g, w in zip(got, want, strict=True):
                np.testing.assert_array_equal(g, w)
        kept = task_module._subsample(idx, y, 25, seed, stratified)
        again = task_module._subsample(idx, y, 25, seed, stratified)
        ref, _ = train_test_split(idx, train_size=25, random_state=seed, stratify=strat)
        np.testing.assert_array_equal(kept, ref)
        np.testing.assert_array_equal(again, ref)
    with sqlite3.connect(cache / "splits.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM kept").fetchone()[0] == 6


def test_a_damaged_kept_split_is_drawn_again(cache):
    y = np.repeat(np.arange(2), 50)
    idx = np.arange(100)
    want = task_module._split(idx, y, 0.3, 0, True)
    with sqlite3.connect(cache / "splits.sqlite") as db:
        db.execute("UPDATE kept SET value = ?", (b"garbage",))
    got = task_module._split(idx, y, 0.3, 0, True)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("n", [2, 3, 5, 10])
def test_seed_interval_is_students_t_interval(n):
    values = np.random.default_rng(n).normal(0.8, 0.05, n)
    for conf in (0.9, 0.95):
        lo, hi = t_interval(values, conf)
        ref = stats.t.interval(conf, n - 1, loc=values.mean(), scale=stats.sem(values))
        assert lo == pytest.approx(ref[0], rel=1e-12) and hi == pytest.approx(ref[1], rel=1e-12)
