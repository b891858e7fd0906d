"""Training data for the trained strategies: a validation carve-out, token ids, batches.

Texts (and text pairs) are tokenized once. Training batches group items of similar
token length (a seeded shuffle, then sorting within pools of ``POOL_BATCHES`` batches,
then a seeded shuffle of the batches) and are padded only to their own longest item.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from adapteval.data.task import View

POOL_BATCHES = 50  # batches per length-sorting pool: long enough to group, short enough to mix
KEYS = ("input_ids", "attention_mask", "token_type_ids")


@dataclass(frozen=True)
class Encoded:
    """Token ids of one view's items (unpadded) with their targets."""

    ids: dict[str, list[list[int]]]
    lengths: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.lengths)


def encode_view(tokenizer: Any, view: View, max_length: int) -> Encoded:
    """Tokenize a view (pair encoding when it has text pairs), truncated to ``max_length``."""
    if len(view) == 0:
        return Encoded({"input_ids": [], "attention_mask": []}, np.zeros(0, np.int64), view.y)
    enc = tokenizer(
        view.items, view.pairs, truncation=True, max_length=max_length, padding=False
    )
    ids = {k: list(enc[k]) for k in KEYS if k in enc}
    lengths = np.fromiter((len(r) for r in ids["input_ids"]), dtype=np.int64, count=len(view))
    return Encoded(ids, lengths, view.y)


def carve_validation(
    train: View, fraction: float, seed: int, n_classes: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Split training items into (fit, validation) indices: seeded, stratified by class
    when every class can give at least one item to each side; no validation if too small."""
    n = len(train)
    n_val = int(round(fraction * n))
    everything = np.arange(n)
    if n_val < 2 or n - n_val < 2:
        return everything, np.zeros(0, np.int64)
    from sklearn.model_selection import train_test_split

    stratify = None
    if n_classes is not None:
        _, counts = np.unique(train.y, return_counts=True)
        k = len(counts)
        if counts.min() >= 2 and k <= n_val <= n - k:
            stratify = train.y
    fit, val = train_test_split(everything, test_size=n_val, random_state=seed, stratify=stratify)
    return np.sort(fit), np.sort(val)


def epoch_batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """One epoch of length-grouped batches of item indices, in a seeded random order."""
    perm = rng.permutation(len(lengths))
    pool = batch_size * POOL_BATCHES
    batches: list[np.ndarray] = []
    for start in range(0, len(perm), pool):
        chunk = perm[start : start + pool]
        chunk = chunk[np.argsort(-lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def sorted_batches(lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Batches for inference: longest items first, so padding stays small."""
    order = np.argsort(-lengths, kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def n_batches(n_items: int, batch_size: int) -> int:
    return -(-n_items // batch_size)


def collate(data: Encoded, idx: np.ndarray, pad_id: int, device: Any = None) -> dict[str, Any]:
    """Padded tensors of the items ``idx``, as wide as their longest item (on ``device``
    when given)."""
    import torch

    lengths = data.lengths[idx]
    width = int(lengths.max())
    batch = {}
    for key, rows in data.ids.items():
        arr = np.full((len(idx), width), pad_id if key == "input_ids" else 0, np.int64)
        for r, i in enumerate(idx):
            arr[r, : lengths[r]] = rows[i]
        tensor = torch.from_numpy(arr)
        batch[key] = tensor if device is None else tensor.to(device)
    return batch
