"""Provenance per cell: what each stored cell ran with (library versions, interpreter,
threads, device, batch sizes, model revision and fingerprint, data fingerprint, test
items also in train), as the store keeps it. Cells stored before provenance was recorded
read "not recorded". The written reports show it in their provenance part."""

from __future__ import annotations

from collections import Counter
from typing import Any

from adapteval.contracts.report_section import SECTIONS, ReportSection
from adapteval.contracts.section import Cell, Section, SectionTable, columns
from adapteval.core.env import LIBRARIES
from adapteval.results import Results
from adapteval.store import CellRow

NOT_RECORDED = "not recorded"


def stored_rows(results: Results) -> list[CellRow]:
    """The result set's stored cells (not the ensembles it scores on the fly)."""
    return [r for r in results.rows if not (isinstance(r.info, dict) and "members" in r.info)]


def cell_provenance(results: Results) -> list[dict[str, Any]]:
    """One record per stored cell: its labels, key, fingerprints and provenance (None
    when the cell was stored before provenance was recorded)."""
    out = []
    for r in stored_rows(results):
        lab = results.labels[r.key]
        out.append({"key": r.key, "model": lab.model, "task": lab.task,
                    "strategy": lab.strategy, "seed": lab.seed,
                    "model_fingerprint": r.model_fingerprint,
                    "task_fingerprint": r.task_fingerprint, "provenance": r.provenance})
    return out


def _text(value: Any) -> str:
    """A recorded value; None (recorded, but not applicable: a baseline's batch size) as —."""
    return "—" if value is None else str(value)


def _grouped(rows: list[tuple[str, ...]]) -> list[tuple[tuple[str, ...], int]]:
    return list(Counter(rows).items())


def environment_table(records: list[dict[str, Any]]) -> SectionTable:
    names = (*LIBRARIES, "python", "platform", "threads", "device", "dtype")
    seen = []
    for rec in records:
        p = rec["provenance"]
        if p is None:
            seen.append((NOT_RECORDED,) * len(names))
            continue
        libs = p.get("libraries") or {}
        seen.append((*(libs.get(n) or "not installed" for n in LIBRARIES),
                     *(_text(p.get(k)) for k in ("python", "platform", "threads", "device",
                                                  "dtype"))))
    t = SectionTable(columns(*names, "cells", right=("threads", "cells"), wrap=("platform",)),
                     caption="Environment", key="provenance-environment",
                     legend="threads: torch's thread count in the process that ran the cell")
    for values, n in _grouped(seen):
        t.add(*values, Cell(n, "count"))
    return t


def models_table(records: list[dict[str, Any]]) -> SectionTable:
    seen = []
    for rec in records:
        p = rec["provenance"] or {}
        m = p.get("model") or {}
        rev = m.get("revision")
        shown = (f"{rev} ({m.get('revision_from')})" if rev else
                 ("unknown" if rec["provenance"] else NOT_RECORDED))
        seen.append((rec["model"], _text(m.get("kind")) if m else NOT_RECORDED, shown,
                     rec["model_fingerprint"],
                     _text(p.get("batch_size")) if p else NOT_RECORDED,
                     _text(p.get("train_batch_size")) if p else NOT_RECORDED))
    t = SectionTable(columns("model", "kind", "revision", "fingerprint", "batch size",
                             "train batch size", "cells", right=("batch size",
                             "train batch size", "cells")),
                     caption="Models", key="provenance-models",
                     legend="revision: the hub commit of a cached snapshot, else the package "
                            "the model ships in; batch size: encoding; train batch size: "
                            "trained strategies")
    for values, n in _grouped(seen):
        t.add(*values, Cell(n, "count"))
    return t


def data_table(records: list[dict[str, Any]]) -> SectionTable:
    seen = []
    for rec in records:
        d = (rec["provenance"] or {}).get("data") or {}
        dup = d.get("test_in_train")
        seen.append((rec["task"], rec["task_fingerprint"], str(rec["seed"]),
                     f"{d['n_train']} / {d['n_test']}" if d else NOT_RECORDED,
                     NOT_RECORDED if not d else ("unknown" if dup is None else str(dup))))
    t = SectionTable(columns("task", "fingerprint", "seed", "train / test", "test items in train",
                             "cells", right=("seed", "train / test", "test items in train",
                                             "cells")),
                     caption="Data", key="provenance-data",
                     legend="test items in train: test inputs (with their pair) that also "
                            "occur in that seed's training split")
    for values, n in _grouped(seen):
        t.add(*values, Cell(n, "count"))
    return t


def provenance_section(results: Results) -> Section | None:
    records = cell_provenance(results)
    if not records:
        return None
    missing = sum(r["provenance"] is None for r in records)
    notes = ([f"{missing} of {len(records)} cells were stored before provenance was "
              "recorded: rerun them (a new output_dir) to record it."] if missing else [])
    return Section("cell_provenance", title="Provenance per cell", tables=[],
                   report_tables=[environment_table(records), models_table(records),
                                  data_table(records)],
                   notes=notes, part="provenance", data=records)


class CellProvenance(ReportSection):
    name, order = "cell_provenance", 95
    description = ("library versions, threads, device and dtype, batch sizes, model revision "
                   "and data per cell")

    def build(self, results, data, *, strict=False):
        return provenance_section(results)


SECTIONS.register(CellProvenance())
