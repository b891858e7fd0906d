"""Real images for the image tests: Fashion-MNIST from ../shared/data (IDX, gzipped, read
with numpy) and scikit-learn's digits, both as uint8 RGB arrays (the image item form)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

FASHION = Path(__file__).resolve().parents[2] / "shared" / "data" / "fashion-mnist"


def read_idx(path: Path) -> np.ndarray:
    """An IDX file of unsigned bytes (images: n x rows x cols; labels: n)."""
    with gzip.open(path, "rb") as fh:
        data = fh.read()
    ndim = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def as_rgb(gray: np.ndarray) -> np.ndarray:
    return np.repeat(gray[..., None], 3, axis=-1)


def fashion(n: int, split: str = "t10k") -> tuple[list[np.ndarray], np.ndarray]:
    """The first ``n`` Fashion-MNIST images of ``split`` (28x28 grey as RGB) and labels."""
    images = read_idx(FASHION / f"{split}-images-idx3-ubyte.gz")[:n]
    labels = read_idx(FASHION / f"{split}-labels-idx1-ubyte.gz")[:n]
    return [as_rgb(a) for a in images], labels.astype(np.int64)


def digits(n: int | None = None) -> tuple[list[np.ndarray], np.ndarray]:
    """scikit-learn's 8x8 digits (0..16) scaled to uint8 and repeated to RGB."""
    from sklearn.datasets import load_digits

    d = load_digits()
    images = np.rint(d.images[:n] * (255 / 16)).astype(np.uint8)
    return [as_rgb(a) for a in images], d.target[:n].astype(np.int64)
