"""Task types, seeded stratified splits and fingerprints."""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import copy_bundled

from adapteval.data.task import load_task
from adapteval.suite.specs import TaskSpec


def _csv(tmp_path, labels, name="t.csv"):
    path = tmp_path / name
    path.write_text("text,label\n" + "".join(f"text number {i},{v}\n" for i, v in enumerate(labels)))
    return path


@pytest.mark.parametrize(
    ("labels", "kind", "classes"),
    [
        (["pos", "neg"] * 10, "binary", ("neg", "pos")),
        (["a", "b", "c"] * 10, "multiclass", ("a", "b", "c")),
        ([2, 10, 1] * 10, "multiclass", ("1", "2", "10")),  # ints sort numerically
        ([0.5, 1.25, 3.75, 2.0] * 5, "regression", None),
    ],
)
def test_task_type_and_classes_are_inferred(tmp_path, labels, kind, classes):
    task = load_task(TaskSpec(name="t", path=str(_csv(tmp_path, labels))), tmp_path)
    assert task.type == kind and task.classes == classes


def test_integer_scores_can_be_declared_regression(tmp_path):
    task = load_task(TaskSpec(name="t", path=str(_csv(tmp_path, [1, 2, 3, 4, 5] * 4)),
                              type="regression"), tmp_path)
    assert task.is_regression and task.frame["y"].dtype == np.float64


def test_seeded_split_is_deterministic_stratified_and_varies_with_seed(tmp_path):
    path = copy_bundled("sms-spam", tmp_path)
    task = load_task(TaskSpec(name="sms", path=str(path), test_size=0.25), tmp_path)
    a, b, c = task.split(0), task.split(0), task.split(1)
    assert a.test.items == b.test.items
    assert a.test.items != c.test.items
    assert len(a.test) == 250 and not set(a.train.rows) & set(a.test.rows)
    spam_rate = task.frame["y"].mean()
    assert abs(a.test.y.mean() - spam_rate) < 0.01  # stratified: same class balance


def test_fixed_split_seed_overrides_cell_seed(tmp_path):
    path = copy_bundled("sentiment-yelp", tmp_path)
    task = load_task(TaskSpec(name="y", path=str(path), split_seed=7), tmp_path)
    assert task.split(0).test.items == task.split(5).test.items


def test_max_train_and_max_test_subsample_stratified(tmp_path):
    path = copy_bundled("sms-spam", tmp_path)
    task = load_task(TaskSpec(name="s", path=str(path), max_train=100, max_test=80), tmp_path)
    split = task.split(0)
    assert (len(split.train), len(split.test)) == (100, 80)
    assert split.train.y.sum() in (13, 14)  # ~13.4 % spam kept


def test_fingerprint_tracks_content_and_settings(tmp_path):
    path = copy_bundled("sentiment-amazon", tmp_path)
    base = load_task(TaskSpec(name="a", path=str(path)), tmp_path).fingerprint
    assert load_task(TaskSpec(name="renamed", path=str(path)), tmp_path).fingerprint == base
    assert load_task(TaskSpec(name="a", path=str(path), test_size=0.5), tmp_path).fingerprint != base
    path.write_text(path.read_text().replace("Good case", "Bad case"))
    assert load_task(TaskSpec(name="a", path=str(path)), tmp_path).fingerprint != base


def test_bundled_tasks_carry_their_domain(tmp_path):
    task = load_task(TaskSpec(name="imdb", bundled="sentiment-imdb"), tmp_path)
    assert set(task.frame["domain"]) == {"imdb"} and len(task.frame) == 500
