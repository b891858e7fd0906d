"""Task readers of image data that is not a table: IDX files and ImageFolder layouts.

Both give frames with an ``image`` column of decoded items (uint8 RGB arrays) and a
``label`` column; ImageFolder adds ``file`` (the path below the folder, usable as
``id: file``). Tables and saved datasets with an image column are read by their own
readers and decoded by :mod:`adapteval.data.sources`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from adapteval.core.errors import DataError
from adapteval.core.plugin import IMAGE
from adapteval.data import images
from adapteval.data.readers import READERS, TaskReader
from adapteval.suite.specs import TaskSpec

SPLIT_FOLDERS = {"train": "train", "training": "train", "test": "test", "testing": "test",
                 "val": "validation", "valid": "validation", "validation": "validation"}


def _frame(items: list, labels: list, files: list[str] | None = None) -> pd.DataFrame:
    out = {"image": images.object_array(items), "label": labels}
    if files is not None:
        out["file"] = files
    return pd.DataFrame(out)


class IdxReader(TaskReader):
    name = "idx"
    description = ("a folder of IDX files (MNIST layout: train-images-idx3-ubyte[.gz] with "
                   "train-labels-idx1-ubyte[.gz], t10k-* for test)")
    folder = True
    modalities = frozenset({IMAGE})

    def recognises(self, path: Path) -> bool:
        return path.is_dir() and bool(images.idx_folder(path, where=""))

    def read(self, path: Path, spec: TaskSpec, *, where: str) -> dict[str, pd.DataFrame]:
        splits = images.idx_folder(path, where=where)
        if "train" not in splits or "test" not in splits:
            raise DataError("IDX folder needs train-* and t10k-* (or test-*) images and labels",
                            where=where, value=sorted(splits),
                            fix="or list them: files: {train: [images, labels], test: [...]}")
        out = {}
        for split, paths in sorted(splits.items(), key=lambda kv: kv[0] != "train"):
            items, labels = images.idx_pair(paths, where=where)
            out[split] = _frame(items, labels)
        return out


class ImageFolderReader(TaskReader):
    name = "imagefolder"
    description = ("a folder per class of image files (ImageFolder layout), optionally under "
                   "train/ and test/ (and val/) folders")
    folder = True
    modalities = frozenset({IMAGE})

    def _splits(self, path: Path) -> dict[str, Path]:
        return {SPLIT_FOLDERS[d.name.lower()]: d for d in sorted(path.iterdir())
                if d.is_dir() and d.name.lower() in SPLIT_FOLDERS and images.class_folders(d)}

    def recognises(self, path: Path) -> bool:
        return path.is_dir() and bool(self._splits(path) or images.class_folders(path))

    def read(self, path: Path, spec: TaskSpec, *, where: str) -> dict[str, pd.DataFrame]:
        splits = self._splits(path) or {"all": path}
        out = {}
        for split, folder in splits.items():
            items, labels, names = images.image_folder(folder, where=where,
                                                       max_pixels=spec.max_pixels)
            if not items:
                raise DataError("folder holds no class folders of images", where=where,
                                value=str(folder), fix="put each class's images in a folder "
                                "named after the class")
            out[split] = _frame(items, labels, names)
        return out


for _reader in (IdxReader(), ImageFolderReader()):
    READERS.register(_reader)
