"""Tasks: a labelled dataset, its columns, its type and its train/test splits.

``load_task`` reads the files a ``TaskSpec`` names, checks them (columns, labels,
classes, splits) and returns a ``Task`` whose ``split(seed)`` gives the data a cell
trains and tests on. Splits the data gives are kept; otherwise a seeded, stratified
split is drawn. The task fingerprint hashes the data and every setting that changes it.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from adapteval.core.errors import DataError
from adapteval.core.keys import item_key
from adapteval.core.memo import Memo, code_stamp, digest
from adapteval.core.plugin import IMAGE, TEXT, TEXT_PAIR
from adapteval.data import bundled
from adapteval.data.labels import as_text, encode_labels, name_classes
from adapteval.data.sources import column, read_frames
from adapteval.suite.specs import TaskSpec

SPLIT_ALIASES = {
    "train": "train", "training": "train",
    "test": "test", "testing": "test",
    "validation": "validation", "valid": "validation", "val": "validation", "dev": "validation",
}


@dataclass(frozen=True)
class View:
    """The items of one split, in a fixed order.

    ``items`` are the task's inputs in its modality (texts for ``text`` and ``text_pair``
    tasks, uint8 RGB arrays for ``image`` tasks); ``pairs`` the second item of each pair,
    for pair tasks."""

    items: list[Any]
    pairs: list[Any] | None
    y: np.ndarray
    domains: np.ndarray | None = None
    groups: np.ndarray | None = None
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.items)

    def take(self, idx: np.ndarray) -> View:
        return View(
            [self.items[i] for i in idx],
            [self.pairs[i] for i in idx] if self.pairs is not None else None,
            self.y[idx],
            self.domains[idx] if self.domains is not None else None,
            self.groups[idx] if self.groups is not None else None,
            self.rows[idx],
        )


@dataclass(frozen=True)
class Split:
    train: View
    test: View
    validation: View | None = None


@dataclass(frozen=True)
class Task:
    name: str
    spec: TaskSpec
    type: str  # binary | multiclass | regression
    classes: tuple[str, ...] | None
    frame: pd.DataFrame  # columns: text | image, [text_pair], y, [domain], [group], split
    source: str
    ids: tuple[str, ...] | None = None  # the id column's value per frame row (not fingerprinted)

    @property
    def is_regression(self) -> bool:
        return self.type == "regression"

    @property
    def modality(self) -> str:
        """``text``, ``text_pair`` with a text pair column, ``image`` with an image column
        (``core.plugin.MODALITIES``)."""
        if "image" in self.frame:
            return IMAGE
        return TEXT_PAIR if "text_pair" in self.frame else TEXT

    @property
    def item_column(self) -> str:
        """The frame column holding the inputs: ``image`` or ``text``."""
        return "image" if "image" in self.frame else "text"

    @property
    def has_given_split(self) -> bool:
        return bool((self.frame["split"] != "all").all())

    @cached_property
    def fingerprint(self) -> str:
        h = hashlib.sha256()
        if "image" in self.frame:  # pixels by content (dtype, shape, bytes), row by row
            h.update(pd.util.hash_pandas_object(self.frame.drop(columns=["image"]),
                                                index=False).values.tobytes())
            h.update(b"".join(item_key(x) for x in self.frame["image"]))
        else:
            h.update(pd.util.hash_pandas_object(self.frame, index=False).values.tobytes())
        s = self.spec  # what prompting reads counts only where set: older keys stay
        settings = (self.type, self.classes, s.test_size, s.split_seed, s.max_train, s.max_test,
                    *((s.label_words, s.prompt) if s.label_words or s.prompt else ()))
        h.update(repr(settings).encode())
        return h.hexdigest()[:20]

    def distinct_items(self) -> list[Any]:
        """Every distinct input of the task (first items, then pair items), in a fixed
        order: what a frozen model encodes once for all of the task's cells."""
        if "image" in self.frame:
            return list({item_key(x): x for x in self.frame["image"]}.values())
        items = dict.fromkeys(self.frame["text"])
        if "text_pair" in self.frame:
            items.update(dict.fromkeys(self.frame["text_pair"]))
        return list(items)

    def split_duplicates(self, seed: int) -> int:
        """How many test items of seed ``seed``'s split also occur in its train split
        (the same input, and the same pair for pair tasks): items a model may have seen."""
        return test_in_train(self.split(seed))

    def _view(self, idx: np.ndarray) -> View:
        f = self.frame
        return View(
            f[self.item_column].to_numpy()[idx].tolist(),
            f["text_pair"].to_numpy()[idx].tolist() if "text_pair" in f else None,
            f["y"].to_numpy()[idx],
            f["domain"].to_numpy()[idx] if "domain" in f else None,
            f["group"].to_numpy()[idx] if "group" in f else None,
            idx.astype(np.int64),
        )

    def split(self, seed: int) -> Split:
        """Train/test(/validation) for a cell seed; deterministic for a given seed."""
        s = self.spec.split_seed if self.spec.split_seed is not None else seed
        labels = self.frame["split"].to_numpy()
        y = self.frame["y"].to_numpy()
        if self.has_given_split:
            train = np.flatnonzero(labels == "train")
            test = np.flatnonzero(labels == "test")
            val = np.flatnonzero(labels == "validation")
        else:
            everything = np.arange(len(labels))
            train, test = _split(everything, y, self.spec.test_size, s, not self.is_regression)
            val = np.zeros(0, dtype=np.int64)
        if self.spec.max_train and len(train) > self.spec.max_train:
            train = _subsample(train, y, self.spec.max_train, s, not self.is_regression)
        if self.spec.max_test and len(test) > self.spec.max_test:
            test = _subsample(test, y, self.spec.max_test, s + 1, not self.is_regression)
        return Split(
            self._view(np.sort(train)),
            self._view(np.sort(test)),
            self._view(np.sort(val)) if len(val) else None,
        )


def test_in_train(split: Split) -> int:
    """How many test items of ``split`` also occur in its train split (the same input,
    and the same pair for pair tasks)."""
    def keys(v: View) -> list[Any]:
        items = [t if isinstance(t, str) else item_key(t) for t in v.items]
        return list(zip(items, v.pairs, strict=True)) if v.pairs is not None else items

    seen = set(keys(split.train))
    return sum(k in seen for k in keys(split.test))


def _stratify(y: np.ndarray, enabled: bool) -> np.ndarray | None:
    if not enabled:
        return None
    _, counts = np.unique(y, return_counts=True)
    return y if counts.min() >= 2 else None


SPLITS = Memo("splits", keep=5_000)
"""Drawn splits by a digest of what draws them: a rerun reads them without importing
scikit-learn (a second and a half)."""


def _drawn(what: str, idx: np.ndarray, strat: np.ndarray | None, size: float | int,
           seed: int, **split_args: Any) -> list[np.ndarray]:
    """``train_test_split(idx, stratify=strat, random_state=seed, ...)``, kept in SPLITS."""
    key = None
    if strat is None or strat.dtype != object:
        s = np.ascontiguousarray(strat) if strat is not None else None
        key = digest(what, code_stamp("adapteval.data.task", libraries=("scikit-learn",)),
                     idx.dtype.str, np.ascontiguousarray(idx).tobytes(),
                     "-" if s is None else s.dtype.str, b"" if s is None else s.tobytes(),
                     repr(size), str(seed))
        kept = SPLITS.get(key)
        if kept is not None:
            try:
                with np.load(io.BytesIO(kept), allow_pickle=False) as z:
                    return [z[f"a{i}"] for i in range(len(z.files))]
            except (OSError, ValueError, KeyError):
                pass
    from sklearn.model_selection import train_test_split

    parts = train_test_split(idx, random_state=seed, stratify=strat, **split_args)
    if key is not None:
        buf = io.BytesIO()
        np.savez(buf, **{f"a{i}": a for i, a in enumerate(parts)})
        SPLITS.put(key, buf.getvalue())
    return parts


def _split(idx, y, test_size, seed, stratified):
    return _drawn("split", idx, _stratify(y[idx], stratified), test_size, seed,
                  test_size=test_size)


def _subsample(idx, y, n, seed, stratified):
    strat = _stratify(y[idx], stratified)
    if strat is not None and n < len(np.unique(strat)):
        strat = None
    kept, _ = _drawn("subsample", idx, strat, n, seed, train_size=n)
    return kept


def load_task(spec: TaskSpec, base_dir: Path, *, where: str | None = None) -> Task:
    """Read and check a task's data; raise ``DataError`` with one clear line if it is bad."""
    where = where or f"task {spec.name!r}"
    if spec.bundled is not None:
        spec, base_dir = bundled.resolve(spec, where=where)
    frames, source, image_col = read_frames(spec, base_dir, where)
    parts = []
    for split_name, frame in frames.items():
        if spec.split_column is not None:
            col = column(frame, spec.split_column, "split_column", where, source)
            names = col.astype(str).str.lower().map(SPLIT_ALIASES)
            if names.isna().any():
                bad = col[names.isna()].iloc[0]
                raise DataError(
                    f"unknown split name in column {spec.split_column!r}", where=where,
                    value=bad, fix="use train, validation (or dev) and test",
                )
        else:
            names = pd.Series([SPLIT_ALIASES.get(split_name.lower(), "all")] * len(frame))
            if split_name != "all" and split_name.lower() not in SPLIT_ALIASES:
                continue  # e.g. an 'unsupervised' split of a saved dataset
        if image_col is not None:
            out = pd.DataFrame({"image": column(frame, image_col, "image", where,
                                                source).to_numpy()})
        else:
            out = pd.DataFrame({"text": column(frame, spec.text, "text", where,
                                               source).to_numpy()})
            if spec.text_pair:
                out["text_pair"] = column(frame, spec.text_pair, "text_pair", where,
                                          source).to_numpy()
        out["label"] = column(frame, spec.label, "label", where, source).to_numpy()
        for role in ("domain", "group", "id"):
            name = getattr(spec, role)
            if name:
                out[role] = column(frame, name, role, where, source).astype(str).to_numpy()
        out["split"] = names.to_numpy()
        parts.append(out)
    frame = pd.concat(parts, ignore_index=True)
    if len(frame) == 0:
        raise DataError("dataset has no rows", where=where, value=source)
    if "text" in frame:
        frame["text"] = as_text(frame["text"], "text", where, frame["split"])
    if "text_pair" in frame:
        frame["text_pair"] = as_text(frame["text_pair"], "text_pair", where, frame["split"])
    kind, classes, y = encode_labels(frame["label"], spec.type, where, frame["split"])
    if spec.class_names:
        classes = name_classes(classes, spec.class_names, kind, where)
    frame = frame.drop(columns=["label"]).assign(y=y)
    _check(frame, spec, kind, classes, where)
    ids = None
    if "id" in frame:
        ids = tuple(frame["id"].tolist())
        frame = frame.drop(columns=["id"])
    return Task(spec.name, spec, kind, classes, frame, source, ids)


def _check(frame: pd.DataFrame, spec: TaskSpec, kind: str, classes, where: str) -> None:
    if "id" in frame and frame["id"].duplicated().any():
        dup = frame.loc[frame["id"].duplicated(), "id"].iloc[0]
        raise DataError(
            f"id column {spec.id!r} has duplicate values", where=where, value=dup,
            fix="ids must be unique across all splits",
        )
    splits = set(frame["split"])
    if "all" in splits and len(splits) > 1:
        raise DataError(
            "some rows have a split and some do not", where=where, value=sorted(splits),
            fix="give every row a split, or none",
        )
    if "all" not in splits:
        for needed in ("train", "test"):
            if needed not in splits:
                raise DataError(
                    f"the {needed} split is empty or missing", where=where,
                    value=sorted(splits), fix=f"provide a {needed} split (or no splits at all "
                    "to let adapteval draw a seeded one)",
                )
        if kind != "regression":
            train_codes = set(frame.loc[frame["split"] == "train", "y"])
            if len(train_codes) < 2:
                raise DataError(
                    "the train split has only one class", where=where,
                    value=classes[next(iter(train_codes))],
                    fix="a classifier needs at least two classes to learn from",
                )
            unseen = set(frame.loc[frame["split"] == "test", "y"]) - train_codes
            if unseen:
                raise DataError(
                    f"{len(unseen)} label(s) in the test split never occur in train",
                    where=where, value=sorted(classes[c] for c in unseen)[:5],
                    fix="add training examples for them or drop them from test",
                )
    elif len(frame) < 4:
        raise DataError(
            f"dataset has only {len(frame)} rows; too few to split", where=where,
            fix="provide at least a few examples per class",
        )
