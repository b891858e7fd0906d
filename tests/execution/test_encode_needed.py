"""A run encodes only what its cells need: k-shot draws and the test split, not the whole
task; those features equal a full encode's, and a later full probe reuses them."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
import yaml

import adapteval
from adapteval.core.keys import item_key
from adapteval.data.task import load_task
from adapteval.models.hf import HFEncoder
from adapteval.strategies.kshot import KShotParams, draw
from adapteval.suite.specs import ModelSpec, TaskSpec

pytestmark = pytest.mark.slow

TASK = {"name": "spam", "bundled": "sms-spam", "max_test": 150}
KSHOT = {"name": "kshot", "samples_per_label": 8, "n_experiments": 3}
SEEDS = [0, 1]


def _suite(strategies: list) -> dict:
    return {"name": "needed", "models": ["all-MiniLM-L6-v2"], "tasks": [TASK],
            "strategies": strategies, "seeds": SEEDS, "baselines": [],
            "bootstrap": {"n_resamples": 100}}


def _cached(db) -> dict[bytes, np.ndarray]:
    with sqlite3.connect(db) as conn:
        return {bytes(h): np.frombuffer(v, dtype=np.float32)
                for h, v in conn.execute("SELECT text, vec FROM emb")}


def test_kshot_encodes_its_draws_and_test_split_only_and_a_probe_reuses_them(
        tmp_path, minilm_path):
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(_suite([KSHOT])))
    adapteval.run(tmp_path / "suite.yaml")
    db = tmp_path / "adapteval-results" / "cache" / "embeddings.sqlite"
    after_kshot = _cached(db)

    task = load_task(TaskSpec(**TASK), tmp_path)
    params = KShotParams(**{k: v for k, v in KSHOT.items() if k != "name"})
    wanted = {}
    for seed in SEEDS:
        split = task.split(seed)
        for e in range(params.n_experiments):
            for t in split.train.take(draw(split.train, params, seed, e, False)).items:
                wanted[item_key(t)] = t
        wanted.update((item_key(t), t) for t in split.test.items)
    everything = task.distinct_items()
    assert set(after_kshot) == set(wanted)  # 2 seeds x 3 draws x 16 + 2 x 150 test, at most
    assert len(wanted) <= 2 * 3 * 16 + 2 * 150 < len(everything) / 2

    # the same items encoded with the whole task in one pass give the same features
    full = HFEncoder(ModelSpec(source="all-MiniLM-L6-v2"), minilm_path).encode(everything)
    by_key = dict(zip([item_key(t) for t in everything], full, strict=True))
    diff = max(float(np.abs(after_kshot[h] - by_key[h]).max()) for h in wanted)
    assert diff < 1e-5, diff

    # a full probe on the same cache encodes the rest and keeps what k-shot encoded
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(_suite(["probe", KSHOT])))
    results = adapteval.run(tmp_path / "suite.yaml")
    after_probe = _cached(db)
    probe_needs = {item_key(t) for s in SEEDS for v in (task.split(s).train, task.split(s).test)
                   for t in v.items}
    assert set(after_probe) == probe_needs | set(wanted)
    for h, vec in after_kshot.items():
        np.testing.assert_array_equal(after_probe[h], vec)  # reused, not re-encoded
    frame = results.to_pandas()
    accuracy = frame[(frame["metric"] == "accuracy") & (frame["strategy"] == "probe")]["value"]
    assert len(accuracy) == 2 and (accuracy > 0.9).all()
