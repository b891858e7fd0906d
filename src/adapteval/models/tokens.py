"""Length-sorted batches with dynamic padding, and pooling, shared by every encoder kind."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

KEYS = ("input_ids", "attention_mask", "token_type_ids")


def tokenize(tokenizer: Any, texts: list[str], max_length: int) -> dict[str, list[list[int]]]:
    enc = tokenizer(texts, truncation=True, max_length=max_length, padding=False)
    return {k: v for k, v in enc.items() if k in KEYS}


def length_sorted_batches(
    tokenizer: Any, texts: list[str], batch_size: int, max_length: int
) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """Yield (indices, padded int64 arrays): longest batches first, each padded only to its
    own longest item, so short texts never pay for long ones."""
    enc = tokenize(tokenizer, texts, max_length)
    lengths = np.fromiter((len(ids) for ids in enc["input_ids"]), dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")
    pad_id = tokenizer.pad_token_id or 0
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        width = int(lengths[idx].max())
        batch = {}
        for key, rows in enc.items():
            arr = np.full((len(idx), width), pad_id if key == "input_ids" else 0, np.int64)
            for r, i in enumerate(idx):
                arr[r, : lengths[i]] = rows[i]
            batch[key] = arr
        yield idx, batch


def pool_numpy(hidden: np.ndarray, mask: np.ndarray, mode: str, normalize: bool) -> np.ndarray:
    """Pool token vectors (b, s, d) to sentence vectors (b, d) in numpy."""
    if mode == "cls":
        out = hidden[:, 0]
    elif mode == "max":
        out = np.where(mask[..., None] > 0, hidden, -1e9).max(1)
    else:
        m = mask[..., None].astype(hidden.dtype)
        out = (hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
    if normalize:
        out = out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)
    return out.astype(np.float32)
