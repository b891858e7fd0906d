"""Training data for the trained strategies on images: items kept as arrays, turned
into pixel tensors batch by batch with the encoder's own preprocessing (the transform
its features use), so memory holds the small originals rather than every resized copy.
Every item has the same length, so the length-grouped batching of texts reduces to a
seeded shuffle (training) or the items' order (prediction)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from adapteval.data.task import View


@dataclass(frozen=True)
class ImageData:
    """One view's images, their targets and the preprocessing that makes pixels."""

    items: list[np.ndarray]
    y: np.ndarray
    preprocess: Callable[[list[np.ndarray]], np.ndarray]

    @property
    def lengths(self) -> np.ndarray:
        return np.zeros(len(self.items), np.int64)

    def __len__(self) -> int:
        return len(self.items)

    def collate(self, idx: np.ndarray, device: Any = None) -> dict[str, Any]:
        """``{"pixel_values": tensor}`` of the items ``idx`` (on ``device`` when given)."""
        import torch

        pixels = torch.from_numpy(self.preprocess([self.items[i] for i in idx]))
        return {"pixel_values": pixels if device is None else pixels.to(device)}


def image_view(view: View, preprocess: Callable[[list[np.ndarray]], np.ndarray]) -> ImageData:
    return ImageData(list(view.items), view.y, preprocess)
