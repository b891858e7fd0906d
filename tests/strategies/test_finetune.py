"""Full fine-tuning: fresh pretrained weights per cell, seeded, best checkpoint restored,
all task shapes, a real MiniLM check, and resumable runs."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from safetensors.torch import load_file
from sklearn.metrics import log_loss
from tests.conftest import CLI, stored_cells

import adapteval
from adapteval.api import as_suite
from adapteval.core.errors import ConfigError
from adapteval.data import bundled
from adapteval.data.task import load_task
from adapteval.models.hf import HFEncoder
from adapteval.plan import build_plan
from adapteval.strategies import CellContext, training
from adapteval.strategies.finetune import FineTune
from adapteval.strategies.text_batches import carve_validation, encode_view, epoch_batches
from adapteval.strategies.train_params import TrainParams
from adapteval.suite.specs import ModelSpec, TaskSpec

FAST = {"max_steps": 6, "batch_size": 8, "eval_batch_size": 32}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def encoder_for(folder: Path) -> HFEncoder:
    return HFEncoder(ModelSpec(source=str(folder)), folder)


@pytest.fixture(scope="module")
def tiny(tiny_bert) -> HFEncoder:
    return encoder_for(tiny_bert)


def small_task(name: str, tmp: Path, n_train: int = 48, n_test: int = 24):
    spec = TaskSpec(name=name, bundled=f"sentiment-{name}", max_train=n_train, max_test=n_test)
    return load_task(spec, tmp)


def run(task, encoder, seed: int = 0, split_seed: int | None = None, **params):
    split = task.split(seed if split_seed is None else split_seed)
    return FineTune(TrainParams(**{**FAST, **params})).fit(CellContext(task, split, encoder, seed))


def test_every_cell_starts_from_the_pretrained_weights(tiny, tiny_bert, tmp_path, monkeypatch):
    on_disk = load_file(tiny_bert / "model.safetensors")
    shared = {k: v.clone() for k, v in tiny.model.state_dict().items()}
    starts = []
    real_load = training.load_encoder

    def recording_load(encoder):
        model = real_load(encoder)
        starts.append({k: v.clone() for k, v in model.state_dict().items()})
        return model

    monkeypatch.setattr(training, "load_encoder", recording_load)
    a, b = small_task("yelp", tmp_path), small_task("imdb", tmp_path)
    trained_a = run(a, tiny).predictor.model.encoder.state_dict()
    after_a = run(b, tiny).predictions
    assert len(starts) == 2
    for start in starts:
        assert set(start) == set(on_disk)
        for key, value in on_disk.items():
            assert torch.equal(start[key], value), key
    assert any(not torch.equal(trained_a[k], on_disk[k]) for k in on_disk)  # A did train
    for key, value in tiny.model.state_dict().items():
        assert torch.equal(value, shared[key]), key  # the shared encoder never changes
    alone = run(b, encoder_for(tiny_bert)).predictions  # B in a fresh process-like setting
    np.testing.assert_array_equal(after_a.proba, alone.proba)


def test_a_random_weights_control_fine_tunes_from_its_own_random_weights(tiny_bert, tmp_path):
    control = HFEncoder(ModelSpec(source=str(tiny_bert), random_init=True, init_seed=7), tiny_bert)
    fresh = training.load_encoder(control).state_dict()
    on_disk = load_file(tiny_bert / "model.safetensors")
    for key, value in control.model.state_dict().items():
        assert torch.equal(fresh[key], value), key
    assert not torch.equal(fresh["encoder.layer.0.attention.self.query.weight"],
                           on_disk["encoder.layer.0.attention.self.query.weight"])
    out = run(small_task("yelp", tmp_path), control).predictions
    assert np.isfinite(out.proba).all()


def test_same_seed_same_numbers_other_seed_other_numbers(tiny, tmp_path):
    task = small_task("yelp", tmp_path)
    first = run(task, tiny, seed=3, split_seed=0).predictions
    again = run(task, tiny, seed=3, split_seed=0).predictions
    other = run(task, tiny, seed=4, split_seed=0).predictions
    np.testing.assert_array_equal(first.proba, again.proba)
    assert first.info["curve"] == again.info["curve"]
    assert not np.allclose(first.proba, other.proba)
    assert first.proba.shape == (1, 24, 2)
    np.testing.assert_allclose(first.proba.sum(-1), 1.0)


def test_early_stopping_restores_the_best_checkpoint(tiny, tmp_path):
    # validation == test, so the returned test predictions score the restored model on
    # exactly the validation items; a large learning rate makes it worse after a while.
    frame = pd.read_csv(bundled.HERE / "sentiment-yelp.csv")[["text", "label"]]
    frame.iloc[:64].to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[64:96].to_csv(tmp_path / "val.csv", index=False)
    frame.iloc[64:96].to_csv(tmp_path / "test.csv", index=False)
    files = {"train": "train.csv", "validation": "val.csv", "test": "test.csv"}
    task = load_task(TaskSpec(name="es", files=files), tmp_path)
    out = run(
        task, tiny, max_steps=24, learning_rate=3e-3, warmup_ratio=0.0, metric="loss",
        eval_every=2, patience=4,
    ).predictions
    info = out.info
    curve = [c["val_metric"] for c in info["curve"]]
    assert info["validation"] == "given" and info["n_val"] == 32
    assert info["best_step"] < info["steps"]
    assert min(curve) < curve[-1]
    assert info["best_val_metric"] == min(curve)
    restored = log_loss(out.y_true, out.proba[0], labels=[0, 1])
    assert restored == pytest.approx(min(curve), rel=1e-6)
    assert info["stopped_early"] == (info["steps"] < 24)


def test_carved_validation_is_seeded_and_stratified(tmp_path):
    train = small_task("yelp", tmp_path, n_train=100).split(0).train
    fit, val = carve_validation(train, 0.2, seed=1, n_classes=2)
    again = carve_validation(train, 0.2, seed=1, n_classes=2)
    assert np.array_equal(val, again[1]) and len(val) == 20 and not set(fit) & set(val)
    assert abs(train.y[val].mean() - train.y.mean()) <= 0.05
    assert not np.array_equal(val, carve_validation(train, 0.2, seed=2, n_classes=2)[1])
    assert len(carve_validation(train.take(np.arange(5)), 0.1, 0, 2)[1]) == 0  # too small


def test_batches_group_lengths_and_pad_per_batch(tiny, tmp_path):
    view = small_task("imdb", tmp_path, n_train=200).split(0).train
    data = encode_view(tiny.tokenizer, view, 64)
    batches = epoch_batches(data.lengths, 16, np.random.default_rng(0))
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(view)))
    padded = sum(len(b) * data.lengths[b].max() for b in batches)
    shuffled = np.random.default_rng(0).permutation(len(view))
    naive = sum(16 * data.lengths[shuffled[i : i + 16]].max() for i in range(0, len(view), 16))
    assert padded < naive
    again = epoch_batches(data.lengths, 16, np.random.default_rng(0))
    assert all(np.array_equal(x, y) for x, y in zip(batches, again, strict=True))


def test_regression_and_text_pairs_run(tiny, tmp_path):
    rng = np.random.default_rng(0)
    words = ["good", "bad", "fine", "awful", "great", "poor"]
    rows = [{"text": " ".join(rng.choice(words, 4)), "label": round(float(rng.normal(3, 1)), 3)}
            for _ in range(60)]
    pd.DataFrame(rows).to_csv(tmp_path / "r.csv", index=False)
    reg = load_task(TaskSpec(name="r", path="r.csv", type="regression"), tmp_path)
    out = run(reg, tiny).predictions
    assert out.proba is None and out.y_pred.shape == (1, len(out.y_true))
    assert np.isfinite(out.y_pred).all() and out.y_pred.std() > 0
    assert out.info["metric"] == "mse" and out.info["n_val"] == 4

    pairs = [{"a": " ".join(rng.choice(words, 3)), "b": " ".join(rng.choice(words, 3)),
              "label": ["same", "different", "unrelated"][i % 3]} for i in range(60)]
    pd.DataFrame(pairs).to_csv(tmp_path / "p.csv", index=False)
    task = load_task(TaskSpec(name="p", path="p.csv", text="a", text_pair="b"), tmp_path)
    split = task.split(0)
    enc = encode_view(tiny.tokenizer, split.train, 32)
    assert any(1 in row for row in enc.ids["token_type_ids"])  # pair encoding
    out = run(task, tiny).predictions
    assert out.proba.shape == (1, len(split.test), 3)
    np.testing.assert_allclose(out.proba.sum(-1), 1.0)


def test_info_reports_curve_progress_and_budget(tiny, tmp_path):
    task = small_task("yelp", tmp_path)
    calls = []
    split = task.split(0)
    ctx = CellContext(task, split, tiny, 0, progress=lambda *a: calls.append(a))
    info = FineTune(TrainParams(epochs=2, batch_size=8)).run(ctx).info
    assert [c for c in calls if c[0] == "training"] == [
        ("training", s, info["planned_steps"]) for s in range(1, info["steps"] + 1)
    ]
    assert info["n_train"] + info["n_val"] == 48 and info["n_val"] == 5
    assert [c["epoch"] for c in info["curve"]] == [1.0, 2.0][: len(info["curve"])]
    assert set(info["curve"][0]) >= {"step", "epoch", "train_loss", "val_metric", "lr"}
    assert info["trainable_params"] < info["total_params"]  # the unused pooler stays frozen
    assert info["collapsed"] in (True, False)
    ctx = CellContext(task, split, tiny, 0)
    slow = FineTune(TrainParams(epochs=50, batch_size=8, max_seconds=0.5)).run(ctx).info
    assert slow["budget_exhausted"] and slow["steps"] < slow["planned_steps"]


def test_suite_yaml_strategies_and_skips(tiny_bert, tmp_path):
    spec = {
        "models": [{"source": str(tiny_bert), "name": "tiny"}],
        "tasks": [{"name": "yelp", "bundled": "sentiment-yelp", "max_train": 20}],
        "strategies": ["probe", {"name": "finetune", "epochs": 2}, {"name": "lora", "r": 8}],
    }
    plan = build_plan(as_suite(spec))
    kinds = {(c.model.kind, c.strategy.name) for c in plan.cells}
    assert kinds == {("hf", "probe"), ("hf", "finetune"), ("hf", "lora"),
                     ("majority", "probe"), ("tfidf", "probe")}
    assert sum("does not apply" in s for s in plan.skipped) == 4
    finetune = next(c.strategy for c in plan.cells if c.strategy.name == "finetune")
    assert not finetune.frozen and finetune.config()["epochs"] == 2
    with pytest.raises(ConfigError, match="unknown parameter 'epoch'"):
        build_plan(as_suite({**spec, "strategies": [{"name": "finetune", "epoch": 2}]}))


@pytest.mark.slow
def test_minilm_fine_tuned_on_yelp_knows_sentiment(minilm_path, tmp_path):
    task = small_task("yelp", tmp_path, n_train=200, n_test=100)
    out = FineTune(TrainParams(epochs=1)).run(
        CellContext(task, task.split(0), encoder_for(minilm_path), 0))
    assert (out.y_pred[0] == out.y_true).mean() > 0.75
    assert out.info["total_params"] > 22_000_000


@pytest.mark.slow
def test_sigkill_mid_training_then_resume_equals_an_uninterrupted_run(tiny_bert, tmp_path):
    suite = {
        "name": "resume-finetune",
        "models": [{"source": str(tiny_bert), "name": "tiny"}],
        "tasks": [{"name": n, "bundled": f"sentiment-{n}", "max_train": 32, "max_test": 24}
                  for n in ("yelp", "imdb")],
        "strategies": [{"name": "finetune", "max_steps": 12, "batch_size": 8}],
        "seeds": [0, 1],
        "baselines": [],
        "bootstrap": {"n_resamples": 200},
    }
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    for name in ("killed", "clean"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "suite.yaml").write_text(yaml.safe_dump(suite))
    killed = tmp_path / "killed" / "suite.yaml"
    db = tmp_path / "killed" / "adapteval-results" / "results.sqlite"

    proc = subprocess.Popen([*CLI, "run", str(killed), "-q"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env)
    deadline = time.time() + 120
    while stored_cells(db) < 1:  # the first cell is stored: the second one is training
        assert proc.poll() is None, proc.stderr.read().decode()[-500:]
        assert time.time() < deadline, "no cell finished"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = stored_cells(db)
    assert 1 <= kept < 4

    done = subprocess.run([*CLI, "run", str(killed), "-q"], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert stored_cells(db) == 4

    reference = adapteval.run(tmp_path / "clean" / "suite.yaml").to_pandas()
    resumed = adapteval.results(killed).to_pandas()
    assert list(reference["key"]) == list(resumed["key"])
    np.testing.assert_array_equal(reference["value"].to_numpy(), resumed["value"].to_numpy())
