"""The frozen probe, k-shot probe and baselines equal a direct scikit-learn computation."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from adapteval.data.task import load_task
from adapteval.models.baselines import MajorityBaseline, TfidfBaseline
from adapteval.models.hf import HFEncoder
from adapteval.strategies import CellContext
from adapteval.strategies.kshot import KShot, KShotParams, draw
from adapteval.strategies.probe import Probe, ProbeParams
from adapteval.suite.specs import ModelSpec, TaskSpec


@pytest.fixture(scope="module")
def yelp(tmp_path_factory):
    return load_task(TaskSpec(name="yelp", bundled="sentiment-yelp"), tmp_path_factory.mktemp("t"))


@pytest.fixture(scope="module")
def encoder(minilm_path):
    return HFEncoder(ModelSpec(source="all-MiniLM-L6-v2"), minilm_path)


@pytest.mark.slow
def test_probe_equals_sentence_transformers_plus_sklearn(yelp, encoder, minilm_path):
    from sentence_transformers import SentenceTransformer

    split = yelp.split(0)
    ctx = CellContext(yelp, split, encoder, 0, embed=lambda t: encoder.encode(t))
    ours = Probe(ProbeParams(protocol="fixed")).run(ctx)

    st = SentenceTransformer(str(minilm_path), device="cpu")
    x_train, x_test = st.encode(split.train.items), st.encode(split.test.items)
    ref = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x_train, split.train.y)
    agree = (ours.y_pred[0] == ref.predict(x_test)).mean()
    assert agree >= 0.99  # embeddings agree to ~1e-6; a borderline item may flip
    np.testing.assert_allclose(ours.proba[0], ref.predict_proba(x_test), atol=2e-3)
    assert (ours.y_pred[0] == split.test.y).mean() > 0.75  # MiniLM knows sentiment


def test_tfidf_baseline_equals_the_sklearn_pipeline(yelp):
    split = yelp.split(1)
    ours = Probe(ProbeParams()).run(CellContext(yelp, split, TfidfBaseline(), 1))
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(split.train.items)
    ref = LogisticRegression(C=10.0, max_iter=2000).fit(vec.transform(split.train.items), split.train.y)
    np.testing.assert_array_equal(ours.y_pred[0], ref.predict(vec.transform(split.test.items)))


def test_majority_baseline_predicts_the_training_prior(tmp_path):
    task = load_task(TaskSpec(name="sms", bundled="sms-spam"), tmp_path)
    split = task.split(0)
    out = Probe(ProbeParams()).run(CellContext(task, split, MajorityBaseline(), 0))
    assert (out.y_pred == 0).all()  # ham
    np.testing.assert_allclose(out.proba[0, 0], np.bincount(split.train.y) / len(split.train))


@pytest.mark.slow
def test_regression_probe_is_ridge(tmp_path, encoder):
    rng = np.random.default_rng(0)
    words = ["good", "bad", "fine", "awful", "great", "poor"]
    rows = ["text,label"] + [f"{' '.join(rng.choice(words, 4))},{rng.normal():.4f}" for _ in range(60)]
    (tmp_path / "r.csv").write_text("\n".join(rows))
    task = load_task(TaskSpec(name="r", path="r.csv"), tmp_path)
    split = task.split(0)
    ours = Probe(ProbeParams(protocol="fixed", alpha=2.0)).run(
        CellContext(task, split, encoder, 0, embed=lambda t: encoder.encode(t)))
    ref = make_pipeline(StandardScaler(), Ridge(alpha=2.0)).fit(
        encoder.encode(split.train.items), split.train.y)
    np.testing.assert_allclose(ours.y_pred[0], ref.predict(encoder.encode(split.test.items)), atol=1e-4)
    assert ours.proba is None


def test_kshot_draws_k_per_label_seeded(yelp):
    split = yelp.split(0)
    params = KShotParams(samples_per_label=4, n_experiments=3)
    a, b = draw(split.train, params, 0, 0, False), draw(split.train, params, 0, 0, False)
    c = draw(split.train, params, 0, 1, False)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.bincount(split.train.y[a]).tolist() == [4, 4]


def test_kshot_runs_every_experiment_on_the_full_test_split(yelp):
    split = yelp.split(0)
    out = KShot(KShotParams(samples_per_label=8, n_experiments=4)).run(
        CellContext(yelp, split, TfidfBaseline(), 0))
    assert out.y_pred.shape == (4, len(split.test)) and out.proba.shape == (4, len(split.test), 2)
    assert out.info["n_train"] == 16
    assert len({tuple(p) for p in out.y_pred}) > 1  # different draws, different predictions
