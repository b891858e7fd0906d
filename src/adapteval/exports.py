"""Per-example predictions: every stored cell's test items as one table.

One row per test item of each cell: ``task``, ``model``, ``strategy``, ``seed``, ``row``
(the item's position in the task's data: the file's data rows in order, files in the
order the task lists them), ``id`` (the task's ``id`` column, else the row number), the
input (``text``, and ``text_pair`` for pair tasks; ``image`` for image tasks: the pixel
array in the frame, ``<height>x<width> image`` in a written file), ``gold`` and ``pred`` (the task's own
label strings; numbers for regression, with ``error`` = pred - gold), ``correct``,
``confidence`` (the predicted class's probability) and one ``p_<label>`` column per
class. Cells that resample (k-shot) hold several experiments: their probabilities are
averaged over the experiments and ``pred`` is the averaged probabilities' argmax (for
regression, the mean prediction; without probabilities, the most common vote); ``experiments`` says how many were averaged (1
elsewhere).

The texts and ids come from the task: through the suite's plan when read through a
suite, else from the task reference each cell's provenance keeps (read again, and used
only while its data still has the cell's fingerprint). When neither is there the table
holds what the store alone has (row, gold, pred, probabilities) and ``missing`` names
the columns left out and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from adapteval.contracts.strategy import Predictions
from adapteval.core.errors import AdaptEvalError, ConfigError
from adapteval.data.task import Task, load_task
from adapteval.results import Results
from adapteval.store import CellRow
from adapteval.suite.specs import TaskSpec

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".parquet": "parquet"}
KEYS = ["task", "strategy", "seed", "row"]


@dataclass
class TaskLookup:
    """Tasks by data fingerprint, and why a fingerprint has none."""

    tasks: dict[str, Task] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    references: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, results: Results) -> TaskLookup:
        plan = results.plan
        refs: dict[str, dict[str, Any]] = {}
        for r in results.rows:  # any cell of the same data may hold its reference
            ref = ((r.provenance or {}).get("data") or {}).get("reference")
            if ref:
                refs.setdefault(r.task_fingerprint, ref)
        return cls({t.fingerprint: t for t in plan.tasks} if plan is not None else {},
                   references=refs)

    def get(self, row: CellRow) -> Task | None:
        fp = row.task_fingerprint
        if fp in self.tasks or fp in self.missing:
            return self.tasks.get(fp)
        ref = self.references.get(fp)
        if not ref:
            data = ((row.provenance or {}).get("data") or {})
            self.missing[fp] = (
                "its data was not read from files (in-memory images); read through the suite"
                if data else "the store does not say where its data is (cells written "
                "before provenance was recorded); read through the suite file")
            return None
        try:
            task = load_task(TaskSpec(**ref), Path("/"), where=f"task {row.task!r}")
        except (AdaptEvalError, ValueError, OSError) as exc:
            self.missing[fp] = f"its data cannot be read again ({str(exc).splitlines()[0]})"
            return None
        if task.fingerprint != fp:
            self.missing[fp] = "its data changed since the run (another fingerprint)"
            return None
        self.tasks[fp] = task
        return task


def cell_frame(row: CellRow, labels: tuple[str, str, str, int], task: Task | None) -> pd.DataFrame:
    """The test items of one stored cell (see the module docstring)."""
    p = Predictions.from_bytes(row.predictions, row.info)
    model, task_name, strategy, seed = labels
    rows = np.asarray(p.rows, dtype=np.int64)
    n = len(rows)
    # columns gathered first, the frame built once (inserting them one by one into a
    # frame costs more than the rest of this function)
    out: dict[str, Any] = {"task": [task_name] * n, "model": [model] * n,
                           "strategy": [strategy] * n, "seed": np.full(n, int(seed)),
                           "row": rows}
    if task is not None:
        ids = getattr(task, "ids", None)
        out["id"] = [str(v) for v in (np.asarray(ids)[rows] if ids is not None else rows)]
        if "image" in task.frame:  # an image task's items: uint8 RGB arrays
            out["image"] = task.frame["image"].to_numpy()[rows]
        else:
            out["text"] = task.frame["text"].to_numpy()[rows]
        if "text_pair" in task.frame:
            out["text_pair"] = task.frame["text_pair"].to_numpy()[rows]
    experiments = int(np.asarray(p.y_pred).shape[0]) if np.ndim(p.y_pred) == 2 else 1
    if row.task_type == "regression" or not row.classes:
        pred = np.asarray(p.y_pred, dtype=float).reshape(experiments, -1).mean(0)
        out["gold"] = np.asarray(p.y_true, dtype=float)
        out["pred"] = pred
        out["error"] = pred - out["gold"]
        out["experiments"] = np.full(n, experiments)
        return pd.DataFrame(out)
    classes = np.asarray(row.classes, dtype=object)
    gold = np.asarray(p.y_true).astype(int)
    votes = np.asarray(p.y_pred).reshape(experiments, -1).astype(int)
    proba = None
    if p.proba is not None:
        proba = np.asarray(p.proba, dtype=float).mean(0)
        proba /= proba.sum(1, keepdims=True)
    if experiments == 1 or proba is None:  # no probabilities: the most common vote
        codes = votes[0] if experiments == 1 else np.array(
            [np.bincount(v, minlength=len(classes)).argmax() for v in votes.T])
    else:
        codes = proba.argmax(1)
    out["gold"] = classes[gold]
    out["pred"] = classes[codes]
    out["correct"] = gold == codes
    if proba is not None:
        out["confidence"] = proba[np.arange(len(codes)), codes]
        for j, label in enumerate(classes):
            out[f"p_{label}"] = proba[:, j]
    out["experiments"] = np.full(n, experiments)
    return pd.DataFrame(out)


def predictions(results: Results, *, model: str | None = None, task: str | None = None,
                strategy: str | None = None, seed: int | None = None) -> pd.DataFrame:
    """Per-example predictions of a result set's cells, filtered by model, task, strategy
    and seed; ``frame.attrs["missing"]`` maps each task without its texts to why."""
    want = {"model": model, "task": task, "strategy": strategy, "seed": seed}
    for k, v in want.items():
        known = {getattr(results.labels[r.key], k) for r in results.rows}
        if v is not None and v not in known:
            raise ConfigError(f"no stored cells with {k} {v!r}", where=f"--{k}",
                              fix=f"stored: {', '.join(sorted(map(str, known))) or 'none'}")
    lookup = TaskLookup.of(results)
    frames, missing = [], {}
    for r in results.rows:
        lab = results.labels[r.key]
        got = {"model": lab.model, "task": lab.task, "strategy": lab.strategy, "seed": lab.seed}
        if any(v is not None and got[k] != v for k, v in want.items()):
            continue
        t = lookup.get(r)
        if t is None and r.task_fingerprint in lookup.missing:
            missing[lab.task] = "id, text: " + lookup.missing[r.task_fingerprint]
        frames.append(cell_frame(r, (lab.model, lab.task, lab.strategy, lab.seed), t))
    if not frames:
        asked = ", ".join(f"{k} {v!r}" for k, v in want.items() if v is not None)
        raise ConfigError(f"no stored cells with {asked}" if asked else "the store has no cells",
                          where="predictions", fix="see what is stored: adapteval results DIR")
    frame = pd.concat(frames, ignore_index=True)
    frame = frame[[c for c in frame.columns if not c.startswith("p_")]
                  + [c for c in frame.columns if c.startswith("p_")]]
    frame.attrs["missing"] = missing
    return frame


def disagreements(frame: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """The classification test items models ``a`` and ``b`` predict differently, one
    row per item (same task, strategy, seed): its input, gold label and each model's
    prediction (``pred:<model>``) and confidence (``confidence:<model>``)."""
    for name in (a, b):
        if name not in set(frame["model"]):
            raise ConfigError(f"no stored cells of model {name!r}", where="--disagree",
                              fix=f"models: {', '.join(sorted(set(frame['model'])))}")
    if a == b:
        raise ConfigError("--disagree needs two different models", where="--disagree", value=a)
    frame = frame[frame["correct"].notna()] if "correct" in frame else frame.iloc[0:0]
    items = [c for c in ("id", "text", "text_pair", "image", "gold") if c in frame]
    left = frame[frame["model"] == a].set_index(KEYS)
    right = frame[frame["model"] == b].set_index(KEYS)
    joined = left[items + ["pred", "confidence"]].join(
        right[["pred", "confidence"]], how="inner", lsuffix=f":{a}", rsuffix=f":{b}")
    joined = joined[joined[f"pred:{a}"] != joined[f"pred:{b}"]]
    return joined.reset_index()


def described(image: Any) -> Any:
    """An image item as a file of predictions shows it: ``<height>x<width> image``."""
    shape = getattr(image, "shape", None)
    return f"{shape[0]}x{shape[1]} image" if shape is not None and len(shape) >= 2 else image


def write(frame: pd.DataFrame, path: str | Path | None) -> str | None:
    """Write the frame to ``path`` in the format its extension names (.csv, .jsonl,
    .parquet); without a path, return it as CSV text. Images are written as their size."""
    if "image" in frame:
        frame = frame.assign(image=[described(x) for x in frame["image"]])
    if path is None:
        return frame.to_csv(index=False)
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ConfigError("unknown export format", where="--out", value=path.name,
                          fix="end the file name in .csv, .jsonl or .parquet")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        frame.to_parquet(path, index=False)
    return None

