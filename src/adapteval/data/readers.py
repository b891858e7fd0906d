"""Task readers: CSV, TSV, JSONL, Parquet and saved Hugging Face datasets (image data:
IDX files and ImageFolder layouts, in :mod:`adapteval.data.image_readers`).

Each format is a :class:`TaskReader` plugin in ``READERS`` (entry-point group
``adapteval.readers``): its name is the suite's ``format:``, its suffixes pick it under
``format: auto``. A reader returns one pandas DataFrame of the file's columns, or one
frame per split for a saved ``DatasetDict``. Text is read as text (``"NA"`` stays the
string "NA"); problems are ``DataError`` lines naming the file, the row and the fix.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import ClassVar

import pandas as pd

from adapteval.core.errors import DataError
from adapteval.core.plugin import Plugin
from adapteval.core.registry import Registry
from adapteval.suite.specs import TaskSpec


class TaskReader(Plugin):
    """A file format tasks can be read from."""

    kind: ClassVar[str] = "task reader"
    suffixes: ClassVar[tuple[str, ...]] = ()  # file name suffixes that mean this format
    folder: ClassVar[bool] = False  # True when the data is a folder, not a file

    def recognises(self, path: Path) -> bool:
        """Whether ``path`` is this format's data (folders: by their contents)."""
        return path.suffix.lower() in self.suffixes if not self.folder else False

    def read(self, path: Path, spec: TaskSpec, *, where: str) -> dict[str, pd.DataFrame]:
        """Frames keyed by split name ('all' when the data has no splits)."""
        raise NotImplementedError


READERS: Registry[TaskReader] = Registry("readers", "task reader")


def detect_format(path: Path, declared: str, *, where: str) -> str:
    if declared != "auto":
        return READERS.get(declared, where=where).name
    if path.is_dir():
        for reader in READERS.values():
            if reader.folder and reader.recognises(path):
                return reader.name
        raise DataError(
            "folder is not a saved Hugging Face dataset, an IDX folder or a folder per class "
            "of images", where=where, value=str(path),
            fix="point path at a file, or use files: {train: ..., test: ...}",
        )
    for reader in READERS.values():
        if reader.recognises(path):
            if reader.name in DELIMITED and looks_like_jsonl(path):
                return "jsonl"  # e.g. JSON Lines saved as .txt
            return reader.name
    raise DataError(
        f"cannot tell the format from the file name (suffix {path.suffix or 'none'!r})",
        where=where, value=str(path), fix=f"set format: to one of {', '.join(READERS)}",
    )


DELIMITED = ("csv", "tsv")


def looks_like_jsonl(path: Path) -> bool:
    """Whether the file's first non-empty line is a JSON object (JSON Lines content,
    whatever the file is called)."""
    try:
        with path.open("rb") as fh:
            for raw in fh:
                line = raw.strip()
                if line:
                    return line.startswith(b"{") and isinstance(json.loads(line), dict)
    except (OSError, ValueError):
        return False
    return False


EMPTY_FIX = ("the file has no rows: point the task at the right file, or fill it (a header "
             "row, then one row per item)")


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
    if looks_like_jsonl(path):
        raise DataError(
            f"file holds JSON Lines (its first line is a JSON object) but is read as "
            f"{'tsv' if sep == chr(9) else 'csv'}", where=where, value=str(path),
            fix="set format: jsonl (or format: auto)",
        )
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
        raise DataError("file is empty", where=where, value=str(path), fix=EMPTY_FIX) from None
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
        raise DataError("file is empty", where=where, value=str(path),
                        fix="the file has no rows: point the task at the right file, or fill it "
                        "(one JSON object per line)")
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


class CsvReader(TaskReader):
    name = "csv"
    description = "comma-separated values with a header row"
    suffixes = (".csv",)

    def read(self, path: Path, spec: TaskSpec, *, where: str) -> dict[str, pd.DataFrame]:
        return {"all": _delimited(path, spec, ",", where)}


class TsvReader(TaskReader):
    name = "tsv"
    description = "tab-separated values with a header row"
    suffixes = (".tsv", ".txt")

    def read(self, path: Path, spec: TaskSpec, *, where: str) -> dict[str, pd.DataFrame]:
        return {"all": _delimited(path, spec, "\t", where)}


class JsonlReader(TaskReader):
    name = "jsonl"
    description = "one JSON object per line"
    suffixes = (".jsonl", ".ndjson", ".json")

    def read(self, path: Path, spec: TaskSpec, *, where: str) -> dict[str, pd.DataFrame]:
        return {"all": _jsonl(path, spec, where)}


class ParquetReader(TaskReader):
    name = "parquet"
    description = "an Apache Parquet table"
    suffixes = (".parquet", ".pq")

    def read(self, path: Path, spec: TaskSpec, *, where: str) -> dict[str, pd.DataFrame]:
        return {"all": _parquet(path, where)}


class SavedDatasetReader(TaskReader):
    name = "hf"
    description = "a Dataset or DatasetDict saved with save_to_disk"
    folder = True

    def recognises(self, path: Path) -> bool:
        return (path / "dataset_dict.json").is_file() or (path / "dataset_info.json").is_file()

    def read(self, path: Path, spec: TaskSpec, *, where: str) -> dict[str, pd.DataFrame]:
        return _hf(path, where)


for _reader in (CsvReader(), TsvReader(), JsonlReader(), ParquetReader(), SavedDatasetReader()):
    READERS.register(_reader)


def read_file(path: Path, spec: TaskSpec, *, where: str) -> dict[str, pd.DataFrame]:
    """Read one path into frames keyed by split name ('all' when the file has no splits)."""
    if not path.exists():
        raise DataError(
            "data file not found", where=where, value=str(path),
            fix="paths are relative to the suite file; check the spelling",
        )
    reader = READERS.get(detect_format(path, spec.format, where=where), where=where)
    if path.is_dir() != reader.folder:
        found = "a folder" if path.is_dir() else "a file"
        raise DataError(f"expected {reader.name} data, found {found}", where=where,
                        value=str(path))
    return reader.read(path, spec, where=where)
