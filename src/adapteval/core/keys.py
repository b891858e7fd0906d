"""Content keys: the identity of cells, analyses, models and texts, and the JSON form
every stored number passes through."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np


def content_key(parts: dict[str, Any]) -> str:
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def text_hash(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def item_key(item: Any) -> bytes:
    """The feature-cache key of one input item: its text's hash for text, a hash of the
    raw bytes (with dtype and shape for arrays) for other modalities."""
    if isinstance(item, str):
        return text_hash(item)
    h = hashlib.blake2b(digest_size=16)
    if isinstance(item, np.ndarray):
        h.update(f"{item.dtype.str}{item.shape}".encode())
        item = np.ascontiguousarray(item).tobytes()
    h.update(bytes(item))
    return h.digest()


def jsonable(value: Any) -> Any:
    """numpy scalars/arrays and tuples to plain JSON types; NaN/inf to None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        v = float(value)
        return v if np.isfinite(v) else None
    return value
