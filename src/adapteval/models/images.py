"""Image encoders: the shared encoding loop and the preprocessing of EfficientNet-Lite.

An image item is a uint8 RGB array (height, width, 3) (:data:`adapteval.core.plugin.IMAGE`).
Every image encoder turns a list of items into float32 pixel arrays (N, 3, H, W) with
its own ``preprocess`` and pools the network's last feature map into one vector per
image (``features``). ``encode`` preprocesses the next batch on a second thread while the
network runs the current one (Pillow's resizing releases the GIL), so decoding and
resizing do not starve the model; the order of the output rows is the order of the items.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adapteval.core.errors import DataError


def check_image(item: Any, i: int) -> np.ndarray:
    """``item`` as an image array, or one DataError line naming the item."""
    if not isinstance(item, np.ndarray) or item.dtype != np.uint8 or item.ndim != 3 \
            or item.shape[2] != 3 or item.shape[0] == 0 or item.shape[1] == 0:
        what = (f"{item.dtype} array of shape {item.shape}" if isinstance(item, np.ndarray)
                else type(item).__name__)
        raise DataError(f"an image model got a {what} as item {i}", value=i,
                        fix="give images as uint8 RGB arrays of shape (height, width, 3)")
    return item


@dataclass(frozen=True)
class LitePreprocess:
    """EfficientNet-Lite's evaluation transform, as the weights were trained and evaluated.

    Sources of the numbers (the TensorFlow reference of EfficientNet-Lite,
    ``tensorflow/tpu`` ``models/official/efficientnet``):

    - ``size``: 224 / 240 / 260 for lite0 / lite1 / lite2 (``efficientnet_lite_builder.py``
      ``efficientnet_lite_params``; ``efficientnet_lite_pytorch.utils.efficientnet_params``
      repeats them, and the network's same-padding convolutions are built for that size);
    - ``crop_padding = 32``: the evaluation centre crop keeps ``size / (size + 32)`` of the
      shorter side (``preprocessing.py`` ``_decode_and_center_crop``, ``CROP_PADDING``),
      offsets ``(side - crop + 1) // 2``, then resizes the crop bicubically to ``size``;
    - ``mean = 127``, ``std = 128`` for every channel: Lite models use these instead of
      the ImageNet statistics (``efficientnet_lite_builder.py`` ``MEAN_RGB`` /
      ``STDDEV_RGB``, "for better post-quantization"). The PyTorch port's README shows the
      torchvision ImageNet normalisation from the non-Lite package; on real photographs the
      Lite weights give the expected ImageNet class with more confidence under 127/128.

    Pillow's bicubic resize works on uint8, so resized values are rounded and clipped to
    0..255 (TensorFlow's resize returns unclipped floats): differences of at most one grey
    level at sharp edges.
    """

    size: int
    crop_padding: int = 32
    mean: float = 127.0
    std: float = 128.0

    def crop_box(self, height: int, width: int) -> tuple[int, int, int]:
        """(top, left, side) of the centre crop of a ``height`` x ``width`` image."""
        side = max(1, int(self.size / (self.size + self.crop_padding) * min(height, width)))
        return (height - side + 1) // 2, (width - side + 1) // 2, side

    def resized(self, image: np.ndarray) -> np.ndarray:
        """The centre crop resized to ``size`` x ``size`` (uint8, RGB)."""
        from PIL import Image

        top, left, side = self.crop_box(*image.shape[:2])
        crop = np.ascontiguousarray(image[top:top + side, left:left + side])
        out = Image.fromarray(crop, "RGB").resize((self.size, self.size), Image.Resampling.BICUBIC)
        return np.asarray(out)

    def __call__(self, images: list[np.ndarray]) -> np.ndarray:
        """Pixel arrays (N, 3, size, size), float32, normalised."""
        stack = np.stack([self.resized(check_image(im, i)) for i, im in enumerate(images)])
        pixels = (stack.astype(np.float32) - np.float32(self.mean)) / np.float32(self.std)
        return np.ascontiguousarray(pixels.transpose(0, 3, 1, 2))


LITE_NAME = re.compile(r"efficientnet-lite[0-4]")


def variant_of(path: Path) -> str | None:
    """The EfficientNet-Lite variant a weight file's name says
    (``efficientnet-lite0-57934424.pth``)."""
    found = LITE_NAME.match(path.name)
    return found.group(0) if found else None


def freeze_batch_norm(module: Any) -> None:
    """Put ``module``'s batch norm layers in eval mode: they normalise with the pretrained
    running statistics and do not update them. Image bodies call it whenever they are set
    to train: a short fine-tune's small batches would otherwise be normalised with their
    own statistics while prediction uses running ones that barely moved from the
    pretraining data, so the head would learn on features it never sees at test time (and
    LoRA would change the frozen network's statistics). Their scale and shift still train
    in fine-tuning."""
    import torch

    for sub in module.modules():
        if isinstance(sub, torch.nn.modules.batchnorm._BatchNorm):
            sub.eval()


class ImageEncoder:
    """Base of frozen image encoders. Subclasses set ``model`` (the torch module),
    ``dim``, ``device``, ``dtype``, ``spec``, ``preprocess`` (items to pixel arrays) and
    implement ``features`` (a pixel tensor to pooled features)."""

    preprocess: Callable[[list[np.ndarray]], np.ndarray]
    dim: int
    spec: Any
    device: Any
    dtype: Any
    model: Any

    def features(self, pixels: Any) -> Any:
        raise NotImplementedError  # pragma: no cover - abstract

    def pixel_batches(self, items: list[np.ndarray], batch_size: int):
        """(start, pixel array) per batch of ``batch_size`` items, each prepared on a
        second thread while the caller computes on the one before."""
        starts = list(range(0, len(items), batch_size))
        if not starts:
            return
        with ThreadPoolExecutor(1, thread_name_prefix="adapteval-preprocess") as pool:
            pending = pool.submit(self.preprocess, items[:batch_size])
            for k, start in enumerate(starts):
                pixels = pending.result()
                if k + 1 < len(starts):
                    nxt = starts[k + 1]
                    pending = pool.submit(self.preprocess, items[nxt:nxt + batch_size])
                yield start, pixels

    def encode(self, items: list[np.ndarray], *, batch_size: int | None = None,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Pooled features (float32, one row per image, in input order)."""
        import torch

        out = np.empty((len(items), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for start, pixels in self.pixel_batches(list(items), batch_size or self.spec.batch_size):
                x = torch.from_numpy(pixels).to(self.device, self.dtype)
                out[start:start + len(pixels)] = self.features(x).float().cpu().numpy()
                if progress is not None:
                    progress(len(pixels))
        return out
