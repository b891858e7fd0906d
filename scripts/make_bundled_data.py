"""Rebuild the small attributed demo slices shipped in src/adapteval/data/bundled/.

Reads the published files under ../shared/data (see its README) and writes seeded,
label-stratified slices as UTF-8 CSV with a header. Run from the project root:

    python scripts/make_bundled_data.py
"""

from __future__ import annotations

import csv
from pathlib import Path

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


if __name__ == "__main__":
    main()
