"""Where a task's rows come from: its files (one per split, or a list per split), its
path (a file or a folder), or in-memory images from the Python API.

``read_frames`` returns the frames by split, a description of the source, and, for an
image task, the column holding its decoded images (:mod:`adapteval.data.images`):
IDX files and ImageFolder layouts are decoded by their readers; a table's ``image:``
column (paths relative to the table, encoded bytes, a saved dataset's Image feature)
is decoded here.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd

from adapteval.core.errors import DataError
from adapteval.core.plugin import IMAGE
from adapteval.data import image_readers, images
from adapteval.data.images import object_array
from adapteval.data.readers import READERS, detect_format, read_file
from adapteval.suite.specs import TaskSpec

assert image_readers.IdxReader.name in READERS  # IDX and ImageFolder readers registered

IMAGE_COLUMN = "image"
"""The column image readers (IDX, ImageFolder) and in-memory images fill."""


def read_frames(spec: TaskSpec, base_dir: Path,
                where: str) -> tuple[dict[str, pd.DataFrame], str, str | None]:
    """(frames by split, source, image column or None for a text task)."""
    if spec.images is not None:
        return _arrays(spec, where), "<in-memory images>", IMAGE_COLUMN
    if spec.files is not None:
        frames, sources, columns = {}, [], set()
        for split_name, rel in spec.files.items():
            paths = [resolve(r, base_dir) for r in ([rel] if isinstance(rel, str) else rel)]
            got, column = _read_split(paths, spec, f"{where}.files.{split_name}")
            frames[split_name] = got
            columns.add(column)
            sources.extend(str(p) for p in paths)
        if len(columns) > 1:
            raise DataError("some splits hold images and some do not", where=f"{where}.files",
                            fix="give every split the same kind of file")
        return frames, ", ".join(sources), columns.pop()
    path = resolve(spec.path or "", base_dir)
    got, column = _read(path, spec, f"{where}.path")
    return got, str(path), column


def resolve(rel: str, base_dir: Path) -> Path:
    p = Path(rel).expanduser()
    return p if p.is_absolute() else base_dir / p


def column(frame: pd.DataFrame, name: str, role: str, where: str, source: str) -> pd.Series:
    if name not in frame.columns:
        cols = ", ".join(map(str, frame.columns[:12]))
        hint = ""
        if len(frame.columns) == 1 and any(sep in str(frame.columns[0]) for sep in "\t;|"):
            hint = " (one column holding separators: is the delimiter right? try format: tsv)"
        raise DataError(
            f"{role} column {name!r} not found in {source}{hint}", where=where,
            fix=f"set {role}: to one of the columns: {cols}",
        )
    return frame[name]


def _read(path: Path, spec: TaskSpec, where: str) -> tuple[dict[str, pd.DataFrame], str | None]:
    """One file or folder: its frames, images decoded."""
    got = read_file(path, spec, where=where)
    reader = READERS.get(detect_format(path, spec.format, where=where))
    if reader.modalities == frozenset({IMAGE}):  # IDX, ImageFolder: decoded by the reader
        return got, IMAGE_COLUMN
    if spec.image is None:
        return got, None
    base = path if path.is_dir() else path.parent
    for frame in got.values():
        cells = column(frame, spec.image, "image", where, str(path))
        frame[spec.image] = object_array([
            images.decode_value(v, base, row=i, where=where, max_pixels=spec.max_pixels)
            for i, v in enumerate(cells.tolist())])
    return got, spec.image


def _read_split(paths: list[Path], spec: TaskSpec, where: str) -> tuple[pd.DataFrame, str | None]:
    """The files of one split: an IDX images/labels pair, or tables read in turn."""
    for p in paths:
        if not p.exists():
            raise DataError("data file not found", where=where, value=str(p),
                            fix="paths are relative to the suite file; check the spelling")
    if spec.format == "idx" or (spec.format == "auto" and len(paths) > 1
                                and all(is_idx(p) for p in paths)):
        items, labels = images.idx_pair(paths, where=where)
        return pd.DataFrame({IMAGE_COLUMN: object_array(items), "label": labels}), IMAGE_COLUMN
    parts, col = [], None
    for p in paths:
        got, col = _read(p, spec, where)
        parts.extend(got.values())
    return pd.concat(parts, ignore_index=True), col


def is_idx(path: Path) -> bool:
    """Whether ``path`` starts with an IDX magic number of unsigned bytes (gzipped or not)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(2)
        opener = gzip.open if head == b"\x1f\x8b" else open
        with opener(path, "rb") as fh:
            magic = fh.read(4)
    except (OSError, EOFError):
        return False
    return int.from_bytes(magic, "big") in (images.IDX_IMAGES, images.IDX_LABELS)


def _arrays(spec: TaskSpec, where: str) -> dict[str, pd.DataFrame]:
    """In-memory images and labels: one pool, or dicts keyed by split name."""
    imgs, labels = spec.images, spec.labels
    if isinstance(imgs, dict) != isinstance(labels, dict):
        raise DataError("images and labels must both be dicts by split, or both sequences",
                        where=f"{where}.images")
    pools = imgs if isinstance(imgs, dict) else {"all": imgs}
    ys = labels if isinstance(labels, dict) else {"all": labels}
    if set(pools) != set(ys):
        raise DataError("images and labels name different splits", where=f"{where}.labels",
                        value=sorted(map(str, set(pools) ^ set(ys))))
    frames = {}
    for split, batch in pools.items():
        items = images.items_of(batch, where=f"{where}.images[{split!r}]")
        y = np.asarray(ys[split])
        if y.ndim != 1 or len(y) != len(items):
            raise DataError(f"{len(items)} images but labels of shape {y.shape}",
                            where=f"{where}.labels[{split!r}]",
                            fix="give one label per image")
        frames[str(split)] = pd.DataFrame({IMAGE_COLUMN: object_array(items), "label": y})
    return frames
