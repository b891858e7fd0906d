"""Tasks: a labelled dataset, its columns, its type and its train/test splits.

``load_task`` reads the files a ``TaskSpec`` names, checks them (columns, labels,
classes, splits) and returns a ``Task`` whose ``split(seed)`` gives the data a cell
trains and tests on. Splits the data gives are kept; otherwise a seeded, stratified
split is drawn. The task fingerprint hashes the data and every setting that changes it.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from adapteval.core.errors import DataError
from adapteval.core.plugin import TEXT, TEXT_PAIR
from adapteval.data import bundled
from adapteval.data.readers import read_file
from adapteval.suite.specs import TaskSpec

SPLIT_ALIASES = {
    "train": "train", "training": "train",
    "test": "test", "testing": "test",
    "validation": "validation", "valid": "validation", "val": "validation", "dev": "validation",
}
MISSING = {"", "nan", "none", "null", "na", "n/a"}


@dataclass(frozen=True)
class View:
    """The items of one split, in a fixed order.

    ``items`` are the task's inputs in its modality (texts for ``text`` and ``text_pair``
    tasks); ``pairs`` the second item of each pair, for pair tasks."""

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
    frame: pd.DataFrame  # columns: text, [text_pair], y, [domain], [group], split
    source: str
    ids: tuple[str, ...] | None = None  # the id column's value per frame row (not fingerprinted)

    @property
    def is_regression(self) -> bool:
        return self.type == "regression"

    @property
    def modality(self) -> str:
        """``text``, or ``text_pair`` with a text pair column (``core.plugin.MODALITIES``)."""
        return TEXT_PAIR if "text_pair" in self.frame else TEXT

    @property
    def has_given_split(self) -> bool:
        return bool((self.frame["split"] != "all").all())

    @cached_property
    def fingerprint(self) -> str:
        h = hashlib.sha256()
        h.update(pd.util.hash_pandas_object(self.frame, index=False).values.tobytes())
        s = self.spec  # what prompting reads counts only where set: older keys stay
        settings = (self.type, self.classes, s.test_size, s.split_seed, s.max_train, s.max_test,
                    *((s.label_words, s.prompt) if s.label_words or s.prompt else ()))
        h.update(repr(settings).encode())
        return h.hexdigest()[:20]

    def distinct_items(self) -> list[Any]:
        """Every distinct input of the task (first items, then pair items), in a fixed
        order: what a frozen model encodes once for all of the task's cells."""
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
            f["text"].to_numpy()[idx].tolist(),
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
        return list(zip(v.items, v.pairs, strict=True)) if v.pairs is not None else v.items

    seen = set(keys(split.train))
    return sum(k in seen for k in keys(split.test))


def _stratify(y: np.ndarray, enabled: bool) -> np.ndarray | None:
    if not enabled:
        return None
    _, counts = np.unique(y, return_counts=True)
    return y if counts.min() >= 2 else None


def _split(idx, y, test_size, seed, stratified):
    from sklearn.model_selection import train_test_split

    return train_test_split(
        idx, test_size=test_size, random_state=seed, stratify=_stratify(y[idx], stratified)
    )


def _subsample(idx, y, n, seed, stratified):
    from sklearn.model_selection import train_test_split

    strat = _stratify(y[idx], stratified)
    if strat is not None and n < len(np.unique(strat)):
        strat = None
    kept, _ = train_test_split(idx, train_size=n, random_state=seed, stratify=strat)
    return kept


def _frames(spec: TaskSpec, base_dir: Path, where: str) -> tuple[dict[str, pd.DataFrame], str]:
    if spec.files is not None:
        frames = {}
        for split_name, rel in spec.files.items():
            path = _resolve(rel, base_dir)
            got = read_file(path, spec, where=f"{where}.files.{split_name}")
            frames[split_name] = pd.concat(list(got.values()), ignore_index=True)
        return frames, ", ".join(str(_resolve(p, base_dir)) for p in spec.files.values())
    path = _resolve(spec.path or "", base_dir)
    got = read_file(path, spec, where=f"{where}.path")
    return got, str(path)


def _resolve(rel: str, base_dir: Path) -> Path:
    p = Path(rel).expanduser()
    return p if p.is_absolute() else base_dir / p


def _column(frame: pd.DataFrame, column: str, role: str, where: str, source: str) -> pd.Series:
    if column not in frame.columns:
        cols = ", ".join(map(str, frame.columns[:12]))
        hint = ""
        if len(frame.columns) == 1 and any(sep in str(frame.columns[0]) for sep in "\t;|"):
            hint = " (one column holding separators: is the delimiter right? try format: tsv)"
        raise DataError(
            f"{role} column {column!r} not found in {source}{hint}", where=where,
            fix=f"set {role}: to one of the columns: {cols}",
        )
    return frame[column]


def _is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in MISSING


MAX_TEXT_CHARS = 100_000  # far beyond any encoder's context; longer is almost always a parse slip


def _as_text(series: pd.Series, role: str, where: str, splits: pd.Series) -> pd.Series:
    bad = series.map(lambda v: v is None or (isinstance(v, float) and math.isnan(v)))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{role} is missing in {int(bad.sum())} row(s), first at row {i + 1} "
            f"of split {splits.iloc[i]!r}", where=where, fix="drop or fill those rows",
        )
    text = series.astype(str)
    empty = (text.str.strip() == "").to_numpy()
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise DataError(
            f"{role} is empty in {int(empty.sum())} row(s), first at row {i + 1} of split "
            f"{splits.iloc[i]!r}", where=where, fix="drop those rows or fill in their text",
        )
    lengths = text.str.len().to_numpy()
    if lengths.max() > MAX_TEXT_CHARS:
        i = int(np.argmax(lengths))
        raise DataError(
            f"{role} at row {i + 1} of split {splits.iloc[i]!r} is {int(lengths[i]):,} "
            f"characters long (limit {MAX_TEXT_CHARS:,}); an unclosed quote may have "
            "swallowed the rows after it", where=where,
            fix="check the quoting near that row (or set quoting: false), or split the text",
        )
    return text


MAX_FLOAT_CLASSES = 20
"""Under ``type: auto``, labels written as decimals ("3.0") with more distinct values
than this are a continuous target (regression), not class ids."""


def _looks_continuous(raw: pd.Series, numeric: pd.Series) -> bool:
    """Numeric labels that are a measurement: some are not whole numbers, or they are
    written as decimals (a float column) and take many distinct values."""
    if not np.all(np.mod(numeric, 1) == 0):
        return True
    written_as_float = pd.api.types.is_float_dtype(raw) or bool(
        raw.astype(str).str.contains(r"[.eE]", regex=True).any())
    return written_as_float and numeric.nunique() > MAX_FLOAT_CLASSES


def _encode_labels(raw: pd.Series, declared: str, where: str, splits: pd.Series):
    missing = raw.map(_is_missing).to_numpy()
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise DataError(
            f"label is missing (NaN/None/empty) in {int(missing.sum())} row(s), first at row "
            f"{i + 1} of split {splits.iloc[i]!r}", where=where, value=raw.iloc[i],
            fix="drop those rows or fill in their labels",
        )
    numeric = pd.to_numeric(raw, errors="coerce")
    all_numeric = not numeric.isna().any()
    if declared == "regression" or (declared == "auto" and all_numeric and _looks_continuous(
            raw, numeric)):
        if not all_numeric:
            i = int(np.flatnonzero(numeric.isna().to_numpy())[0])
            raise DataError(
                f"regression label is not a number at row {i + 1}", where=where,
                value=raw.iloc[i], fix="use numeric labels, or set type: binary/multiclass",
            )
        return "regression", None, numeric.to_numpy(dtype=np.float64)
    if all_numeric and np.all(np.mod(numeric, 1) == 0):
        as_int = numeric.astype(np.int64)
        classes = [str(c) for c in sorted(as_int.unique())]
        strings = as_int.astype(str)
    else:
        strings = raw.astype(str).str.strip()
        classes = sorted(strings.unique())
    if len(classes) < 2:
        raise DataError(
            "labels have only one class", where=where, value=classes[0],
            fix="a classification task needs at least two classes",
        )
    kind = "binary" if len(classes) == 2 else "multiclass"
    if declared == "binary" and kind != "binary":
        raise DataError(
            f"type is binary but the labels have {len(classes)} classes", where=where,
            value=classes[:5], fix="set type: multiclass (or auto)",
        )
    codes = pd.Categorical(strings, categories=classes).codes.astype(np.int64)
    return kind, tuple(classes), codes


def load_task(spec: TaskSpec, base_dir: Path, *, where: str | None = None) -> Task:
    """Read and check a task's data; raise ``DataError`` with one clear line if it is bad."""
    where = where or f"task {spec.name!r}"
    if spec.bundled is not None:
        spec, base_dir = bundled.resolve(spec, where=where)
    frames, source = _frames(spec, base_dir, where)
    parts = []
    for split_name, frame in frames.items():
        if spec.split_column is not None:
            col = _column(frame, spec.split_column, "split_column", where, source)
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
        out = pd.DataFrame({"text": _column(frame, spec.text, "text", where, source).to_numpy()})
        if spec.text_pair:
            out["text_pair"] = _column(frame, spec.text_pair, "text_pair", where, source).to_numpy()
        out["label"] = _column(frame, spec.label, "label", where, source).to_numpy()
        for role in ("domain", "group", "id"):
            column = getattr(spec, role)
            if column:
                out[role] = _column(frame, column, role, where, source).astype(str).to_numpy()
        out["split"] = names.to_numpy()
        parts.append(out)
    frame = pd.concat(parts, ignore_index=True)
    if len(frame) == 0:
        raise DataError("dataset has no rows", where=where, value=source)
    frame["text"] = _as_text(frame["text"], "text", where, frame["split"])
    if "text_pair" in frame:
        frame["text_pair"] = _as_text(frame["text_pair"], "text_pair", where, frame["split"])
    kind, classes, y = _encode_labels(frame["label"], spec.type, where, frame["split"])
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
