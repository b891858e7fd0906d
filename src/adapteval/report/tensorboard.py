"""TensorBoard event files: one run folder per cell with its final scores (and CIs), its
training curve by step, and the headline numbers of its analyses.

Writing is incremental: the keys already written are listed in ``.adapteval-written.json``
in the log folder, so writing the same results twice adds nothing and a later run adds
only its new cells and analyses (TensorBoard would otherwise show duplicate points).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

from adapteval.analyses import ANALYSES
from adapteval.contracts.digest import top_level_numbers
from adapteval.core.errors import ConfigError
from adapteval.results import Results
from adapteval.store import CellRow

INDEX = ".adapteval-written.json"
CURVE_TAGS = {"train_loss": "train/loss", "val_metric": "val/metric", "val_loss": "val/loss",
              "lr": "train/lr"}


def safe(part: str) -> str:
    """A label as one folder name (any character outside [A-Za-z0-9._-] becomes ``_``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", part).strip("._") or "_"


def run_dir(results: Results, key: str) -> str:
    lab = results.labels[key]
    return "/".join([safe(lab.model), safe(lab.task), safe(lab.strategy), f"seed-{lab.seed}"])


def analysis_scalars(name: str, result: dict[str, Any]) -> dict[str, float]:
    """The headline numbers of an analysis result: its registered ``scalars`` when the
    analysis is known here, else the top-level numbers."""
    if name in ANALYSES.names() and ANALYSES.get(name).offers:
        values = ANALYSES.get(name).scalars(result)
    else:
        values = top_level_numbers(result)
    return {k: float(v) for k, v in values.items() if isinstance(v, int | float)}


def cell_scalars(row: CellRow, scores: pd.DataFrame) -> list[tuple[str, float, int]]:
    """(tag, value, step) of one cell: curve points at their steps, final scores (rows of
    ``Results.to_pandas()``) at the last step."""
    out: list[tuple[str, float, int]] = []
    curve = row.info.get("curve") or []
    for point in curve:
        for field, tag in CURVE_TAGS.items():
            if isinstance(point.get(field), int | float):
                out.append((tag, float(point[field]), int(point["step"])))
    final = int(row.info.get("steps") or (curve[-1]["step"] if curve else 0))
    for r in scores[scores["key"] == row.key].itertuples():
        out += [(f"score/{r.metric}{suffix}", float(v), final)
                for suffix, v in (("", r.value), ("_ci_low", r.ci_low), ("_ci_high", r.ci_high))
                if math.isfinite(v)]  # a number with no value is not logged
    return out


def write_tensorboard(results: Results, logdir: str | Path) -> dict[str, int]:
    """Write what is not yet in ``logdir``; returns counts of cells and analyses written."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ConfigError(
            "TensorBoard output needs the tensorboard package", where="--tensorboard",
            fix="pip install 'adapteval[tensorboard]'",
        ) from None
    root = Path(logdir)
    root.mkdir(parents=True, exist_ok=True)
    index_file = root / INDEX
    written = set(json.loads(index_file.read_text())) if index_file.is_file() else set()
    todo: dict[str, list[tuple[str, float, int]]] = {}
    counts = {"cells": 0, "analyses": 0}
    scores = results.to_pandas() if len(results) else None
    for r in results.rows:
        if r.key not in written:
            todo.setdefault(r.key, []).extend(cell_scalars(r, scores))
            written.add(r.key)
            counts["cells"] += 1
    for a in results.analyses:
        if a.key not in written and a.cell_key in results.labels:
            todo.setdefault(a.cell_key, []).extend(
                (f"{a.name}/{k}", v, 0) for k, v in analysis_scalars(a.name, a.result).items())
            written.add(a.key)
            counts["analyses"] += 1
    for key, scalars in todo.items():
        writer = SummaryWriter(log_dir=str(root / run_dir(results, key)))
        try:
            for tag, value, step in scalars:
                writer.add_scalar(tag, value, global_step=step)
        finally:
            writer.close()
    index_file.write_text(json.dumps(sorted(written)))
    return counts
