"""Images as task items: decoding every source to one form, and IDX files.

An image item is a ``numpy.ndarray`` of dtype uint8 and shape (height, width, 3), RGB
(``core.plugin.IMAGE``). Decoding (Pillow):

- grayscale (``L``, ``1``, ``I;16``, ``I``, ``F``): the gray value in all three channels;
  16-bit and 32-bit gray is scaled from its type's full range to 0..255
  (``round(v / 257)`` for 16-bit);
- palette (``P``): the palette's colours (a transparent entry as RGBA, below);
- with alpha (``RGBA``, ``LA``, ``PA``): composited on white (``out = a * rgb + (1 - a) *
  255``, rounded), so a transparent background reads as white paper, not black;
- CMYK, YCbCr and other modes: Pillow's conversion to RGB.

Sizes are kept as they are (model kinds resize). Before a file is decoded its pixel
count is checked against the task's ``max_pixels`` (a decompression bomb is refused,
as are Pillow's own bomb error and warning). Every problem is one ``DataError`` line
naming the file.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from adapteval.core.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm",
                  ".pgm", ".pbm")
DEFAULT_MAX_PIXELS = 40_000_000
"""Largest image (width x height) a task decodes unless its ``max_pixels`` says more."""


def to_rgb(image: Any) -> np.ndarray:
    """A Pillow image as a uint8 (H, W, 3) RGB array (see the module docstring)."""

    mode = image.mode
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float64)
        alpha = rgba[..., 3:] / 255.0
        out = rgba[..., :3] * alpha + 255.0 * (1.0 - alpha)
        return np.rint(out).astype(np.uint8)
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        gray = np.asarray(image, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or gray.max(initial=0) <= 65535 else 2**32 - 1
        if mode == "F":
            top = 1.0 if gray.max(initial=0) <= 1.0 else 255.0
        gray = np.rint(np.clip(gray / top, 0.0, 1.0) * 255.0).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if mode != "RGB":
        image = image.convert("RGB")
    return np.array(image, dtype=np.uint8)  # a copy: the item owns its pixels


def decode(data: bytes | Path, *, name: str, where: str,
           max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """The image in ``data`` (bytes, or a file path) as uint8 RGB; ``name`` names it in
    errors."""
    from PIL import Image, UnidentifiedImageError

    if isinstance(data, Path) and not data.is_file():
        raise DataError("image file not found", where=where, value=name,
                        fix="image paths are relative to the file that lists them")
    source = data if isinstance(data, Path) else io.BytesIO(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise _bomb(name, width, height, max_pixels, where)
                image.load()
                return to_rgb(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DataError("image is too large to decode safely (a decompression bomb?)",
                        where=where, value=name,
                        fix="check the file; if it is genuine, raise max_pixels: of the task") \
            from None
    except UnidentifiedImageError:
        raise DataError("file is not an image Pillow can decode", where=where, value=name,
                        fix="use PNG, JPEG, BMP, GIF, TIFF or WebP, or drop the row") from None
    except (OSError, SyntaxError, ValueError) as exc:
        what = ("image file is truncated" if "truncated" in str(exc).lower()
                else f"image is broken ({str(exc).splitlines()[0][:60]})")
        raise DataError(what, where=where, value=name,
                        fix="re-export the image or drop the row") from None


def _bomb(name: str, width: int, height: int, limit: int, where: str) -> DataError:
    return DataError(
        f"image is {width}x{height} = {width * height:,} pixels, over the limit of "
        f"{limit:,} (a decompression bomb?)", where=where, value=name,
        fix="check the file; if it is genuine, raise max_pixels: of the task")


def decode_value(value: Any, base_dir: Path, *, row: int, where: str,
                 max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """One cell of an image column: a path (relative to ``base_dir``), encoded bytes, a
    ``data:image/...;base64,`` URI (text formats), a saved dataset's Image feature
    ``{"bytes": ..., "path": ...}``, or an array."""
    if isinstance(value, dict):  # datasets.Image, as to_pandas() gives it
        data, path = value.get("bytes"), value.get("path")
        value = data if data is not None else path
    if isinstance(value, bytes | bytearray | memoryview):
        return decode(bytes(value), name=f"bytes of row {row + 1}", where=where,
                      max_pixels=max_pixels)
    if isinstance(value, np.ndarray):
        return as_item(value, where=where, name=f"row {row + 1}")
    if isinstance(value, str) and value.startswith("data:image/") and ";base64," in value:
        try:
            data = base64.b64decode(value.split(";base64,", 1)[1], validate=True)
        except (binascii.Error, ValueError):
            raise DataError(f"image data URI at row {row + 1} is not valid base64",
                            where=where, value=value[:40], fix="re-encode the image") from None
        return decode(data, name=f"data URI of row {row + 1}", where=where,
                      max_pixels=max_pixels)
    if isinstance(value, str) and value.strip():
        p = Path(value.strip()).expanduser()
        return decode(p if p.is_absolute() else base_dir / p, name=value, where=where,
                      max_pixels=max_pixels)
    raise DataError(f"image is missing at row {row + 1}", where=where, value=value,
                    fix="give a path (relative to the file) or the encoded bytes in every row")


def as_item(array: Any, *, where: str, name: str) -> np.ndarray:
    """An in-memory image (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) of integers in
    0..255 as a uint8 RGB item (alpha composited on white, as for files)."""
    a = np.asarray(array)
    if a.dtype.kind == "b" or a.dtype.kind not in "iu":
        raise DataError(f"image {name} has dtype {a.dtype}, not integers 0..255", where=where,
                        fix="convert it, e.g. (x * 255).round().astype(numpy.uint8)")
    if a.size and (a.min() < 0 or a.max() > 255):
        raise DataError(f"image {name} has values outside 0..255", where=where,
                        value=[int(a.min()), int(a.max())], fix="scale it to 0..255 uint8")
    a = a.astype(np.uint8, copy=False)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim == 2:
        return np.repeat(a[..., None], 3, axis=2)
    if a.ndim == 3 and a.shape[2] == 3:
        return np.ascontiguousarray(a)
    if a.ndim == 3 and a.shape[2] == 4:
        from PIL import Image

        return to_rgb(Image.fromarray(a, "RGBA"))
    raise DataError(f"image {name} has shape {a.shape}", where=where,
                    fix="give (height, width), (height, width, 3) or (height, width, 4)")


def items_of(batch: Any, *, where: str) -> list[np.ndarray]:
    """Items of an in-memory batch: an (N, H, W[, C]) array or a list of images."""
    if isinstance(batch, np.ndarray) and batch.ndim in (3, 4) and batch.dtype.kind in "iu" \
            and (batch.ndim == 3 or batch.shape[3] in (1, 3)):
        whole = as_item(batch.reshape(-1, *batch.shape[2:]), where=where, name="batch")
        return list(whole.reshape(len(batch), *batch.shape[1:3], 3))
    return [as_item(a, where=where, name=f"{i}") for i, a in enumerate(batch)]


def object_array(values: list[Any]) -> np.ndarray:
    """A 1-D object array holding ``values`` (arrays stay whole, one per row)."""
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = v
    return out


IDX_IMAGES, IDX_LABELS = 2051, 2049


def read_idx(path: Path, *, where: str) -> np.ndarray:
    """An IDX file (gzipped or not) of unsigned bytes: images (N, rows, cols) under
    magic 2051, labels (N,) under magic 2049."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataError(f"gzipped IDX file is broken ({exc})", where=where,
                            value=str(path), fix="download or copy it again") from None
    magic = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else -1
    dims = {IDX_IMAGES: 3, IDX_LABELS: 1}.get(magic)
    if dims is None:
        raise DataError(f"not an IDX file of unsigned bytes (magic number {magic})",
                        where=where, value=str(path),
                        fix=f"images need magic {IDX_IMAGES}, labels {IDX_LABELS}")
    header = 4 + 4 * dims
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims))
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise DataError(
            f"IDX file holds {len(raw) - header:,} bytes of data but its header says "
            f"{' x '.join(map(str, shape))} = {expected:,} (truncated?)", where=where,
            value=str(path), fix="download or copy it again")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def idx_pair(paths: list[Path], *, where: str) -> tuple[list[np.ndarray], np.ndarray]:
    """Items and labels of one split from its images file and labels file (any order)."""
    if len(paths) != 2:
        raise DataError(f"an IDX split needs two files (images and labels), got {len(paths)}",
                        where=where, value=[str(p) for p in paths],
                        fix="give [images.idx3-ubyte.gz, labels.idx1-ubyte.gz]")
    arrays = [read_idx(p, where=where) for p in paths]
    images = [a for a in arrays if a.ndim == 3]
    labels = [a for a in arrays if a.ndim == 1]
    if len(images) != 1 or len(labels) != 1:
        raise DataError("an IDX split needs one images file (magic 2051) and one labels file "
                        "(magic 2049)", where=where, value=[str(p) for p in paths])
    x, y = images[0], labels[0]
    if len(x) != len(y):
        label_file = paths[[a.ndim for a in arrays].index(1)]
        raise DataError(f"IDX images file holds {len(x):,} images but its labels file "
                        f"{label_file.name} {len(y):,} labels", where=where,
                        value=str(paths[[a.ndim for a in arrays].index(3)]),
                        fix="pair the images with their own labels file")
    rgb = np.repeat(x[..., None], 3, axis=3)
    return list(rgb), y.copy()


IDX_SPLITS = {"train": "train", "t10k": "test", "test": "test"}


def idx_folder(folder: Path, *, where: str) -> dict[str, list[Path]]:
    """The IDX files of a folder by split: ``PREFIX-images-idx3-ubyte[.gz]`` with
    ``PREFIX-labels-idx1-ubyte[.gz]``; prefix ``train``, and ``t10k`` or ``test``."""
    out: dict[str, list[Path]] = {}
    for images in sorted(folder.glob("*-images-idx3-ubyte*")):
        prefix = images.name.split("-images-")[0]
        labels = sorted(folder.glob(f"{prefix}-labels-idx1-ubyte*"))
        split = IDX_SPLITS.get(prefix.lower())
        if split is not None and labels:
            out[split] = [images, labels[0]]
    return out


def class_folders(folder: Path) -> list[Path]:
    """Subfolders of ``folder`` that hold at least one image file (one per class)."""
    return sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith(".")
                  and any(f.suffix.lower() in IMAGE_SUFFIXES for f in d.iterdir()))


def image_folder(folder: Path, *, where: str, max_pixels: int) -> tuple[list, list, list]:
    """(items, labels, relative paths) of an ImageFolder layout: ``folder/CLASS/*.png``."""
    items, labels, names = [], [], []
    for d in class_folders(folder):
        for f in sorted(d.iterdir()):
            if f.suffix.lower() in IMAGE_SUFFIXES:
                name = f"{d.name}/{f.name}"
                items.append(decode(f, name=str(folder / name), where=where,
                                    max_pixels=max_pixels))
                labels.append(d.name)
                names.append(name)
    return items, labels, names
