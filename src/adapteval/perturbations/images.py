"""Seeded image corruptions at severities 1 to 5, in the spirit of ImageNet-C (Hendrycks
and Dietterich, ICLR 2019).

An image is a ``numpy.ndarray`` of dtype uint8 and shape (height, width, 3), RGB
(``core.plugin.IMAGE``); every corruption returns one of the same shape. A
:class:`Corruption` wraps a function ``(image, rng, severity) -> image``; corruptions
live in their own registry, :data:`CORRUPTIONS` (entry-point group
``adapteval.corruptions``): the built-ins below and any added with
:func:`register_corruption`.

Randomness is drawn from ``(seed, item index, stable hash of the corruption name)`` through
``numpy.random.SeedSequence`` (:func:`corruption_rng`), the same scheme as the text
perturbations, and *not* from the severity: an item's noise, rotation direction or patch
position is the same at every severity and only its strength grows, so an item's
corruption at severity 4 is a stronger version of the one at severity 3.

Sizes are scaled to the image: blurs and the other pixel-sized settings are the ImageNet-C
values at 224 pixels and shrink (down to a floor) on smaller images, so a 28×28
Fashion-MNIST item is not wiped out at severity 2.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from pydantic import Field

from adapteval.core.checks import is_int
from adapteval.core.errors import ConfigError, DataError
from adapteval.core.plugin import IMAGE, TASK_TYPES, Params
from adapteval.core.registry import Registry
from adapteval.perturbations.registry import perturbation_rng

SEVERITIES = (1, 2, 3, 4, 5)
ImageFn = Callable[[np.ndarray, np.random.Generator, int], np.ndarray]


class CorruptionParams(Params):
    """What a caller may set per use: the severity."""

    severity: int = Field(3, ge=1, le=5)


def check_image(image: object, where: str) -> np.ndarray:
    """``image`` if it is a uint8 (height, width, 3) array, else a one-line DataError."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 \
            or image.shape[2] != 3 or 0 in image.shape:
        shape = getattr(image, "shape", None)
        dtype = getattr(image, "dtype", type(image).__name__)
        raise DataError(
            "an image item must be a uint8 array of shape (height, width, 3)", where=where,
            value=f"{dtype} {shape}" if shape is not None else dtype,
            fix="decode images to RGB uint8 arrays (adapteval's image readers do)",
        )
    return image


def check_severity(severity: object) -> int:
    if not is_int(severity) or severity not in SEVERITIES:
        raise ConfigError("severity must be an int from 1 to 5", value=severity,
                          fix="1 is the mildest, 5 the strongest")
    return int(severity)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Corruption:
    """A named image corruption: ``fn(image, rng, severity)`` returns the corrupted
    image (uint8, same shape), drawing all randomness from ``rng``."""

    name: str
    description: str
    fn: ImageFn
    random: bool = True  # False: the output depends on the image and severity only
    Params: ClassVar[type[Params]] = CorruptionParams
    modalities: ClassVar[frozenset[str]] = frozenset({IMAGE})
    task_types: ClassVar[frozenset[str]] = frozenset(TASK_TYPES)

    def __call__(self, image: np.ndarray, rng: np.random.Generator, severity: int) -> np.ndarray:
        image = check_image(image, f"corruption {self.name!r} input")
        out = self.fn(image, rng, check_severity(severity))
        if not isinstance(out, np.ndarray) or out.shape != image.shape or out.dtype != np.uint8:
            raise ConfigError(
                f"corruption {self.name!r} returned "
                f"{getattr(out, 'dtype', type(out).__name__)} {getattr(out, 'shape', '')}, "
                f"not uint8 {image.shape}",
                fix="return a uint8 array of the input's shape",
            )
        return out


CORRUPTIONS: Registry[Corruption] = Registry("corruptions")


def register_corruption(name: str, fn: ImageFn, description: str, *, random: bool = True,
                        replace: bool = False) -> Corruption:
    """Add a corruption under ``name`` and return it. ``fn(image, rng, severity)`` takes a
    uint8 (height, width, 3) array, a ``numpy.random.Generator`` and a severity from 1 to
    5, and returns the corrupted uint8 array of the same shape; its distance to the clean
    image should grow with the severity. An existing name is a ConfigError unless
    ``replace=True``."""
    if not isinstance(name, str) or not name.strip():
        raise ConfigError("corruption name must be a non-empty string", value=name)
    if not callable(fn):
        raise ConfigError(f"corruption {name!r} needs a callable fn(image, rng, severity)",
                          value=fn)
    if name in CORRUPTIONS and not replace:
        raise ConfigError(f"a corruption named {name!r} is already registered",
                          fix="pick another name or pass replace=True")
    return CORRUPTIONS.register(Corruption(name, str(description), fn, random), replace=True)


def get_corruption(name: str) -> Corruption:
    """The corruption registered under ``name``; unknown names list the valid ones."""
    if not isinstance(name, str) or name not in CORRUPTIONS:
        raise ConfigError(f"unknown corruption {name!r}",
                          fix=CORRUPTIONS.suggestion(name if isinstance(name, str) else ""))
    item = CORRUPTIONS.get(name)
    if isinstance(item, Corruption):
        return item
    if callable(item):  # a bare function exposed through an entry point
        doc = (getattr(item, "__doc__", None) or "").strip().splitlines()
        return Corruption(name, doc[0] if doc else "", item)
    raise ConfigError(f"corruption {name!r} is not callable", value=item,
                      fix="an entry point must load a Corruption or a function")


def corruption_rng(seed: int, index: int, name: str) -> np.random.Generator:
    """The generator item ``index`` is corrupted with (independent of the severity)."""
    return perturbation_rng(seed, index, name)


def corrupt_images(images: Sequence[np.ndarray], name: str, *, severity: int, seed: int,
                   start: int = 0, index: Sequence[int] | None = None) -> list[np.ndarray]:
    """Corruption ``name`` at ``severity`` applied to each image, reproducibly: item ``i``
    uses :func:`corruption_rng` ``(seed, index[i], name)`` (``index`` defaults to
    ``start + i``; pass task row ids to make an item's corruption independent of which
    other items are corrupted)."""
    corruption = get_corruption(name)
    if not is_int(seed) or seed < 0:  # type: ignore[operator]
        raise ConfigError("seed must be an int >= 0", value=seed, fix="e.g. seed=0")
    if index is not None and len(index) != len(images):
        raise ConfigError("index must give one position per image",
                          value=f"{len(index)} for {len(images)} images")
    ids = [int(i) for i in index] if index is not None else \
        list(range(int(start), int(start) + len(images)))
    return [corruption(check_image(img, f"images[{k}]"), corruption_rng(int(seed), i, name),
                       severity) for k, (img, i) in enumerate(zip(images, ids, strict=True))]


def list_corruptions() -> list[str]:
    return CORRUPTIONS.names()


# --- the built-ins -------------------------------------------------------------------

def _scale(image: np.ndarray) -> float:
    """How ImageNet-C's pixel sizes (made for 224 px) scale to this image (floor 1/4)."""
    return max(min(image.shape[:2]) / 224.0, 0.25)


def _unit(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float64) / 255.0


def _uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)


def _pil(image: np.ndarray):
    from PIL import Image

    return Image.fromarray(image, mode="RGB")


def gaussian_noise(image: np.ndarray, rng: np.random.Generator, severity: int) -> np.ndarray:
    """Additive Gaussian noise (ImageNet-C's sigmas), grey on grey images.

    Per pixel and channel; one value per pixel when the channels are equal, so grey data
    stays grey."""
    sigma = (0.08, 0.12, 0.18, 0.26, 0.38)[severity - 1]
    grey = bool((image[..., :1] == image).all())
    shape = (*image.shape[:2], 1) if grey else image.shape
    return _uint8(_unit(image) + sigma * rng.standard_normal(shape))


def _blur(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    from scipy.ndimage import convolve

    x = _unit(image)
    out = np.stack([convolve(x[..., c], kernel, mode="reflect") for c in range(3)], -1)
    return _uint8(out)


def gaussian_blur(image: np.ndarray, rng: np.random.Generator, severity: int) -> np.ndarray:
    """Gaussian blur; sigma 1 to 6 pixels at 224 px (ImageNet-C), scaled to the image."""
    from scipy.ndimage import gaussian_filter

    sigma = (1.0, 2.0, 3.0, 4.0, 6.0)[severity - 1] * max(_scale(image), 0.5)
    return _uint8(gaussian_filter(_unit(image), sigma=(sigma, sigma, 0), mode="reflect"))


def defocus_blur(image: np.ndarray, rng: np.random.Generator, severity: int) -> np.ndarray:
    """Defocus: an anti-aliased disk kernel, radius 3 to 10 pixels at 224 px."""
    radius = (3.0, 4.0, 6.0, 8.0, 10.0)[severity - 1] * max(_scale(image), 0.3)
    half = int(np.ceil(radius))
    yy, xx = np.mgrid[-half:half + 1, -half:half + 1]
    kernel = np.clip(radius + 0.5 - np.hypot(yy, xx), 0.0, 1.0)
    return _blur(image, kernel / kernel.sum())


def brightness(image: np.ndarray, rng: np.random.Generator, severity: int) -> np.ndarray:
    """Brighter: each channel raised by 0.1 to 0.5 of the range (clipped)."""
    return _uint8(_unit(image) + (0.1, 0.2, 0.3, 0.4, 0.5)[severity - 1])


def contrast(image: np.ndarray, rng: np.random.Generator, severity: int) -> np.ndarray:
    """Less contrast: pixels pulled towards the image's mean (ImageNet-C's factors)."""
    c = (0.4, 0.3, 0.2, 0.1, 0.05)[severity - 1]
    x = _unit(image)
    mean = x.mean()
    return _uint8((x - mean) * c + mean)


def jpeg(image: np.ndarray, rng: np.random.Generator, severity: int) -> np.ndarray:
    """JPEG compression at quality 25 down to 5 (Pillow, 4:2:0 chroma subsampling)."""
    from PIL import Image

    buf = io.BytesIO()
    _pil(image).save(buf, format="JPEG", quality=(25, 15, 10, 7, 5)[severity - 1])
    with Image.open(io.BytesIO(buf.getvalue())) as decoded:
        return np.asarray(decoded.convert("RGB"), dtype=np.uint8).copy()


def pixelate(image: np.ndarray, rng: np.random.Generator, severity: int) -> np.ndarray:
    """Down to 60% .. 18% of the size with box filtering, back up with nearest pixels."""
    from PIL import Image

    f = (0.6, 0.45, 0.35, 0.25, 0.18)[severity - 1]
    h, w = image.shape[:2]
    small = _pil(image).resize((max(1, round(w * f)), max(1, round(h * f))), Image.BOX)
    return np.asarray(small.resize((w, h), Image.NEAREST), dtype=np.uint8).copy()


def _border_colour(image: np.ndarray) -> tuple[int, int, int]:
    edge = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    return tuple(int(v) for v in np.median(edge, axis=0))  # type: ignore[return-value]


def rotate(image: np.ndarray, rng: np.random.Generator, severity: int) -> np.ndarray:
    """Rotation by 5 to 30 degrees, its direction drawn per item.

    Bilinear; the corners are filled with the image's median border colour."""
    from PIL import Image

    sign = 1.0 if rng.random() < 0.5 else -1.0
    angle = sign * (5.0, 10.0, 15.0, 20.0, 30.0)[severity - 1]
    out = _pil(image).rotate(angle, resample=Image.BILINEAR, fillcolor=_border_colour(image))
    return np.asarray(out, dtype=np.uint8).copy()


def occlude(image: np.ndarray, rng: np.random.Generator, severity: int) -> np.ndarray:
    """A grey patch covering 5% to 35% of the image, placed per item.

    A near-square; its centre is drawn per item (the same at every severity) and the
    patch is kept inside the image."""
    h, w = image.shape[:2]
    area = (0.05, 0.1, 0.17, 0.25, 0.35)[severity - 1]
    cells = max(1, round(area * h * w))  # a near-square of that many pixels
    sh = min(h, max(1, round(np.sqrt(cells))))
    sw = min(w, int(np.ceil(cells / sh)))
    cy, cx = rng.random(2)
    top = min(max(round(cy * h - sh / 2), 0), h - sh)
    left = min(max(round(cx * w - sw / 2), 0), w - sw)
    out = image.copy()
    out[top:top + sh, left:left + sw] = 128
    return out


BUILTIN_CORRUPTIONS: dict[str, tuple[ImageFn, bool]] = {
    "gaussian_noise": (gaussian_noise, True),
    "gaussian_blur": (gaussian_blur, False),
    "defocus_blur": (defocus_blur, False),
    "brightness": (brightness, False),
    "contrast": (contrast, False),
    "jpeg": (jpeg, False),
    "pixelate": (pixelate, False),
    "rotate": (rotate, True),
    "occlude": (occlude, True),
}

for _name, (_fn, _random) in BUILTIN_CORRUPTIONS.items():
    register_corruption(_name, _fn, (_fn.__doc__ or "").split("\n")[0].rstrip("."),
                        random=_random)


__all__ = [
    "BUILTIN_CORRUPTIONS", "CORRUPTIONS", "Corruption", "SEVERITIES", "check_image",
    "corrupt_images", "corruption_rng", "get_corruption", "list_corruptions",
    "register_corruption",
]
