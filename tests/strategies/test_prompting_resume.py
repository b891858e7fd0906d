"""A killed prompting run resumes: stored cells are kept, the rest computed, and the numbers
equal an uninterrupted run's."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import numpy as np
import pytest
import yaml
from tests.conftest import CLI, stored_cells

import adapteval


@pytest.mark.slow
def test_sigkill_mid_prompting_then_resume_equals_an_uninterrupted_run(smollm2_ref, tmp_path):
    suite = {
        "name": "resume-prompting",
        "models": ["SmolLM2-135M-Instruct"],
        "tasks": [{"name": n, "bundled": f"sentiment-{n}", "max_train": 40, "max_test": 30}
                  for n in ("yelp", "imdb")],
        "strategies": ["zeroshot", {"name": "icl", "k": 2, "n_experiments": 2}],
        "seeds": [0, 1],
        "baselines": [],
        "bootstrap": {"n_resamples": 200},
    }
    env = {**os.environ, "OMP_NUM_THREADS": "1", "ADAPTEVAL_THREADS": "1",
           "PYTHONUNBUFFERED": "1"}
    for name in ("killed", "clean"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "suite.yaml").write_text(yaml.safe_dump(suite))
    killed = tmp_path / "killed" / "suite.yaml"
    db = tmp_path / "killed" / "adapteval-results" / "results.sqlite"

    proc = subprocess.Popen([*CLI, "run", str(killed), "-q"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env)
    deadline = time.time() + 300
    while stored_cells(db) < 2:  # two cells stored: a third is being scored
        assert proc.poll() is None, proc.stderr.read().decode()[-500:]
        assert time.time() < deadline, "no cell finished"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = stored_cells(db)
    assert 2 <= kept < 8

    done = subprocess.run([*CLI, "run", str(killed)], capture_output=True, text=True,
                          env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-800:]
    assert f"{kept} already in the store" in done.stderr
    assert stored_cells(db) == 8

    os.environ["ADAPTEVAL_THREADS"] = "1"
    try:
        reference = adapteval.run(tmp_path / "clean" / "suite.yaml").to_pandas()
    finally:
        os.environ.pop("ADAPTEVAL_THREADS", None)
    resumed = adapteval.results(killed).to_pandas()
    assert list(reference["key"]) == list(resumed["key"])
    np.testing.assert_array_equal(reference["value"].to_numpy(), resumed["value"].to_numpy())
