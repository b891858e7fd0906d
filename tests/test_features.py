"""The feature cache keys items by content, whatever their modality."""

from __future__ import annotations

import hashlib

import numpy as np

from adapteval.core.keys import item_key
from adapteval.core.progress import Reporter
from adapteval.features import Embedder, EmbeddingCache


class PixelMeans:
    """A stand-in encoder for array items (not text): per-channel means."""

    dim = 3

    def __init__(self) -> None:
        self.seen: list[int] = []

    def encode(self, items, progress=None):
        self.seen.append(len(items))
        return np.stack([np.asarray(x, dtype=np.float32).reshape(-1, 3).mean(0) for x in items])


class Ref:
    key, label = "pixel-means", "pixel-means"


def test_text_keys_are_the_hashes_every_existing_cache_holds():
    text = "Great battery, poor screen."
    assert item_key(text) == hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def test_array_keys_tell_content_shape_and_dtype_apart():
    a = np.arange(12, dtype=np.uint8)
    assert item_key(a) == item_key(a.copy())
    assert item_key(a) != item_key(a.reshape(3, 4))
    assert item_key(a) != item_key(a.astype(np.int16))
    assert item_key(a) != item_key(a[::-1])


def test_array_items_are_encoded_once_and_read_back_from_disk(tmp_path):
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, size=(4, 4, 3), dtype=np.uint8) for _ in range(5)]
    model = PixelMeans()
    first = Embedder(model, Ref(), EmbeddingCache(tmp_path), Reporter())(images + images[:2])
    assert model.seen == [5]  # duplicates encoded once
    np.testing.assert_allclose(first[0], images[0].reshape(-1, 3).mean(0), rtol=1e-6)

    again = PixelMeans()
    second = Embedder(again, Ref(), EmbeddingCache(tmp_path), Reporter())(images)
    assert again.seen == []  # everything came from the SQLite cache
    np.testing.assert_array_equal(second, first[:5])
