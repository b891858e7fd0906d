"""Helpers for the acceptability analysis tests: the 3-domain sentiment sentences of
../shared/data in one frame, and stored predictions read back from a store."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from adapteval.contracts.strategy import Predictions
from adapteval.store import ResultStore

FILES = {"amazon": "amazon_cells_labelled.txt", "imdb": "imdb_labelled.txt",
         "yelp": "yelp_labelled.txt"}


def read_domains(shared: Path) -> pd.DataFrame:
    """All 3000 sentences: text, label (0/1) and domain."""
    frames = []
    for domain, file in FILES.items():
        path = shared / "sentiment-sentences" / file
        rows = list(csv.reader(path.open(encoding="utf-8"), delimiter="\t",
                               quoting=csv.QUOTE_NONE))
        frames.append(pd.DataFrame({"text": [r[0] for r in rows], "label": [r[1] for r in rows],
                                    "domain": domain}))
    return pd.concat(frames, ignore_index=True)


def stored_predictions(output_dir: Path) -> dict[tuple[str, str, str], Predictions]:
    """(model, task, strategy) -> the stored test predictions of seed 0, read straight
    from the SQLite store."""
    store = ResultStore(output_dir)
    try:
        return {(r.model, r.task, r.strategy): Predictions.from_bytes(r.predictions)
                for r in store.rows() if r.seed == 0}
    finally:
        store.close()


def accuracy(p: Predictions) -> float:
    return float(np.mean(p.y_pred[0] == p.y_true))
