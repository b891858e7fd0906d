"""Checks of a task's text and label columns: missing values, empty or runaway texts,
and labels encoded as classes (binary, multiclass) or numbers (regression)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from adapteval.core.errors import ConfigError, DataError

MISSING = {"", "nan", "none", "null", "na", "n/a"}


def _is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in MISSING


MAX_TEXT_CHARS = 100_000  # far beyond any encoder's context; longer is almost always a parse slip


def as_text(series: pd.Series, role: str, where: str, splits: pd.Series) -> pd.Series:
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


def encode_labels(raw: pd.Series, declared: str, where: str, splits: pd.Series):
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


def name_classes(classes: tuple[str, ...] | None, names: dict[str, str], kind: str,
                 where: str) -> tuple[str, ...]:
    """The classes with the names a suite gives them (``class_names: {0: T-shirt}``);
    a name for a value the labels never take, or two classes under one name, is refused."""
    if classes is None:
        raise ConfigError(
            f"class_names given for a {kind} task", where=where, value=sorted(names)[:3],
            fix="class_names names the classes of a classification task; remove it",
        )
    unknown = sorted(set(names) - set(classes))
    if unknown:
        raise ConfigError(
            "class_names names a label value the data does not have", where=where,
            value=unknown[0], fix=f"label values: {', '.join(classes[:12])}",
        )
    named = tuple(names.get(c, c) for c in classes)
    twice = sorted({n for n in named if named.count(n) > 1})
    if twice:
        raise ConfigError(
            "class_names gives two classes the same name", where=where, value=twice[0],
            fix="give each class its own name",
        )
    return named
