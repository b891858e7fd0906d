"""Content fingerprints of model folders: a hash of the weights and config files."""

from __future__ import annotations

import hashlib
from pathlib import Path

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".onnx", ".h5", ".msgpack")
CONFIG_NAMES = (
    "config.json",
    "modules.json",
    "sentence_bert_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "special_tokens_map.json",
)


def fingerprint_files(paths: list[Path], *, root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(str(p.relative_to(root)).encode())
        with p.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()[:20]


def folder_fingerprint(folder: Path) -> str:
    """Hash of every weight file and config file in a model folder (recursively)."""
    files = [
        p
        for p in folder.rglob("*")
        if p.is_file()
        and (p.suffix in WEIGHT_SUFFIXES or p.name in CONFIG_NAMES or p.parent.name.endswith("Pooling"))
    ]
    return fingerprint_files(files, root=folder)
