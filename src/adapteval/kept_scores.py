"""Each cell's scores, kept across reads of a store.

Scoring a cell (its metrics' point values and bootstrap replicates) is a pure function of
its stored predictions, the metrics, the resampling and the scoring code, so
:func:`score_rows` keeps the result in ``$ADAPTEVAL_CACHE/scores.sqlite`` under a digest of
all of them (:mod:`adapteval.core.memo`) and reads it back instead of scoring again:
reading a store, printing its tables and writing its report do not score the same cells
on every call. A metric defined outside adapteval is scored every time (its code is not
part of the key).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from adapteval.contracts.strategy import Predictions
from adapteval.core.memo import Memo, code_stamp, digest
from adapteval.metrics import Metric, Scored, shared_confusions
from adapteval.statistics import Undefined, score_cell

if TYPE_CHECKING:
    from adapteval.store import CellRow
    from adapteval.suite.specs import BootstrapSpec


SCORES = Memo("scores", keep=10_000)  # about 32 kB each (4 metrics, 1000 resamples)
"""Scored cells by a digest of what their scores depend on."""
_OWN = "adapteval.metrics"


def _score_key(r: CellRow, metrics: list[Metric], bootstrap: BootstrapSpec) -> str | None:
    """What a cell's scores depend on, as one key; None for a metric defined elsewhere
    (its code is not part of the key, so its scores are not kept)."""
    if any(m.compute.__module__ != _OWN or m.replicates.__module__ != _OWN for m in metrics):
        return None
    stamp = code_stamp("adapteval.metrics", "adapteval.statistics",
                       "adapteval.contracts.strategy", libraries=("numpy",))
    return digest("scores", stamp, r.predictions,
                  json.dumps(r.info, sort_keys=True, default=str),
                  json.dumps(list(r.classes or []), default=str), r.task_type,
                  ",".join(m.name for m in metrics), str(bootstrap.n_resamples),
                  str(bootstrap.seed))


def _pack(scores: dict[str, Scored]) -> bytes:
    """A JSON header (names, values, spreads, reasons) then the replicates as float64."""
    reps = np.stack([np.asarray(s.replicates, dtype=np.float64) for s in scores.values()])
    head = json.dumps({"names": list(scores), "shape": list(reps.shape),
                       "value": [s.value for s in scores.values()],
                       "spread": [s.spread for s in scores.values()],
                       "reason": [s.reason if isinstance(s, Undefined) else None
                                  for s in scores.values()]}).encode()
    return len(head).to_bytes(4, "little") + head + reps.tobytes()


def _unpack(blob: bytes, metrics: list[Metric]) -> dict[str, Scored] | None:
    """The kept scores, or None when they are not those of ``metrics`` or unreadable."""
    try:
        n = int.from_bytes(blob[:4], "little")
        head = json.loads(blob[4:4 + n])
        if head["names"] != [m.name for m in metrics]:
            return None
        reps = np.frombuffer(blob, dtype=np.float64, offset=4 + n).reshape(head["shape"])
        return {
            name: (Undefined(float(v), reps[i], float(sp), why) if why is not None
                   else Scored(float(v), reps[i], float(sp)))
            for i, (name, v, sp, why) in enumerate(zip(head["names"], head["value"],
                                                       head["spread"], head["reason"],
                                                       strict=True))
        }
    except (ValueError, KeyError, TypeError, IndexError):
        return None


def score_rows(rows: list[CellRow], metrics_of: Callable[[str], list[Metric]],
               resamples: Callable[[int], np.ndarray], bootstrap: BootstrapSpec
               ) -> dict[str, dict[str, Scored]]:
    """key -> metric name -> Scored for ``rows``: kept scores where they are, the others
    computed (``metrics_of(task_type)``, ``resamples(n)``) and kept."""
    metrics_by = {r.key: metrics_of(r.task_type) for r in rows}
    keys = {r.key: _score_key(r, metrics_by[r.key], bootstrap) for r in rows}
    kept = SCORES.get_many(k for k in keys.values() if k is not None)
    out: dict[str, dict[str, Scored]] = {}
    new: dict[str, bytes] = {}
    for r in rows:
        metrics, key = metrics_by[r.key], keys[r.key]
        found = _unpack(kept[key], metrics) if key in kept else None
        if found is not None:
            out[r.key] = found
            continue
        p = Predictions.from_bytes(r.predictions, r.info)
        k = len(r.classes) if r.classes else None
        with shared_confusions():
            out[r.key] = {
                m.name: score_cell(m, y_true=p.y_true, y_pred=p.y_pred, proba=p.proba,
                                   n_classes=k, idx=resamples(len(p.y_true)))
                for m in metrics
            }
        if key is not None and out[r.key]:
            new[key] = _pack(out[r.key])
    SCORES.put_many(new)
    return out
