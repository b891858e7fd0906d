"""Decoder-only LMs: resolved from a GGUF file, a folder or a short name; embeddings from the
last real token under either padding side; fine-tuning and LoRA on the decoder body."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from adapteval.core.errors import ConfigError, ModelLoadError
from adapteval.data.task import load_task
from adapteval.models.catalog import lookup
from adapteval.models.causal import CausalLM, converted_folder, find_gguf, publish
from adapteval.models.kinds import kind_of, load_model, resolve_model
from adapteval.strategies import CellContext
from adapteval.strategies.finetune import FineTune
from adapteval.strategies.lora import Lora, LoraParams
from adapteval.strategies.train_params import TrainParams
from adapteval.suite.specs import ModelSpec, TaskSpec

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TEXTS = ["Great food.", "The service was slow and the soup arrived cold, twice.", "ok",
         "I would come back for the bread alone, it is that good."]
FAST = {"max_steps": 4, "batch_size": 8, "eval_batch_size": 16}


@pytest.fixture(scope="module")
def yelp(tmp_path_factory):
    spec = TaskSpec(name="yelp", bundled="sentiment-yelp", max_train=40, max_test=16)
    return load_task(spec, tmp_path_factory.mktemp("yelp"))


def hidden_of_alone(model: CausalLM, text: str) -> np.ndarray:
    """The last token's hidden state of ``text`` run alone: no padding at all."""
    ids = model.tokenizer([text], return_tensors="pt")
    with torch.inference_mode():
        hidden = model.model(input_ids=ids["input_ids"]).last_hidden_state
    return hidden[0, -1].numpy()


@pytest.mark.slow
def test_smollm2_short_name_resolves_to_a_converted_safetensors_folder(smollm2_ref):
    assert smollm2_ref.kind == "causal" and lookup("smollm2").name == "SmolLM2-135M-Instruct"
    config = json.loads((smollm2_ref.folder / "config.json").read_text())
    assert "quantization_config" not in config and config["model_type"] == "llama"
    assert any(smollm2_ref.folder.glob("*.safetensors"))
    gguf = lookup("smollm2").path()
    t0 = time.perf_counter()
    again = resolve_model(ModelSpec(source=str(gguf)), gguf.parent, where="m")
    assert time.perf_counter() - t0 < 5, "the conversion is cached, not redone"
    assert again.folder == smollm2_ref.folder and again.fingerprint == smollm2_ref.fingerprint
    assert kind_of(ModelSpec(source=str(gguf)), where="m").name == "causal"


@pytest.mark.slow
def test_smollm2_is_a_real_pretrained_chat_model(smollm2):
    assert smollm2.chat and smollm2.dim == 576 and smollm2.tokenizer.pad_token_id is not None
    n = sum(p.numel() for p in smollm2.lm.parameters())
    assert 134_000_000 < n < 135_000_000
    ids = smollm2.tokenizer("The capital of France is", return_tensors="pt")
    with torch.inference_mode():
        out = smollm2.lm.generate(**ids, max_new_tokens=3, do_sample=False)
    assert "Paris" in smollm2.tokenizer.decode(out[0])


@pytest.mark.slow
def test_last_token_pooling_is_the_last_real_token_under_both_padding_sides(smollm2):
    alone = np.stack([hidden_of_alone(smollm2, t) for t in TEXTS])
    batched = smollm2.encode(TEXTS, batch_size=4)  # right padding, length-sorted
    np.testing.assert_allclose(batched, alone, atol=2e-4)
    tok = smollm2.tokenizer
    tok.padding_side = "left"
    try:
        enc = tok(TEXTS, padding=True, return_tensors="pt")
    finally:
        tok.padding_side = "right"
    assert (enc["attention_mask"][:, 0] == 0).any(), "some row is left-padded"
    with torch.inference_mode():
        hidden = smollm2.model(**enc).last_hidden_state
        pooled = smollm2.pool(hidden, enc["attention_mask"]).numpy()
    np.testing.assert_allclose(pooled, alone, atol=2e-4)


@pytest.mark.slow
def test_instruction_and_mean_pooling(smollm2, smollm2_ref):
    prefix = "Represent this review for sentiment: "
    spec = smollm2_ref.spec.model_copy(update={"instruction": prefix})
    instructed = CausalLM(spec, smollm2_ref.folder)
    np.testing.assert_allclose(instructed.encode(TEXTS[:2]),
                               smollm2.encode([prefix + t for t in TEXTS[:2]]), atol=1e-5)
    mean = CausalLM(smollm2_ref.spec.model_copy(update={"pooling": "mean"}), smollm2_ref.folder)
    ids = mean.tokenizer([TEXTS[1]], return_tensors="pt")
    with torch.inference_mode():
        hidden = mean.model(**ids).last_hidden_state[0].mean(0).numpy()
    np.testing.assert_allclose(mean.encode([TEXTS[1], TEXTS[2]])[0], hidden, atol=2e-4)


@pytest.mark.parametrize("family", ["tiny_llama", "tiny_qwen", "tiny_gpt2"])
def test_each_family_loads_by_its_folder_and_batches_like_single_texts(family, request):
    folder = request.getfixturevalue(family)
    spec = ModelSpec(source=str(folder))
    assert kind_of(spec, where="m").name == "causal"  # found from config.json
    model = load_model(resolve_model(spec, folder, where="m"))
    assert model.tokenizer.pad_token_id is not None  # GPT-2 has none: end-of-text pads
    batched = model.encode(TEXTS, batch_size=4)
    single = np.concatenate([model.encode([t]) for t in TEXTS])
    np.testing.assert_allclose(batched, single, atol=1e-5)


def test_a_bad_gguf_file_and_an_encoder_pooling_are_one_clear_line(tmp_path, tiny_llama):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(ModelLoadError, match="cannot read GGUF file"):
        converted_folder(bad, "broken-test")
    (tmp_path / "two").mkdir()
    for name in ("a.gguf", "b.gguf"):
        (tmp_path / "two" / name).write_bytes(b"GGUF")
    with pytest.raises(ModelLoadError, match="holds 2 GGUF files"):
        find_gguf(tmp_path / "two", where="models[0]")
    with pytest.raises(ModelLoadError, match="does not suit a decoder"):
        CausalLM(ModelSpec(source=str(tiny_llama), pooling="cls"), tiny_llama)
    with pytest.raises(ConfigError, match="not available"):
        CausalLM(ModelSpec(source=str(tiny_llama), device="cuda:7"), tiny_llama)


def test_lora_on_gpt2_adapts_its_fused_conv1d_attention(tiny_gpt2, yelp):
    model = load_model(resolve_model(ModelSpec(source=str(tiny_gpt2)), tiny_gpt2, where="m"))
    fitted = Lora(LoraParams(**FAST, learning_rate=1e-2)).fit(
        CellContext(yelp, yelp.split(0), model, 0))
    names = {n for n, q in fitted.predictor.model.named_parameters() if q.requires_grad}
    assert names and all("c_attn.lora_" in n or n.startswith("head.") for n in names)
    assert fitted.predictions.proba.shape == (1, len(yelp.split(0).test), 2)


def test_same_seed_same_numbers_and_checkpointing_changes_none(tiny_llama, yelp):
    model = load_model(resolve_model(ModelSpec(source=str(tiny_llama)), tiny_llama, where="m"))

    def run(**extra):
        ctx = CellContext(yelp, yelp.split(0), model, 3)
        return FineTune(TrainParams(**FAST, **extra)).fit(ctx).predictions

    a, b, c = run(), run(), run(gradient_checkpointing=True)
    np.testing.assert_array_equal(a.proba, b.proba)
    np.testing.assert_allclose(a.proba, c.proba, atol=1e-6)
    assert c.info["gradient_checkpointing"] and a.info["train_peak_memory_mb"] >= 0
    assert a.info["train_peak_memory_of"] in ("rss", "rss_lifetime")
    assert FineTune(TrainParams(gradient_checkpointing=True)).config() == FineTune(
        TrainParams()).config(), "checkpointing does not change the numbers, so not the key"


@pytest.mark.slow
def test_lora_on_smollm2_trains_only_adapters_and_head(smollm2, yelp):
    ctx = CellContext(yelp, yelp.split(0), smollm2, 0)
    fitted = Lora(LoraParams(**{**FAST, "max_steps": 2})).fit(ctx)
    net = fitted.predictor.model
    trainable = {n for n, q in net.named_parameters() if q.requires_grad}
    assert trainable and all(("q_proj.lora_" in n or "v_proj.lora_" in n)
                             or n.startswith("head.") for n in trainable)
    info = fitted.predictions.info
    assert info["trainable_params"] == 460_800 + net.head.weight.numel() + net.head.bias.numel()
    assert 134_000_000 < info["total_params"] < 136_000_000
    assert info["train_peak_memory_mb"] > 0
    # the base weights are untouched: the served LM still scores as before
    before = smollm2.encode(TEXTS[:1])
    np.testing.assert_array_equal(before, smollm2.encode(TEXTS[:1]))


def test_two_workers_converting_the_same_file_both_end_with_one_folder(tmp_path):
    """Workers of one run may convert the same GGUF file at once; the second to finish
    keeps the first one's folder instead of failing on the rename."""
    def converted(name: str) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "model.safetensors").write_text(name)
        return folder

    target = tmp_path / "converted"
    publish(converted(".converting-a"), target)
    assert (target / "model.safetensors").read_text() == ".converting-a"
    publish(converted(".converting-b"), target)
    assert (target / "model.safetensors").read_text() == ".converting-a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["converted"]
    (tmp_path / "taken").write_text("a file where the folder should go")
    with pytest.raises(OSError):
        publish(converted(".converting-c"), tmp_path / "taken")
