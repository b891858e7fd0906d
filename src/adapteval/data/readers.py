"""Readers for CSV, TSV, JSONL, Parquet and saved Hugging Face datasets.

Every reader returns a pandas DataFrame of the file's columns, or one frame per split
for a saved ``DatasetDict``. Text is read as text (``"NA"`` stays the string "NA");
problems are ``DataError`` lines naming the file, the row and the fix.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd

from adapteval.core.errors import DataError
from adapteval.suite.schema import TaskSpec

SUFFIX_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
FORMATS = ("csv", "tsv", "jsonl", "parquet", "hf")


def detect_format(path: Path, declared: str, *, where: str) -> str:
    if declared != "auto":
        return declared
    if path.is_dir():
        if (path / "dataset_dict.json").is_file() or (path / "dataset_info.json").is_file():
            return "hf"
        raise DataError(
            "folder is not a saved Hugging Face dataset", where=where, value=str(path),
            fix="point path at a file, or use files: {train: ..., test: ...}",
        )
    fmt = SUFFIX_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DataError(
            f"cannot tell the format from the file name (suffix {path.suffix or 'none'!r})",
            where=where, value=str(path), fix=f"set format: to one of {', '.join(FORMATS)}",
        )
    return fmt


def _check_column_count(path: Path, spec: TaskSpec, sep: str, where: str) -> None:
    """``columns:`` must name every field of a row, no more and no fewer."""
    quoting = csv.QUOTE_MINIMAL if spec.quoting else csv.QUOTE_NONE
    with path.open(encoding=spec.encoding, newline="") as fh:
        first = next(csv.reader(fh, delimiter=sep, quoting=quoting), None)
    if first is not None and spec.columns is not None and len(first) != len(spec.columns):
        raise DataError(
            f"columns: gives {len(spec.columns)} names but the file's rows have {len(first)} "
            "fields", where=where, value=spec.columns,
            fix=f"name all {len(first)} fields (check the delimiter and format: too)",
        )


def _delimited(path: Path, spec: TaskSpec, sep: str, where: str) -> pd.DataFrame:
    try:
        if spec.columns is not None:
            _check_column_count(path, spec, sep, where)
        frame = pd.read_csv(
            path,
            sep=sep,
            header=0 if spec.header else None,
            names=spec.columns,
            dtype=str,
            keep_default_na=False,
            na_values=[],
            quoting=csv.QUOTE_MINIMAL if spec.quoting else csv.QUOTE_NONE,
            encoding=spec.encoding,
            engine="c",
        )
    except UnicodeDecodeError as exc:
        raise DataError(
            f"file is not valid {spec.encoding} (bad byte at offset {exc.start})",
            where=where, value=str(path), fix="re-save it as UTF-8 or set encoding: in the task",
        ) from None
    except pd.errors.EmptyDataError:
        raise DataError("file is empty", where=where, value=str(path)) from None
    except pd.errors.ParserError as exc:
        raise DataError(
            f"cannot parse file: {str(exc).strip().splitlines()[-1]}", where=where,
            value=str(path), fix="check the delimiter/format, or set quoting: false",
        ) from None
    if spec.columns is None and not spec.header:
        frame.columns = [str(c) for c in frame.columns]
    return frame


def _jsonl(path: Path, spec: TaskSpec, where: str) -> pd.DataFrame:
    rows = []
    try:
        with path.open(encoding=spec.encoding) as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(
                        f"line {lineno} is not valid JSON ({exc.msg})", where=where,
                        value=line.strip()[:60], fix="each line must be one JSON object",
                    ) from None
                if not isinstance(row, dict):
                    raise DataError(
                        f"line {lineno} is not a JSON object", where=where,
                        value=line.strip()[:60], fix="each line must be one JSON object",
                    )
                rows.append(row)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"file is not valid {spec.encoding} (bad byte at offset {exc.start})",
            where=where, value=str(path), fix="re-save it as UTF-8 or set encoding: in the task",
        ) from None
    if not rows:
        raise DataError("file is empty", where=where, value=str(path))
    return pd.DataFrame(rows)


def _parquet(path: Path, where: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types
        raise DataError(
            f"cannot read Parquet file ({type(exc).__name__}: {str(exc).splitlines()[0][:80]})",
            where=where, value=str(path), fix="check that the file is complete and is Parquet",
        ) from None


def _hf(path: Path, where: str) -> dict[str, pd.DataFrame]:
    import datasets

    try:
        ds = datasets.load_from_disk(str(path))
    except Exception as exc:
        raise DataError(
            f"cannot load saved Hugging Face dataset ({type(exc).__name__})", where=where,
            value=str(path), fix="save it with Dataset.save_to_disk / DatasetDict.save_to_disk",
        ) from None
    if isinstance(ds, datasets.DatasetDict):
        return {name: split.to_pandas() for name, split in ds.items()}
    return {"all": ds.to_pandas()}


def read_file(path: Path, spec: TaskSpec, *, where: str) -> dict[str, pd.DataFrame]:
    """Read one path into frames keyed by split name ('all' when the file has no splits)."""
    if not path.exists():
        raise DataError(
            "data file not found", where=where, value=str(path),
            fix="paths are relative to the suite file; check the spelling",
        )
    fmt = detect_format(path, spec.format, where=where)
    if fmt == "hf":
        return _hf(path, where)
    if path.is_dir():
        raise DataError(f"expected a {fmt} file, found a folder", where=where, value=str(path))
    if fmt == "csv":
        return {"all": _delimited(path, spec, ",", where)}
    if fmt == "tsv":
        return {"all": _delimited(path, spec, "\t", where)}
    if fmt == "jsonl":
        return {"all": _jsonl(path, spec, where)}
    return {"all": _parquet(path, where)}
