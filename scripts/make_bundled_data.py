"""Rebuild the small attributed demo slices shipped in src/adapteval/data/bundled/.

Reads the published files under ../shared/data (see its README) and writes seeded,
label-stratified slices: text as UTF-8 CSV with a header, Fashion-MNIST as gzipped IDX
files (as published: the same headers and bytes, fewer items). Run from the project root:

    python scripts/make_bundled_data.py
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "src" / "adapteval" / "data" / "bundled"
SEED = 20261123


def _read(path: Path, names: list[str]) -> pd.DataFrame:
    return pd.read_csv(
        path, sep="\t", header=None, names=names, quoting=csv.QUOTE_NONE, dtype=str,
        keep_default_na=False,
    )


def _stratified(frame: pd.DataFrame, n: int) -> pd.DataFrame:
    share = n / len(frame)
    parts = [g.sample(n=round(len(g) * share), random_state=SEED) for _, g in frame.groupby("label")]
    return pd.concat(parts).sort_index().reset_index(drop=True)


def main() -> None:
    for domain in ("amazon", "imdb", "yelp"):
        frame = _read(SHARED / "sentiment-sentences" / f"{domain}_cells_labelled.txt"
                      if domain == "amazon" else
                      SHARED / "sentiment-sentences" / f"{domain}_labelled.txt", ["text", "label"])
        frame["text"] = frame["text"].str.strip()
        frame["domain"] = domain
        _stratified(frame, 500).to_csv(OUT / f"sentiment-{domain}.csv", index=False)
    sms = _read(SHARED / "sms-spam" / "SMSSpamCollection", ["label", "text"])[["text", "label"]]
    _stratified(sms, 1000).to_csv(OUT / "sms-spam.csv", index=False)
    fashion_mnist()


FASHION = {"train": ("train", 600), "t10k": ("t10k", 300)}


def _idx(path: Path) -> np.ndarray:
    raw = gzip.decompress(path.read_bytes())
    dims = 3 if int.from_bytes(raw[:4], "big") == 2051 else 1
    shape = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)


def _write_idx(path: Path, array: np.ndarray) -> None:
    magic = 2051 if array.ndim == 3 else 2049
    header = b"".join(v.to_bytes(4, "big") for v in (magic, *array.shape))
    path.write_bytes(gzip.compress(header + array.tobytes(), compresslevel=9, mtime=0))


def fashion_mnist() -> None:
    """600 train / 300 test items, label-stratified (60 / 30 per class), in IDX order."""
    out = OUT / "fashion-mnist"
    out.mkdir(exist_ok=True)
    rng = np.random.default_rng(SEED)
    for prefix, (name, n) in FASHION.items():
        x = _idx(SHARED / "fashion-mnist" / f"{prefix}-images-idx3-ubyte.gz")
        y = _idx(SHARED / "fashion-mnist" / f"{prefix}-labels-idx1-ubyte.gz")
        keep = np.sort(np.concatenate([rng.choice(np.flatnonzero(y == c), n // 10, replace=False)
                                       for c in range(10)]))
        _write_idx(out / f"{name}-images-idx3-ubyte.gz", x[keep])
        _write_idx(out / f"{name}-labels-idx1-ubyte.gz", y[keep])


if __name__ == "__main__":
    main()
