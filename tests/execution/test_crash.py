"""Crash safety: a real run killed with SIGKILL (its whole process group, worker
processes included) while encoding, while fine-tuning and while writing rows, then
rerun, ends with exactly the rows of an uninterrupted run: same keys, byte-identical
predictions, nothing duplicated, an intact file, no claim left behind."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from tests.conftest import CLI, count_rows

SUITE = {
    "name": "crash",
    "models": ["all-MiniLM-L6-v2"],
    "baselines": ["tfidf", "majority"],
    "tasks": [{"name": "amazon", "bundled": "sentiment-amazon", "max_train": 150, "max_test": 60},
              {"name": "spam", "bundled": "sms-spam", "max_train": 150, "max_test": 60}],
    "strategies": ["probe", {"name": "finetune", "max_steps": 6, "batch_size": 8}],
    "seeds": [0],
    "bootstrap": {"n_resamples": 200},
}
N_CELLS = 2 * 2 + 2 + 2  # MiniLM probe+finetune, tfidf probe, majority probe


def _run_and_kill(suite: Path, ready, delay: float, extra: list[str]) -> bool:
    """Start a run in its own process group; once ``ready()``, wait ``delay`` seconds and
    SIGKILL the group. Returns False if the run finished before the kill landed."""
    env = {**os.environ, "ADAPTEVAL_THREADS": "1"}
    proc = subprocess.Popen([*CLI, "run", str(suite), "-q", *extra], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env, start_new_session=True)
    deadline = time.time() + 300
    while not ready():
        assert proc.poll() is None, f"run ended early: {proc.stderr.read().decode()[-800:]}"
        assert time.time() < deadline, "kill point never reached"
        time.sleep(0.02)
    time.sleep(delay)
    finished = proc.poll() is not None
    if not finished:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    return not finished


def _rows(out: Path) -> dict[str, bytes]:
    with sqlite3.connect(out / "results.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        n, distinct = conn.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM cells").fetchone()
        assert n == distinct, "a row was stored twice"
        return dict(conn.execute("SELECT key, predictions FROM cells"))


@pytest.mark.slow
def test_sigkill_at_random_points_then_rerun_equals_an_uninterrupted_run(tmp_path):
    seed = int(os.environ.get("ADAPTEVAL_CRASH_SEED", random.randrange(10_000)))
    rng = random.Random(seed)
    print(f"kill-point seed: {seed} (rerun with ADAPTEVAL_CRASH_SEED={seed})")
    suite = tmp_path / "suite.yaml"
    suite.write_text(yaml.safe_dump(SUITE))
    out = tmp_path / "adapteval-results"
    cells_db, emb_db = out / "results.sqlite", out / "cache" / "embeddings.sqlite"

    def cells() -> int:
        return count_rows(cells_db, "SELECT COUNT(*) FROM cells")

    # 1. while the encoder runs (after its first committed chunk)
    assert _run_and_kill(suite, lambda: count_rows(emb_db, "SELECT COUNT(*) FROM emb") > 0,
                         rng.uniform(0.0, 0.3), [])
    assert cells() == 0
    # 2. while fine-tuning: the probe cells are stored, the finetune cells are training
    _run_and_kill(suite, lambda: cells() >= 2, rng.uniform(0.0, 1.5), [])
    kept = cells()
    assert 2 <= kept < N_CELLS
    # 3. while rows are being written, with two worker processes in the group
    start = cells()
    _run_and_kill(suite, lambda: cells() > start, rng.uniform(0.0, 0.2), ["--workers", "2"])
    assert cells() >= kept

    done = subprocess.run([*CLI, "run", str(suite), "-q"], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "ADAPTEVAL_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    resumed = _rows(out)
    assert len(resumed) == N_CELLS
    assert count_rows(cells_db, "SELECT COUNT(*) FROM claims") == 0, "claims left behind"

    clean = tmp_path / "clean"
    ref = subprocess.run([*CLI, "run", str(suite), "-q", "-o", str(clean)], capture_output=True,
                         text=True, timeout=600, env={**os.environ, "ADAPTEVAL_THREADS": "1"})
    assert ref.returncode == 0, ref.stderr[-2000:]
    reference = _rows(clean)
    assert resumed.keys() == reference.keys()
    assert [k for k in reference if reference[k] != resumed[k]] == []
