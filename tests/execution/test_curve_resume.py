"""A learning curve killed mid-way resumes: finished points are read from the store,
never recomputed, and the rerun completes the curve."""

from __future__ import annotations

import sqlite3
import subprocess

import pytest
import yaml
from tests.conftest import CLI, count_rows
from tests.execution.test_resume import ENV, _kill_when, _start

SUITE = {
    "name": "curve-resume",
    "models": ["all-MiniLM-L6-v2"],
    "baselines": [],
    "tasks": ["sentiment-yelp"],
    "strategies": [{"name": "probe",
                    "curve": {"sizes": [1, 2, 4, 8, 16, 32, 64, "full"], "draws": 5}}],
    "bootstrap": {"n_resamples": 200},
}


def _stamps(db) -> dict[str, float]:
    with sqlite3.connect(db) as con:
        return dict(con.execute("SELECT key, created_at FROM cells").fetchall())


@pytest.mark.slow
def test_a_killed_curve_resumes_without_recomputing_finished_points(tmp_path):
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(SUITE))
    db = tmp_path / "adapteval-results" / "results.sqlite"
    _kill_when(_start(tmp_path / "suite.yaml"),
               lambda: count_rows(db, "SELECT COUNT(*) FROM cells") >= 4)
    before = _stamps(db)
    kept = len(before)
    total = 7 * 5 + 1  # sizes below full x draws, and the plain cell
    assert 4 <= kept < total
    done = subprocess.run([*CLI, "run", str(tmp_path / "suite.yaml"), "--quiet"],
                          capture_output=True, text=True, timeout=600, env=ENV)
    assert done.returncode == 0, done.stderr
    assert f"{total} cells: {total - kept} run, {kept} already in the store" in done.stderr
    after = _stamps(db)
    assert len(after) == total
    assert {k: after[k] for k in before} == before  # finished points were not rewritten
