"""A run killed with SIGKILL loses at most the cells in flight; the rerun completes and
its numbers equal an uninterrupted run's."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from tests.conftest import CLI, count_rows

import adapteval

SUITE = {
    "name": "resume",
    "models": ["all-MiniLM-L6-v2"],
    "tasks": ["sentiment-amazon", "sentiment-imdb", "sms-spam"],
    "strategies": ["probe", {"name": "kshot", "samples_per_label": 4, "n_experiments": 2}],
    "seeds": [0, 1],
    "bootstrap": {"n_resamples": 200},
}


# Every run here uses one torch thread: the same settings in every process, so "equal"
# can mean equal to the last bit (a different thread count may change the last bits of a
# matrix product, and with them of log-loss).
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "ADAPTEVAL_THREADS": "1"}


def _start(suite: Path) -> subprocess.Popen:
    return subprocess.Popen([*CLI, "run", str(suite), "--quiet"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=ENV)


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 240) -> None:
    deadline = time.time() + timeout
    while not ready():
        assert proc.poll() is None, f"run ended early: {proc.stderr.read().decode()[-500:]}"
        assert time.time() < deadline, "kill point never reached"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


@pytest.mark.slow
def test_sigkill_during_encoding_and_between_cells_then_resume(tmp_path, monkeypatch):
    monkeypatch.setenv("ADAPTEVAL_THREADS", "1")  # the in-process reference run below
    killed = tmp_path / "killed"
    killed.mkdir()
    (killed / "suite.yaml").write_text(yaml.safe_dump(SUITE))
    results_db = killed / "adapteval-results" / "results.sqlite"
    emb_db = killed / "adapteval-results" / "cache" / "embeddings.sqlite"

    # 1. kill while the encoder is running: the first committed chunk survives
    _kill_when(_start(killed / "suite.yaml"),
               lambda: count_rows(emb_db, "SELECT COUNT(*) FROM emb") > 0)
    encoded = count_rows(emb_db, "SELECT COUNT(*) FROM emb")
    assert encoded > 0 and count_rows(results_db, "SELECT COUNT(*) FROM cells") == 0

    # 2. resume, and kill again once some cells are stored
    _kill_when(_start(killed / "suite.yaml"),
               lambda: count_rows(results_db, "SELECT COUNT(*) FROM cells") >= 3)
    kept = count_rows(results_db, "SELECT COUNT(*) FROM cells")
    assert kept >= 3
    assert count_rows(emb_db, "SELECT COUNT(*) FROM emb") >= encoded

    # 3. the rerun completes without redoing stored cells
    done = subprocess.run([*CLI, "run", str(killed / "suite.yaml"), "--quiet"],
                          capture_output=True, text=True, timeout=600, env=ENV)
    assert done.returncode == 0, done.stderr
    total = 3 * 3 * 2 * 2  # models (with baselines) x tasks x strategies x seeds
    assert f"{total} cells: {total - kept} run, {kept} already in the store" in done.stderr
    assert count_rows(results_db, "SELECT COUNT(*) FROM cells") == total
    assert count_rows(results_db, "SELECT COUNT(DISTINCT key) FROM cells") == total

    # 4. and its numbers equal an uninterrupted run's
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "suite.yaml").write_text(yaml.safe_dump(SUITE))
    reference = adapteval.run(clean / "suite.yaml").to_pandas()
    resumed = adapteval.results(killed / "suite.yaml").to_pandas()
    assert list(reference["key"]) == list(resumed["key"])
    np.testing.assert_array_equal(reference["value"].to_numpy(), resumed["value"].to_numpy())
