"""Model loading: pooling as the folder says, safe weights, fingerprints, offline failures."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

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


def _cache_as_hub_model(tiny_bert, cache: Path, repo: str) -> Path:
    """A Hugging Face cache folder holding ``tiny_bert`` as hub model ``repo`` (the
    layout huggingface_hub writes: refs/main naming a snapshot folder)."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    root = cache / f"models--{repo.replace('/', '--')}"
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text(commit)
    snapshot = root / "snapshots" / commit
    shutil.copytree(tiny_bert, snapshot)
    return snapshot


@pytest.mark.parametrize("repo", ["BAAI/bge-small-en-v1.5", "org/model.v2", "gpt2"])
def test_a_cached_hub_id_resolves_whatever_its_dots(tiny_bert, tmp_path, monkeypatch, repo):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    snapshot = _cache_as_hub_model(tiny_bert, tmp_path / "hub", repo)
    folder = resolve_model_dir(ModelSpec(source=repo), tmp_path / "suite", where="m")
    assert folder.resolve() == snapshot.resolve()
    assert HFEncoder(ModelSpec(source=repo), folder).encode(["a cached model"]).shape[0] == 1


def test_an_uncached_hub_id_with_a_dot_names_the_cache_folder(tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(ModelLoadError) as info:
        resolve_model_dir(ModelSpec(source="BAAI/bge-small-en-v1.5"), tmp_path, where="m")
    message = str(info.value)
    assert "downloads are off" in message and str(tmp_path / "hub") in message
    assert "folder not found" not in message
