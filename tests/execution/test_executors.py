"""Executors: the same suite and seeds give byte-identical stored predictions and the
same analysis results in this process, in two worker processes and on a real local Ray
cluster of 2 CPUs; and two fresh runs of one suite store the very same numbers."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

import adapteval
from adapteval.analyses import ANALYSES, Analysis

SUITE = {
    "name": "executors",
    "models": ["all-MiniLM-L6-v2"],
    "baselines": ["tfidf"],
    "tasks": [{"name": "amazon", "bundled": "sentiment-amazon", "max_train": 100, "max_test": 40},
              {"name": "spam", "bundled": "sms-spam", "max_train": 100, "max_test": 40}],
    "strategies": ["probe", {"name": "kshot", "samples_per_label": 4, "n_experiments": 2}],
    "analyses": [{"name": "test-where", "strategies": ["probe"]}],
    "seeds": [0],
    "bootstrap": {"n_resamples": 200},
}


class WhereAndUpper(Analysis):
    """Accuracy on upper-cased test texts, through the cell's predictor; records the
    process it ran in, to show analyses run beside their cell."""

    name = "test-where"

    def run(self, ctx):
        texts = ctx.split.test.items[:40]
        upper = ctx.predictor.predict([t.upper() for t in texts])
        return {"pid": os.getpid(), "upper_pred": [int(v) for v in upper],
                "upper_accuracy": float((upper == ctx.split.test.y[:40]).mean())}


@pytest.fixture(autouse=True, scope="module")
def registered():
    ANALYSES.register(WhereAndUpper, replace=True)
    yield
    ANALYSES._items.pop("test-where")


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    monkeypatch.setenv("ADAPTEVAL_THREADS", "1")


def _stored(out: Path) -> tuple[dict[str, bytes], dict[str, dict]]:
    """Predictions blob per cell key, and analysis result (pid aside) per analysis key."""
    import json

    with sqlite3.connect(out / "results.sqlite") as conn:
        cells = dict(conn.execute("SELECT key, predictions FROM cells"))
        analyses = {k: json.loads(r) for k, r in conn.execute("SELECT key, result FROM analyses")}
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    return cells, analyses


def _pids(analyses: dict[str, dict]) -> set[int]:
    return {a.pop("pid") for a in analyses.values()}


@pytest.mark.slow
def test_local_workers_and_ray_store_identical_numbers(tmp_path):
    outs = {}
    watched = ("RAY_AUTH_MODE", "PYTHONBREAKPOINT")
    environ = {k: os.environ.get(k) for k in watched}
    for label, executor in [("local", None), ("workers", {"workers": 2}),
                            ("ray", {"name": "ray", "num_cpus": 2})]:
        outs[label] = tmp_path / label
        adapteval.run(SUITE, output_dir=outs[label], executor=executor)
    # Ray's init leaves RAY_AUTH_MODE=token and PYTHONBREAKPOINT behind; a cluster started
    # later from this process (or its children) would inherit a token mode it never set up
    assert {k: os.environ.get(k) for k in watched} == environ
    cells, analyses = _stored(outs["local"])
    assert len(cells) == 2 * 2 * 2 and len(analyses) == 2 * 2  # models x tasks x strategies
    assert _pids(analyses) == {os.getpid()}
    for label in ("workers", "ray"):
        other_cells, other_analyses = _stored(outs[label])
        assert other_cells.keys() == cells.keys()
        differ = [k for k in cells if cells[k] != other_cells[k]]
        assert not differ, f"{label}: {len(differ)} cells' predictions differ"
        pids = _pids(other_analyses)
        assert os.getpid() not in pids, f"{label}: analyses ran in the driver"
        assert other_analyses == analyses


@pytest.mark.slow
def test_two_fresh_runs_store_identical_numbers(tmp_path):
    suite = {**SUITE, "tasks": SUITE["tasks"][:1], "seeds": [0, 3],
             "strategies": ["probe", {"name": "finetune", "max_steps": 3, "batch_size": 8}],
             "analyses": ["test-where"]}
    first, second = [adapteval.run(suite, output_dir=tmp_path / n) for n in ("a", "b")]
    a_cells, a_analyses = _stored(tmp_path / "a")
    b_cells, b_analyses = _stored(tmp_path / "b")
    assert len(a_cells) == 3 * 2 and len(a_analyses) == 3 * 2  # MiniLM probe+finetune, tfidf
    assert a_cells == b_cells
    _pids(a_analyses), _pids(b_analyses)
    assert a_analyses == b_analyses
    # different seeds really differ (the test could not pass by storing constants)
    by_seed = first.to_pandas().query("strategy == 'finetune'").groupby("seed")["value"].sum()
    assert by_seed.nunique() == 2
    assert first.to_pandas()["value"].tolist() == second.to_pandas()["value"].tolist()
