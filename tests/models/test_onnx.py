"""ONNX encoders: graph inputs read from the model, embeddings faithful to the original."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adapteval.core.errors import ConfigError
from adapteval.models.kinds import load_model, resolve_model
from adapteval.suite.specs import ModelSpec

TEXTS = [
    "A very good movie.",
    "The worst phone I have ever bought, it broke within a day and support never answered.",
    "ok",
    "Is it possible to get a refund for a card payment that I did not make?",
]


def _load(**kw):
    return load_model(resolve_model(ModelSpec(**kw), Path.cwd(), where="m"))


@pytest.mark.slow
def test_l3_graph_without_token_type_ids_matches_its_own_sentence_output():
    import onnxruntime as ort

    enc = _load(source="paraphrase-MiniLM-L3-v2-onnx", tokenizer="all-MiniLM-L6-v2")
    assert enc.inputs == ["input_ids", "attention_mask"]
    ours = enc.encode(TEXTS, batch_size=2)
    # the exported graph also carries a mean-pooled sentence output: ours must equal it
    session = ort.InferenceSession(str(enc.folder / next(enc.folder.glob("*.onnx")).name))
    sentence_out = [o.name for o in session.get_outputs() if len(o.shape) == 2 and o.shape[1] == 384]
    for i, text in enumerate(TEXTS):
        batch = enc.tokenizer([text], return_tensors="np")
        feed = {k: batch[k].astype(np.int64) for k in enc.inputs}
        (reference,) = session.run(sentence_out, feed)
        np.testing.assert_allclose(ours[i], reference[0], atol=1e-4)


@pytest.mark.slow
def test_int8_graph_with_token_type_ids_stays_close_to_the_pytorch_model():
    int8 = _load(source="all-MiniLM-L6-v2-int8-onnx", tokenizer="all-MiniLM-L6-v2", normalize=True)
    assert "token_type_ids" in int8.inputs
    fp32 = _load(source="all-MiniLM-L6-v2")
    cos = (int8.encode(TEXTS) * fp32.encode(TEXTS)).sum(1)
    assert cos.min() > 0.99


def test_onnx_model_without_a_tokenizer_is_a_config_error():
    with pytest.raises(ConfigError, match="needs a tokenizer"):
        resolve_model(ModelSpec(source="paraphrase-MiniLM-L3-v2-onnx"), Path.cwd(), where="m")


def test_fingerprint_covers_the_tokenizer(tiny_bert):
    a = resolve_model(ModelSpec(source="paraphrase-MiniLM-L3-v2-onnx", tokenizer="all-MiniLM-L6-v2"),
                      Path.cwd(), where="m")
    b = resolve_model(ModelSpec(source="paraphrase-MiniLM-L3-v2-onnx", tokenizer=str(tiny_bert)),
                      Path.cwd(), where="m")
    assert a.fingerprint != b.fingerprint and a.key != b.key


@pytest.mark.slow
def test_random_init_control_has_the_architecture_but_not_the_knowledge():
    ref = resolve_model(ModelSpec(source="all-MiniLM-L6-v2", random_init=True), Path.cwd(), where="m")
    pre = resolve_model(ModelSpec(source="all-MiniLM-L6-v2"), Path.cwd(), where="m")
    assert ref.fingerprint != pre.fingerprint
    random_vecs = load_model(ref).encode(TEXTS)
    assert random_vecs.shape == (4, 384)
    assert np.abs((random_vecs * load_model(pre).encode(TEXTS)).sum(1)).max() < 0.3
