"""An exported artefact stays the model it came from: all-MiniLM-L6-v2 exported to ONNX
here embeds real reviews like the PyTorch model, and the shipped int8 quantisation of the
same model stays close to it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import SHARED

from adapteval.models.kinds import load_model, resolve_model
from adapteval.suite.specs import ModelSpec


def real_texts(n: int = 48) -> list[str]:
    """Short and long sentences from the three review sites, as published."""
    out = []
    for file in ("amazon_cells", "imdb", "yelp"):
        f = pd.read_csv(SHARED / "sentiment-sentences" / f"{file}_labelled.txt", sep="\t",
                        header=None, names=["text", "label"], quoting=3)
        by_len = f.assign(n=f["text"].str.len()).sort_values("n")["text"].tolist()
        out += by_len[: n // 6] + by_len[-(n // 6):]  # the shortest and the longest
    return out


def export_minilm(folder: Path, minilm: Path) -> Path:
    """Export the PyTorch encoder's token output with dynamic batch and sequence axes,
    through the TorchScript-based exporter (works offline, no extra packages)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    class TokenOutput(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    model = AutoModel.from_pretrained(minilm).eval()
    example = AutoTokenizer.from_pretrained(minilm)(["a short one", "and a longer sentence"],
                                                    padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    path = folder / "minilm.onnx"
    with torch.no_grad():
        torch.onnx.export(
            TokenOutput(model), tuple(example[k] for k in names), str(path), input_names=names,
            output_names=["last_hidden_state"], opset_version=17, dynamo=False,
            dynamic_axes={k: {0: "batch", 1: "sequence"} for k in [*names, "last_hidden_state"]},
        )
    return path


@pytest.mark.slow
def test_exported_onnx_embeddings_equal_the_pytorch_model(tmp_path, minilm_path, one_torch_thread):
    path = export_minilm(tmp_path, minilm_path)
    ref = resolve_model(ModelSpec(source=str(path), kind="onnx", tokenizer="all-MiniLM-L6-v2",
                                  normalize=True), tmp_path, where="m")
    onnx = load_model(ref)
    assert onnx.inputs == ["input_ids", "attention_mask", "token_type_ids"]
    torch_model = load_model(resolve_model(ModelSpec(source="all-MiniLM-L6-v2"), tmp_path,
                                           where="m"))
    texts = real_texts()
    a, b = onnx.encode(texts, batch_size=8), torch_model.encode(texts, batch_size=8)
    assert a.shape == b.shape == (len(texts), 384)
    np.testing.assert_allclose(a, b, atol=2e-5)
    assert (a * b).sum(1).min() > 0.99999


@pytest.mark.slow
def test_int8_onnx_stays_close_to_the_pytorch_model_on_real_text(tmp_path, one_torch_thread):
    int8 = load_model(resolve_model(ModelSpec(source="all-MiniLM-L6-v2-int8-onnx",
                                              tokenizer="all-MiniLM-L6-v2", normalize=True),
                                    tmp_path, where="m"))
    fp32 = load_model(resolve_model(ModelSpec(source="all-MiniLM-L6-v2"), tmp_path, where="m"))
    texts = real_texts()
    cos = (int8.encode(texts) * fp32.encode(texts)).sum(1)
    assert cos.min() > 0.95 and cos.mean() > 0.98
    assert cos.max() < 0.99999  # quantisation does change the numbers
