"""Fair tuning: candidates are chosen on items carved from the training split, never on
test items; the chosen values are stored; VTAB-1k's 800 / 200 / 1000 protocol."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import adapteval
from adapteval.contracts.strategy import CellContext
from adapteval.core.errors import ConfigError
from adapteval.data.task import load_task
from adapteval.models.kinds import load_model, resolve_model
from adapteval.plan import build_plan
from adapteval.strategies.finetune import FineTune, validation_views
from adapteval.strategies.probe import Probe
from adapteval.strategies.tuning import LeakError, Tuned
from adapteval.suite.schema import suite_from_dict
from adapteval.suite.specs import ModelSpec, TaskSpec

SPACE = {"protocol": ["fixed"], "C": [0.01, 1.0, 100.0]}


class Recording(Probe):
    """The real probe, remembering the rows of every split it is fitted on."""

    seen: list[tuple[np.ndarray, np.ndarray]] = []

    def fit(self, ctx):
        Recording.seen.append((ctx.split.train.rows.copy(), ctx.split.test.rows.copy()))
        return super().fit(ctx)


class Leaky(Tuned):
    """A planted leak: candidates scored on the test split."""

    def selection(self, train, fit_idx, val_idx, split):
        return type(split)(train.take(fit_idx), split.test, None)


SMS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "sms-spam"


@pytest.fixture
def ctx(tmp_path):
    spec = TaskSpec(name="spam", path=str(SMS / "SMSSpamCollection"), format="tsv",
                    header=False, columns=["label", "text"], quoting=False)
    task = load_task(spec, tmp_path)
    ref = resolve_model(ModelSpec(source="tfidf"), tmp_path, where="test")
    return CellContext(task, task.split(0), load_model(ref), 0)


def test_no_test_row_reaches_selection_and_the_refit_uses_all_training_rows(ctx):
    Recording.seen = []
    tuned = Tuned(Recording(), SPACE, 0.25)
    preds = tuned.fit(ctx).predictions
    train, test = ctx.split.train.rows, ctx.split.test.rows
    *selection, refit = Recording.seen
    assert len(selection) == 3
    for fit_rows, held_out in selection:
        assert not np.intersect1d(fit_rows, test).size
        assert not np.intersect1d(held_out, test).size
        assert set(fit_rows) | set(held_out) == set(train)
        assert not np.intersect1d(fit_rows, held_out).size
    assert np.array_equal(np.sort(refit[0]), np.sort(train))
    assert np.array_equal(refit[1], test)
    info = preds.info["tuning"]
    assert info["chosen"]["C"] in SPACE["C"] and len(info["trials"]) == 3
    best = max(info["trials"], key=lambda t: t["accuracy"])
    assert info["chosen"]["C"] == best["C"]


def test_a_planted_leak_is_caught(ctx):
    with pytest.raises(LeakError, match="test rows reached tuning"):
        Leaky(Recording(), SPACE, 0.25).fit(ctx)


def test_vtab1k_selects_on_800_200_and_trains_on_1000(ctx):
    preds = Tuned(Probe(), SPACE, protocol="vtab1k").fit(ctx).predictions
    info = preds.info["tuning"]
    assert (info["n_selection_fit"], info["n_validation"], info["n_refit"]) == (800, 200, 1000)
    assert preds.info["n_train"] == 1000 and preds.info["n_test"] == len(ctx.split.test)


@pytest.mark.slow
def test_tuned_cells_store_the_chosen_values_and_refit_with_them(tmp_path):
    suite = suite_from_dict({
        "models": ["all-MiniLM-L6-v2"], "baselines": [], "tasks": ["sentiment-yelp"],
        "strategies": [{"name": "probe", "tune": {"space": SPACE}}],
        "bootstrap": {"n_resamples": 200}, "output_dir": str(tmp_path / "out")})
    res = adapteval.run(suite)
    (row,) = res.rows
    assert row.strategy == "probe"
    assert row.strategy_config["tune"]["space"] == SPACE
    tuning = row.info["tuning"]
    assert len({t["accuracy"] for t in tuning["trials"]}) > 1  # C matters on these features
    best = max(tuning["trials"], key=lambda t: t["accuracy"])
    assert tuning["chosen"]["C"] == best["C"]
    assert row.info["regularization"] == {"C": best["C"]}  # the refit used it


def test_an_unknown_parameter_in_the_space_is_refused(tmp_path):
    suite = suite_from_dict({"models": ["tfidf"], "tasks": ["sentiment-yelp"],
                             "strategies": [{"name": "probe",
                                             "tune": {"space": {"learning_rate": [1e-3]}}}]})
    with pytest.raises(ConfigError, match="not a parameter of strategy 'probe'"):
        build_plan(suite)


class RecordingFineTune(FineTune):
    """The real fine-tune, remembering the rows its early stopping validates on."""

    seen: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def fit(self, ctx):
        fit, val, _ = validation_views(ctx, self.params, len(ctx.task.classes or ()))
        RecordingFineTune.seen.append((fit.rows.copy(), val.rows.copy(), ctx.split.train.rows))
        return super().fit(ctx)


@pytest.mark.slow
def test_early_stopping_of_every_candidate_and_the_refit_never_sees_test_rows(tmp_path,
                                                                              tiny_bert):
    task = load_task(TaskSpec(name="spam", bundled="sms-spam", max_train=80, max_test=40),
                     tmp_path)
    ref = resolve_model(ModelSpec(source=str(tiny_bert)), tmp_path, where="test")
    ctx = CellContext(task, task.split(0), load_model(ref), 0)
    RecordingFineTune.seen = []
    inner = RecordingFineTune.from_params({"max_steps": 2, "batch_size": 8, "max_length": 16,
                                           "validation_fraction": 0.25})
    Tuned(inner, {"learning_rate": [1e-4, 1e-3]}, 0.25).fit(ctx)
    test = ctx.split.test.rows
    assert len(RecordingFineTune.seen) == 3  # two candidates, then the refit
    for fit_rows, val_rows, train_rows in RecordingFineTune.seen:
        assert len(val_rows) and not np.intersect1d(val_rows, test).size
        assert not np.intersect1d(fit_rows, test).size
        assert set(val_rows) <= set(train_rows)
    held_out = set(ctx.split.train.rows) - set(RecordingFineTune.seen[0][2])
    for _, val_rows, _ in RecordingFineTune.seen[:2]:  # candidates: not the selection part
        assert not held_out & set(val_rows)
