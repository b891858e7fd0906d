"""Fine-tuning and LoRA on images: EfficientNet-Lite0 (real weights) and a tiny ViT, on
Fashion-MNIST items read from ../shared/data with numpy and gzip."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from adapteval.data.task import Task
from adapteval.models.kinds import load_model, resolve_model
from adapteval.strategies import CellContext
from adapteval.strategies.finetune import FineTune
from adapteval.strategies.lora import Lora, LoraParams
from adapteval.strategies.train_params import TrainParams
from adapteval.suite.specs import ModelSpec, TaskSpec

pytestmark = pytest.mark.usefixtures("one_torch_thread")
FAST = {"max_steps": 3, "batch_size": 8, "eval_batch_size": 32}


def read_idx(path: Path) -> np.ndarray:
    """An IDX array (gzipped): magic (2 zero bytes, a type byte, the rank), then sizes."""
    with gzip.open(path) as fh:
        raw = fh.read()
    rank = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * rank).reshape(dims)


@pytest.fixture(scope="module")
def fashion(shared) -> Task:
    """80 test images of Fashion-MNIST as RGB items: 56 to train on, 24 to test."""
    folder = shared / "fashion-mnist"
    x = read_idx(folder / "t10k-images-idx3-ubyte.gz")[:80]
    y = read_idx(folder / "t10k-labels-idx1-ubyte.gz")[:80].astype(np.int64)
    items = [np.repeat(im[:, :, None], 3, axis=2) for im in x]
    frame = pd.DataFrame({"text": items, "y": y, "split": ["train"] * 56 + ["test"] * 24})
    return Task("fashion", TaskSpec(name="fashion", path="fashion-mnist"), "multiclass",
                tuple(str(i) for i in range(10)), frame, str(folder))


@pytest.fixture(scope="module")
def lite0(one_torch_thread):
    return load_model(resolve_model(ModelSpec(source="efficientnet-lite0"), Path.cwd(), where="m"))


@pytest.fixture(scope="module")
def tiny_vit(tmp_path_factory):
    from tests.models.test_image_models import _tiny_vision

    folder = _tiny_vision(tmp_path_factory.mktemp("vit") / "vit", "vit")
    return load_model(resolve_model(ModelSpec(source=str(folder)), Path.cwd(), where="m"))


def test_lite0_trainable_body_starts_as_the_frozen_features(lite0, fashion):
    """The body a cell trains computes, before training and in eval mode, exactly the
    frozen encoder's features (its 1x1 convolutions made plain Conv2d keep the weights)."""
    body = lite0.trainable_body().eval()
    items = fashion.split(0).test.items[:4]
    with torch.inference_mode():
        got = body(torch.from_numpy(lite0.preprocess(items))).numpy()
    np.testing.assert_allclose(got, lite0.encode(items), rtol=1e-5, atol=1e-6)
    assert all(p.requires_grad for p in body.parameters())


def test_batch_norm_keeps_pretrained_statistics_while_training(lite0, fashion):
    """In training mode the body's batch norm layers still normalise with (and keep) the
    pretrained running statistics; everything else trains."""
    body = lite0.trainable_body().train()
    norms = [m for m in body.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(norms) == 49 and not any(m.training for m in norms)
    assert body.training and body.net._blocks[3].training
    before = {k: v.clone() for k, v in body.state_dict().items() if "running" in k}
    body(torch.from_numpy(lite0.preprocess(fashion.split(0).train.items[:4]))).sum().backward()
    after = body.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in before.items())


def _trained(strategy, task: Task, encoder, seed: int = 0):
    return strategy.fit(CellContext(task, task.split(seed), encoder, seed))


def test_vit_finetune_trains_every_weight_and_predicts_as_stored(tiny_vit, fashion):
    before = {k: v.clone() for k, v in tiny_vit.model.state_dict().items()}
    fitted = _trained(FineTune(TrainParams(**FAST)), fashion, tiny_vit)
    preds, info = fitted.predictions, fitted.predictions.info
    assert info["steps"] == 3 and info["n_test"] == 24
    assert info["head_learning_rate"] == 1e-2  # the image default
    assert preds.proba.shape == (1, 24, 10)
    trained = fitted.predictor.model.encoder.state_dict()
    assert any(not torch.equal(trained[f"model.{k}"], v) for k, v in before.items()
               if f"model.{k}" in trained)
    for k, v in tiny_vit.model.state_dict().items():  # the shared encoder is untouched
        assert torch.equal(v, before[k])
    again = fitted.predictor.scores(fashion.split(0).test.items)
    np.testing.assert_allclose(again, preds.proba[0], rtol=1e-5, atol=1e-6)


def test_vit_lora_adapts_query_and_value_only(tiny_vit, fashion):
    fitted = _trained(Lora(LoraParams(**FAST)), fashion, tiny_vit)
    model = fitted.predictor.model
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n or n.startswith("head.") for n in trainable)
    adapted = {n.split(".lora_")[0].rsplit(".", 1)[-1] for n in trainable if "lora_" in n}
    assert adapted in ({"q_proj", "v_proj"}, {"query", "value"})  # per transformers release


def test_same_seed_same_numbers(tiny_vit, fashion):
    a = _trained(FineTune(TrainParams(**FAST)), fashion, tiny_vit).predictions.proba
    b = _trained(FineTune(TrainParams(**FAST)), fashion, tiny_vit).predictions.proba
    np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_lite0_lora_adapts_pointwise_convolutions_and_keeps_the_weights(lite0, fashion):
    fitted = _trained(Lora(LoraParams(**FAST)), fashion, lite0)
    model = fitted.predictor.model
    names = {n.split(".lora_")[0].rsplit(".", 1)[-1] for n, p in model.named_parameters()
             if p.requires_grad and "lora_" in n}
    assert names == {"_expand_conv", "_project_conv", "_conv_head"}
    frozen = dict(lite0.model.named_parameters())
    for name, param in model.encoder.named_parameters():
        if "lora_" in name:
            continue
        original = name.removeprefix("net.").replace(".base_layer", "")
        assert torch.equal(param.detach(), frozen[original].detach()), name
    buffers = dict(lite0.model.named_buffers())
    for name, buf in model.encoder.named_buffers():  # batch norm statistics kept too
        assert torch.equal(buf, buffers[name.removeprefix("net.").replace(".base_layer", "")])
    info = fitted.predictions.info
    assert info["trainable_params"] < 0.05 * info["total_params"]


@pytest.mark.slow
def test_lite0_finetune_trains_and_predicts_as_stored(lite0, fashion):
    fitted = _trained(FineTune(TrainParams(**FAST)), fashion, lite0)
    trained = dict(fitted.predictor.model.encoder.named_parameters())
    changed = [n for n, p in lite0.model.named_parameters()
               if f"net.{n}" in trained and not torch.equal(trained[f"net.{n}"].detach(), p)]
    assert len(changed) > 100
    again = fitted.predictor.scores(fashion.split(0).test.items)
    np.testing.assert_allclose(again, fitted.predictions.proba[0], rtol=1e-4, atol=1e-5)
