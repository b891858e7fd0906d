"""The tuned probe on real all-MiniLM-L6-v2 embeddings: never worse than the fixed one,
never looking at test items, and MTEB's published Banking77 score under ``mteb``."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import RidgeCV
from sklearn.metrics import log_loss, r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from adapteval.data.task import Split, View, load_task
from adapteval.models.hf import HFEncoder
from adapteval.strategies import CellContext
from adapteval.strategies.kshot import KShot, KShotParams, draw
from adapteval.strategies.probe import Probe, ProbeParams
from adapteval.suite.specs import ModelSpec, TaskSpec
from adapteval.transferability.regularization import C_GRID, select_c, stratified_folds

pytestmark = pytest.mark.slow
BUNDLED = ["sentiment-amazon", "sentiment-imdb", "sentiment-yelp", "sms-spam"]


class CachedEncoder:
    """MiniLM with a memory of every text it encoded (the role of the feature cache)."""

    pretrained = True

    def __init__(self, encoder: HFEncoder) -> None:
        self.encoder, self.memory = encoder, {}

    def __call__(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.memory]
        if missing:
            self.memory.update(zip(missing, self.encoder.encode(missing), strict=True))
        return np.stack([self.memory[t] for t in texts])


@pytest.fixture(scope="module")
def minilm(minilm_path, one_torch_thread) -> CachedEncoder:
    return CachedEncoder(HFEncoder(ModelSpec(source="all-MiniLM-L6-v2"), minilm_path))


def bundled(name: str, tmp_path):
    return load_task(TaskSpec(name=name, bundled=name), tmp_path)


def cell(task, split, minilm, seed=0) -> CellContext:
    return CellContext(task, split, minilm, seed, embed=minilm)


@pytest.mark.parametrize("name", BUNDLED)
def test_tuned_probe_is_never_worse_in_held_out_log_loss(name, minilm, tmp_path) -> None:
    task = bundled(name, tmp_path)
    ctx = cell(task, task.split(0), minilm)
    fixed = Probe(ProbeParams(protocol="fixed")).run(ctx)
    tuned = Probe(ProbeParams()).run(ctx)
    loss = {k: log_loss(p.y_true, p.proba[0] / p.proba[0].sum(1, keepdims=True), labels=[0, 1])
            for k, p in (("fixed", fixed), ("tuned", tuned))}
    assert loss["tuned"] <= loss["fixed"], loss
    assert fixed.info["regularization"] == {"C": 1.0}
    assert tuned.info["regularization"]["C"] in C_GRID
    assert "regularization_note" not in tuned.info


def test_tuned_ridge_reaches_ridge_cv_on_a_real_regression(minilm, tmp_path) -> None:
    # A real numeric target of real text: the number of words of review sentences.
    texts = []
    for name in BUNDLED[:3]:
        texts += bundled(name, tmp_path).split(0).train.items
    texts = list(dict.fromkeys(texts))[:400]
    rows = ["text,label"] + [f'"{t.replace(chr(34), chr(39))}",{np.log(len(t.split())):.6f}'
                             for t in texts]
    (tmp_path / "words.csv").write_text("\n".join(rows), encoding="utf-8")
    task = load_task(TaskSpec(name="words", path="words.csv", type="regression"), tmp_path)
    split = task.split(0)
    ctx = cell(task, split, minilm)
    fixed = Probe(ProbeParams(protocol="fixed")).run(ctx)
    tuned = Probe(ProbeParams()).run(ctx)
    ref = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 5, 33)))
    ref.fit(minilm(split.train.items), split.train.y)
    r2 = {"fixed": r2_score(split.test.y, fixed.y_pred[0]),
          "tuned": r2_score(split.test.y, tuned.y_pred[0]),
          "ridge_cv": r2_score(split.test.y, ref.predict(minilm(split.test.items)))}
    assert r2["tuned"] >= r2["ridge_cv"] - 0.02, r2
    assert r2["tuned"] > r2["fixed"] + 0.1, r2
    assert tuned.info["regularization"]["alpha"] > 1.0


def test_the_choice_of_c_never_sees_test_items(minilm, tmp_path) -> None:
    task = bundled("sentiment-yelp", tmp_path)
    split = task.split(0)
    test = split.test
    flipped = View(test.items, None, 1 - test.y, rows=test.rows)  # a planted, adversarial test
    ours = Probe(ProbeParams()).run(cell(task, split, minilm)).info["regularization"]["C"]
    peeked = Probe(ProbeParams()).run(
        cell(task, Split(split.train, flipped), minilm)).info["regularization"]["C"]
    x = StandardScaler().fit_transform(minilm(split.train.items))
    alone = select_c(x, split.train.y, stratified_folds(split.train.y, 5, [0]), C_GRID).value
    assert ours == peeked == alone
    # peeking would have chosen otherwise: on the flipped test the smallest C is best
    test_loss = []
    for c in C_GRID:
        p = make_pipeline(StandardScaler(), _logreg(c)).fit(minilm(split.train.items),
                                                            split.train.y)
        test_loss.append(log_loss(flipped.y, p.predict_proba(minilm(test.items))))
    assert C_GRID[int(np.argmin(test_loss))] != ours


def _logreg(c: float):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=1000, random_state=0)


def test_kshot_tunes_each_draw_on_its_own_items(minilm, tmp_path) -> None:
    task = bundled("sentiment-amazon", tmp_path)
    split = task.split(0)
    params = KShotParams(samples_per_label=8, n_experiments=3)
    out = KShot(params).run(cell(task, split, minilm))
    expected = []
    for e in range(3):
        sub = split.train.take(draw(split.train, params, 0, e, False))
        x = StandardScaler().fit_transform(minilm(sub.items))
        expected.append(select_c(x, sub.y, stratified_folds(sub.y, 5, [0, e, 1]), C_GRID).value)
    assert out.info["regularization_draws"] == expected
    assert out.info["regularization"] == {"C": float(np.median(expected))}


def test_mteb_protocol_reproduces_mtebs_banking77_score(minilm, shared) -> None:
    # MTEB's leaderboard: all-MiniLM-L6-v2 on Banking77Classification, accuracy 0.80042
    task = load_task(TaskSpec(name="banking77", files={"train": "train.csv", "test": "test.csv"},
                              label="category"), shared / "banking77")
    out = KShot(KShotParams(protocol="mteb")).run(cell(task, task.split(0), minilm))
    assert out.y_pred.shape[0] == 10 and out.info["n_train"] == 77 * 8
    assert round(float((out.y_pred == out.y_true).mean()), 5) == 0.80042
    assert "capped" not in out.info
