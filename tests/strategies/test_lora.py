"""LoRA: only the adapters and the head train, a small share of the weights, seeded."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from adapteval.core.errors import IncompatibleError
from adapteval.data.task import load_task
from adapteval.models.hf import HFEncoder
from adapteval.strategies import CellContext, training
from adapteval.strategies.lora import Lora, LoraParams, default_targets
from adapteval.suite.specs import ModelSpec, TaskSpec

FAST = {"max_steps": 6, "batch_size": 8, "eval_batch_size": 32}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny(tiny_bert) -> HFEncoder:
    return HFEncoder(ModelSpec(source=str(tiny_bert)), tiny_bert)


@pytest.fixture(scope="module")
def yelp(tmp_path_factory):
    spec = TaskSpec(name="yelp", bundled="sentiment-yelp", max_train=48, max_test=24)
    return load_task(spec, tmp_path_factory.mktemp("yelp"))


def fit(task, encoder, seed: int = 0, **params):
    ctx = CellContext(task, task.split(0), encoder, seed)
    return Lora(LoraParams(**{**FAST, **params})).fit(ctx)


def test_only_adapters_and_head_train(tiny, tiny_bert, yelp, monkeypatch):
    before: dict[str, torch.Tensor] = {}
    real_train = training.train

    def snapshot_then_train(model, *args, **kwargs):
        before.update({k: v.detach().clone() for k, v in model.state_dict().items()})
        return real_train(model, *args, **kwargs)

    monkeypatch.setattr(training, "train", snapshot_then_train)
    fitted = fit(yelp, tiny, learning_rate=1e-2)
    after = fitted.predictor.model.state_dict()
    on_disk = load_file(tiny_bert / "model.safetensors")
    lora = [k for k in after if "lora_" in k]
    assert lora and all(".query." in k or ".value." in k for k in lora)
    for key in after:
        if "lora_" in key or key.startswith("head."):
            assert not torch.equal(before[key], after[key]), f"{key} did not train"
        else:
            assert torch.equal(before[key], after[key]), f"{key} changed"
    base = {k.replace(".base_layer.", "."): v for k, v in after.items() if "lora_" not in k}
    for key, value in on_disk.items():  # the base weights are the pretrained ones
        assert torch.equal(base[f"encoder.{key}"], value), key
    trainable = {n for n, q in fitted.predictor.model.named_parameters() if q.requires_grad}
    assert trainable == {k for k in after if "lora_" in k or k.startswith("head.")}
    info = fitted.predictions.info
    assert info["trainable_params"] == sum(after[k].numel() for k in trainable)
    assert info["total_params"] == sum(q.numel() for q in fitted.predictor.model.parameters())


def test_same_seed_same_numbers(tiny, yelp):
    a = fit(yelp, tiny, seed=5).predictions
    b = fit(yelp, tiny, seed=5).predictions
    c = fit(yelp, tiny, seed=6).predictions
    np.testing.assert_array_equal(a.proba, b.proba)
    assert not np.allclose(a.proba, c.proba)


def test_minilm_shapes_train_under_five_percent(minilm_path):
    from adapteval.strategies.training import load_encoder

    encoder = SimpleNamespace(spec=ModelSpec(source="minilm"), folder=minilm_path)
    base = load_encoder(encoder)
    assert default_targets(base) == ["query", "value"]
    model = Lora(LoraParams()).prepare(base)
    trainable = sum(q.numel() for q in model.parameters() if q.requires_grad) + 384 * 2 + 2
    total = sum(q.numel() for q in model.parameters()) + 384 * 2 + 2
    assert trainable == 6 * 2 * (8 * 384 * 2) + 770  # 6 layers x (query, value) x (A, B) + head
    assert trainable / total < 0.05


class _Attention(torch.nn.Module):
    def __init__(self, names: list[str], model_type: str = "custom") -> None:
        super().__init__()
        self.config = SimpleNamespace(model_type=model_type)
        self.layers = torch.nn.ModuleDict({n: torch.nn.Linear(4, 4) for n in names})


def test_default_targets_table_then_names_then_a_clear_error():
    projections = _Attention(["q_proj", "k_proj", "v_proj", "o_proj"])
    assert default_targets(projections) == ["q_proj", "v_proj"]
    assert default_targets(_Attention(["Wqkv", "Wo"])) == ["Wqkv"]
    assert default_targets(_Attention(["q", "k", "v", "o"], "mpnet")) == ["q", "v"]
    with pytest.raises(IncompatibleError, match="target_modules"):
        default_targets(_Attention(["dense", "fc"]))


def test_unknown_target_module_is_a_clear_error(tiny, yelp):
    with pytest.raises(IncompatibleError, match="target_modules not found"):
        fit(yelp, tiny, target_modules=["q_proj"])


@pytest.mark.slow
def test_minilm_lora_on_yelp_knows_sentiment(minilm_path, tmp_path):
    spec = TaskSpec(name="yelp", bundled="sentiment-yelp", max_train=200, max_test=100)
    task = load_task(spec, tmp_path)
    encoder = HFEncoder(ModelSpec(source="all-MiniLM-L6-v2"), minilm_path)
    out = Lora(LoraParams(epochs=2)).run(CellContext(task, task.split(0), encoder, 0))
    assert (out.y_pred[0] == out.y_true).mean() > 0.7
    assert out.info["trainable_params"] / out.info["total_params"] < 0.01
