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


def test_a_float_column_with_many_values_is_regression_under_auto(tmp_path):
    """Whole numbers written as decimals ("12.0") taking 40 values are a score, not 40
    classes; a few decimal values ("0.0", "1.0") stay classes."""
    many = load_task(TaskSpec(name="t", path=str(_csv(tmp_path, [f"{v:.1f}" for v in range(40)] * 2))),
                     tmp_path)
    assert many.is_regression and many.classes is None
    few = load_task(TaskSpec(name="t", path=str(_csv(tmp_path, ["0.0", "1.0"] * 20, "b.csv"))),
                    tmp_path)
    assert few.type == "binary" and few.classes == ("0", "1")
    ids = load_task(TaskSpec(name="t", path=str(_csv(tmp_path, list(range(40)) * 2, "c.csv"))),
                    tmp_path)
    assert ids.type == "multiclass" and len(ids.classes) == 40  # integers stay class ids


def test_test_items_also_in_train_are_counted(tmp_path):
    path = tmp_path / "d.csv"
    rows = [f"message {i},{'ab'[i % 2]}" for i in range(40)]
    rows += ["message 3,b", "message 4,a"]  # the same texts twice
    path.write_text("text,label\n" + "\n".join(rows) + "\n")
    task = load_task(TaskSpec(name="t", path=str(path)), tmp_path)
    for seed in (0, 1, 2):
        split = task.split(seed)
        train = set(split.train.items)
        assert task.split_duplicates(seed) == sum(t in train for t in split.test.items)
    assert max(task.split_duplicates(s) for s in range(10)) >= 1
    clean = load_task(TaskSpec(name="t", path=str(_csv(tmp_path, ["a", "b"] * 20, "e.csv"))),
                      tmp_path)
    assert all(clean.split_duplicates(s) == 0 for s in range(3))


def test_the_id_column_is_kept_beside_the_rows_without_changing_the_fingerprint(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("uid,text,label\n" + "".join(f"u{i},text {i},{'ab'[i % 2]}\n" for i in range(20)))
    with_ids = load_task(TaskSpec(name="t", path=str(path), id="uid"), tmp_path)
    without = load_task(TaskSpec(name="t", path=str(path)), tmp_path)
    assert list(with_ids.ids[:3]) == ["u0", "u1", "u2"] and without.ids is None
    assert with_ids.fingerprint == without.fingerprint
