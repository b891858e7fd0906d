"""Model loading: pooling as the folder says, safe weights, fingerprints, offline failures."""

from __future__ import annotations

import shutil
import time

import numpy as np
import pytest
from tests.conftest import build_tiny_bert

from adapteval.core.errors import ModelLoadError
from adapteval.models.hf import HFEncoder, resolve_model_dir
from adapteval.models.kinds import resolve_model
from adapteval.suite.specs import ModelSpec

SENTENCES = [
    "The battery died after two days.",
    "Great phone, works perfectly!",
    "I would not recommend this restaurant to anyone, the service was slow and rude.",
    "ok",
    "Is it possible to get a refund for a card payment that I did not make myself?",
]


@pytest.fixture(scope="module")
def minilm(minilm_path):
    return HFEncoder(ModelSpec(source="all-MiniLM-L6-v2"), minilm_path)


@pytest.mark.slow
def test_sentence_transformers_pooling_and_normalisation_are_kept(minilm, minilm_path):
    from sentence_transformers import SentenceTransformer

    ours = minilm.encode(SENTENCES, batch_size=2)
    reference = SentenceTransformer(str(minilm_path), device="cpu").encode(SENTENCES)
    assert minilm.pooling.mode == "mean" and minilm.pooling.normalize
    assert minilm.pooling.max_length == 256
    np.testing.assert_allclose(ours, reference, atol=2e-5)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_embeddings_do_not_depend_on_batch_size_or_order(minilm):
    a = minilm.encode(SENTENCES, batch_size=1)
    b = minilm.encode(SENTENCES[::-1], batch_size=5)[::-1]
    np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.slow
def test_pooling_can_be_overridden(minilm_path):
    enc = HFEncoder(ModelSpec(source="all-MiniLM-L6-v2", pooling="cls", normalize=False), minilm_path)
    v = enc.encode(SENTENCES[:2])
    assert enc.pooling.mode == "cls" and not np.allclose(np.linalg.norm(v, axis=1), 1.0)


def test_short_name_resolves_to_the_packaged_model(minilm_path, tmp_path):
    ref = resolve_model(ModelSpec(source="all-MiniLM-L6-v2"), tmp_path, where="m")
    assert ref.folder == minilm_path and ref.kind == "hf" and len(ref.fingerprint) == 20


def test_fingerprint_changes_when_weights_change(tiny_bert, minilm_path, tmp_path):
    other = build_tiny_bert(tmp_path / "other", minilm_path, seed=1)
    a = resolve_model(ModelSpec(source=str(tiny_bert)), tmp_path, where="m").fingerprint
    b = resolve_model(ModelSpec(source=str(other)), tmp_path, where="m").fingerprint
    again = resolve_model(ModelSpec(source=str(tiny_bert)), tmp_path, where="m").fingerprint
    assert a != b and a == again


def test_plain_hf_folder_gets_mean_pooling(tiny_bert):
    enc = HFEncoder(ModelSpec(source=str(tiny_bert)), tiny_bert)
    assert enc.pooling.mode == "mean" and not enc.pooling.normalize
    assert enc.encode(SENTENCES).shape == (5, 32)


def test_pickled_weights_are_refused_unless_allowed(minilm_path, tmp_path):
    folder = build_tiny_bert(tmp_path / "pickled", minilm_path, safetensors=False)
    assert not list(folder.glob("*.safetensors"))
    with pytest.raises(ModelLoadError, match="pickled weights"):
        HFEncoder(ModelSpec(source=str(folder)), folder)
    enc = HFEncoder(ModelSpec(source=str(folder), allow_pickle=True), folder)
    assert enc.encode(["hello"]).shape == (1, 32)


def test_remote_code_models_are_refused_by_default(tiny_bert, tmp_path):
    folder = tmp_path / "custom"
    shutil.copytree(tiny_bert, folder)
    cfg = (folder / "config.json").read_text()
    (folder / "config.json").write_text(
        cfg.replace('"model_type": "bert"', '"model_type": "evil", "auto_map": '
                    '{"AutoModel": "modeling_evil.EvilModel", "AutoConfig": "modeling_evil.EvilConfig"}'))
    (folder / "modeling_evil.py").write_text("raise SystemExit('remote code ran')\n")
    with pytest.raises(ModelLoadError, match="trust_remote_code|cannot load"):
        HFEncoder(ModelSpec(source=str(folder)), folder)


def test_uncached_hub_id_fails_fast_offline(tmp_path):
    t0 = time.perf_counter()
    with pytest.raises(ModelLoadError) as info:
        resolve_model_dir(ModelSpec(source="someone/not-a-cached-model"), tmp_path, where="m")
    assert time.perf_counter() - t0 < 3
    assert "downloads are off" in str(info.value) and "all-MiniLM-L6-v2" in str(info.value)


def test_missing_local_folder_is_named(tmp_path):
    with pytest.raises(ModelLoadError, match="model folder not found"):
        resolve_model_dir(ModelSpec(source="./models/nope"), tmp_path, where="m")
