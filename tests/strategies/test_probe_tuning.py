"""The probe's regularisation is chosen on training items alone, as scikit-learn would
choose it, and k-shot draws follow MTEB's sampling under ``protocol: mteb``."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegressionCV, Ridge
from sklearn.model_selection import GridSearchCV, LeaveOneOut, PredefinedSplit
from sklearn.preprocessing import StandardScaler

from adapteval.data.task import Split, load_task
from adapteval.models.baselines import TfidfBaseline
from adapteval.strategies import CellContext
from adapteval.strategies.kshot import KShot, KShotParams, mteb_draws
from adapteval.strategies.probe import Probe, ProbeParams
from adapteval.suite.specs import TaskSpec
from adapteval.transferability.regularization import (
    ALPHA_GRID,
    C_GRID,
    select_alpha,
    select_c,
    stratified_folds,
)


class SvdFeatures:
    """Real features of real texts without a network: TF-IDF then a 48-d SVD, fitted
    once on all the task's texts and looked up by text (what a frozen encoder gives)."""

    pretrained = True

    def __init__(self, texts: list[str]) -> None:
        unique = list(dict.fromkeys(texts))
        tfidf = TfidfVectorizer(sublinear_tf=True, min_df=2).fit_transform(unique)
        x = TruncatedSVD(48, algorithm="arpack", random_state=0).fit_transform(tfidf)
        self.table = dict(zip(unique, x.astype(np.float32), strict=True))

    def __call__(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.table[t] for t in texts])


@pytest.fixture(scope="module")
def sms(tmp_path_factory):
    task = load_task(TaskSpec(name="sms", bundled="sms-spam"), tmp_path_factory.mktemp("t"))
    split = task.split(0)
    return task, split, SvdFeatures(split.train.items + split.test.items)


def test_chosen_c_equals_logistic_regression_cv_on_the_same_folds(sms) -> None:
    task, split, features = sms
    x = StandardScaler().fit_transform(features(split.train.items))
    y = split.train.y
    fold = stratified_folds(y, 5, seed=[0])
    ours = select_c(x, y, fold, C_GRID, patience=len(C_GRID))
    ref = LogisticRegressionCV(Cs=list(C_GRID), cv=PredefinedSplit(fold), scoring="neg_log_loss",
                               max_iter=1000, l1_ratios=(0.0,)).fit(x, y)
    assert ours.value == pytest.approx(float(np.ravel(ref.C_)[0]))
    ref_losses = -np.asarray(ref.scores_[1]).reshape(5, len(C_GRID)).mean(axis=0)
    np.testing.assert_allclose(ours.losses, ref_losses, rtol=1e-3)
    # stopping the path two values past the best picks the same C
    assert select_c(x, y, fold, C_GRID).value == ours.value
    assert 0 < np.argmin(ours.losses) < len(C_GRID) - 1  # an interior optimum, not a grid edge


def test_chosen_alpha_equals_leave_one_out_grid_search(sms) -> None:
    _, split, features = sms
    x = StandardScaler().fit_transform(features(split.train.items[:120]))
    t = x[:, :5] @ np.array([1.0, -2.0, 0.5, 0.0, 1.5]) + np.random.default_rng(0).normal(size=120)
    ours = select_alpha(x, t, ALPHA_GRID)
    ref = GridSearchCV(Ridge(), {"alpha": list(ALPHA_GRID)}, cv=LeaveOneOut(),
                       scoring="neg_mean_squared_error").fit(x, t)
    assert ours.value == pytest.approx(ref.best_params_["alpha"])
    np.testing.assert_allclose(ours.losses, -ref.cv_results_["mean_test_score"], rtol=1e-6)


def test_folds_shrink_to_the_smallest_class_and_stop_at_one_item() -> None:
    y = np.array([0] * 10 + [1] * 3)
    fold = stratified_folds(y, 5, seed=[1])
    assert sorted(set(fold)) == [0, 1, 2]  # three folds: class 1 has three items
    for f in range(3):
        assert set(y[fold != f]) == {0, 1}  # every class in every training part
    assert stratified_folds(np.array([0, 0, 0, 1]), 5, seed=[1]) is None


def test_a_class_with_one_item_keeps_the_fixed_c_and_says_why(sms) -> None:
    task, split, features = sms
    spam = np.flatnonzero(split.train.y == 1)
    keep = np.sort(np.concatenate([np.flatnonzero(split.train.y == 0), spam[:1]]))
    one = Split(split.train.take(keep), split.test)
    out = Probe(ProbeParams(C=0.5)).run(CellContext(task, one, features, 0, embed=features))
    assert out.info["regularization"] == {"C": 0.5}
    assert "'spam' has a single training item" in out.info["regularization_note"]


def banking77_labels(shared: Path) -> np.ndarray:
    with open(shared / "banking77" / "train.csv", newline="", encoding="utf-8") as fh:
        return np.array([row["category"] for row in csv.DictReader(fh)])


def mteb_reference(y: np.ndarray, k: int, n_experiments: int) -> list[list[int]]:
    """MTEB's published procedure, step by step: the global generator is seeded with 42
    (each evaluator does so on creation), the index list is shuffled in place and
    kept for the next experiment, and the first k items of each label are taken."""
    idxs = list(range(len(y)))
    out = []
    for _ in range(n_experiments):
        np.random.seed(42)
        np.random.shuffle(idxs)
        counter: dict[str, int] = defaultdict(int)
        picked = []
        for i in idxs:
            if counter[y[i]] < k:
                picked.append(i)
                counter[y[i]] += 1
        out.append(sorted(picked))
    return out


def test_mteb_draws_follow_mtebs_undersampling(shared) -> None:
    y = banking77_labels(shared)
    state = np.random.get_state()
    ours = mteb_draws(y, 8, 10)
    assert np.array_equal(np.random.get_state()[1], state[1])  # the global generator is untouched
    ref = mteb_reference(y, 8, 10)
    assert [d.tolist() for d in ours] == ref
    assert all(len(d) == 77 * 8 for d in ours)
    assert len({tuple(d) for d in ours}) == 10


def test_mteb_protocol_defaults_to_ten_experiments() -> None:
    assert KShotParams(protocol="mteb").n_experiments == 10
    assert KShotParams(protocol="mteb", n_experiments=3).n_experiments == 3
    assert KShotParams().n_experiments == 5


def test_kshot_records_classes_smaller_than_samples_per_label(tmp_path) -> None:
    rows = ["text,label"]
    words = ["card", "loan", "fee", "rate", "cash", "bank", "atm", "pin"]
    rng = np.random.default_rng(0)
    for label, n in (("refund", 40), ("transfer", 40), ("lost card", 4)):
        rows += [f"{label} {' '.join(rng.choice(words, 3))},{label}" for _ in range(n)]
    (tmp_path / "k.csv").write_text("\n".join(rows))
    task = load_task(TaskSpec(name="k", path="k.csv", split_seed=0), tmp_path)
    split = task.split(0)
    n_lost = int(np.sum(split.train.y == task.classes.index("lost card")))
    out = KShot(KShotParams(samples_per_label=8, n_experiments=2)).run(
        CellContext(task, split, TfidfBaseline(), 0))
    assert out.info["capped"] == {"lost card": n_lost}
    full = KShot(KShotParams(samples_per_label=2, n_experiments=2)).run(
        CellContext(task, split, TfidfBaseline(), 0))
    assert "capped" not in full.info
