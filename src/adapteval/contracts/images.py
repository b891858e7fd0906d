"""Images as sections show them: small PNG thumbnails, encoded here and nowhere else.

An analysis keeps a few example images in its stored result as base64 PNG text
(:func:`to_text`, small: at most :data:`THUMB` pixels a side); a section turns them back
into cells with :func:`image_cell`, which decodes the stored text and encodes a fresh PNG,
so what a report embeds as a ``data:image/png`` URI is always a PNG adapteval wrote from
pixels, whatever the store holds. :func:`overlay` paints an attribution heat map over an
image (red: towards the predicted class, blue: against it).
"""

from __future__ import annotations

import base64
import binascii
import io

import numpy as np

from adapteval.contracts.section import Cell

THUMB = 96
"""Largest side of a stored or shown thumbnail, in pixels (smaller images stay as they
are; the HTML view scales them up without smoothing)."""
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def thumbnail(image: np.ndarray, side: int = THUMB) -> np.ndarray:
    """``image`` (uint8, height x width x 3) shrunk to at most ``side`` pixels a side."""
    from PIL import Image

    h, w = image.shape[:2]
    if max(h, w) <= side:
        return image
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(image, "RGB").resize(size, Image.LANCZOS), np.uint8)


def png(image: np.ndarray) -> bytes:
    """The PNG bytes of a uint8 RGB array."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8), "RGB").save(buf, format="PNG",
                                                                            optimize=True)
    return buf.getvalue()


def to_text(image: np.ndarray, side: int = THUMB) -> str:
    """A thumbnail of ``image`` as base64 PNG text, for a stored (JSON) result."""
    return base64.b64encode(png(thumbnail(image, side))).decode("ascii")


def from_text(text: object) -> np.ndarray | None:
    """The pixels of a stored thumbnail (None when it is not a small base64 PNG)."""
    from PIL import Image

    if not isinstance(text, str) or len(text) > 400_000:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    if not raw.startswith(PNG_SIGNATURE):
        return None
    try:
        with Image.open(io.BytesIO(raw), formats=["PNG"]) as im:
            if im.width * im.height > 4 * THUMB * THUMB:
                return None
            return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def image_cell(image: object, alt: str) -> Cell:
    """A table cell showing ``image`` (pixels, or a stored thumbnail's text) as a fresh
    PNG thumbnail; ``alt`` is what text views print and the HTML ``alt``. An image that
    cannot be read is ``n/a``."""
    pixels = image if isinstance(image, np.ndarray) else from_text(image)
    if pixels is None or pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        return Cell.na("the stored thumbnail could not be read")
    return Cell.image(png(thumbnail(pixels)), alt)


def overlay(image: np.ndarray, heat: np.ndarray, alpha: float = 0.55) -> np.ndarray:
    """``image`` with a heat map over it: ``heat`` (any grid, e.g. one score per patch) is
    stretched to the image, scaled by its largest absolute value, and blended in red where
    positive, blue where negative (stronger colour, larger score)."""
    h, w = image.shape[:2]
    heat = np.asarray(heat, dtype=np.float64)
    rows = np.minimum(np.arange(h) * heat.shape[0] // h, heat.shape[0] - 1)
    cols = np.minimum(np.arange(w) * heat.shape[1] // w, heat.shape[1] - 1)
    full = heat[np.ix_(rows, cols)]
    top = float(np.abs(full).max()) if full.size else 0.0
    weight = (np.abs(full) / top if top > 0 else np.zeros_like(full))[..., None] * alpha
    colour = np.where((full >= 0)[..., None], [220.0, 40.0, 40.0], [40.0, 90.0, 220.0])
    out = image.astype(np.float64) * (1 - weight) + colour * weight
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
