"""Cost of running a model: size, latency, throughput and memory, measured, not estimated.

One result per model (``scope = "model"``), measured on real test texts of the first cell
the model runs on:

- ``params`` / ``params_nonzero``: numbers in the weights (ONNX: graph initializers;
  TF-IDF: vocabulary entries, i.e. idf weights, fitted on that cell's training texts);
- ``disk_mb``: the model folder (Hugging Face) or the ``.onnx`` file; a compression level
  reports its saved state dict instead;
- ``latency_ms_p50`` / ``latency_ms_p95``: one text per call (batch 1), over ``n_texts``
  texts after ``warmup`` calls; ``throughput_per_s``: texts per second in batches of
  ``batch_size``; both in this process, with its thread setting (``threads``);
- ``peak_memory_mb``: how far the resident set (RSS) rises above its level with the
  model loaded while the texts are encoded in batches of ``batch_size``. Measured in a
  fresh subprocess (so nothing else this process did can hide in it): load the model,
  read VmRSS, reset the kernel's high-water mark (``/proc/self/clear_refs``), encode,
  read VmHWM. Where the mark cannot be reset, the lifetime ``ru_maxrss`` is used and
  ``memory_method`` says so. ``resident_mb`` is the RSS with the model loaded.

The majority baseline has nothing to measure. Adaptation wall time is stored per cell;
``cost_table(results)`` puts it next to these numbers, one row per model and strategy.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

from adapteval.analyses.peak_memory import as_json
from adapteval.contracts import digest as dg
from adapteval.contracts.analysis import ANALYSES, Analysis, AnalysisContext, AnalysisRow
from adapteval.contracts.section import Cell as Shown
from adapteval.contracts.section import Section, SectionTable, columns
from adapteval.core.plugin import NONNEGATIVE_LOWER, Number, Params
from adapteval.models.kinds import MODEL_KINDS

if TYPE_CHECKING:
    import pandas as pd

    from adapteval.models.ref import ModelRef
    from adapteval.plan import Cell
    from adapteval.results import Results

MB = 1024 * 1024
BUSY = "timed while busy"  # how a stored timing taken on a loaded machine is flagged


class CostParams(Params):
    n_texts: int = Field(default=64, ge=5, le=10_000, description="real test texts timed")
    warmup: int = Field(default=5, ge=0, le=1000, description="untimed calls first")
    batch_size: int = Field(default=32, ge=1, le=4096, description="batch for throughput")
    memory: bool = Field(default=True, description="measure peak memory in a subprocess")


def sample_texts(texts: list[str], n: int) -> list[str]:
    """The first ``n`` texts, repeated when there are fewer."""
    return [texts[i % len(texts)] for i in range(n)] if texts else []


def timings(
    encode: Callable[[list[str]], Any], texts: list[str], params: CostParams
) -> dict[str, float]:
    """Latency per text at batch 1 (p50, p95, ms) and throughput at ``batch_size``."""
    for t in texts[: params.warmup]:
        encode([t])
    lat = []
    for t in texts:
        t0 = time.perf_counter()
        encode([t])
        lat.append((time.perf_counter() - t0) * 1000)
    batch = params.batch_size
    pool = sample_texts(texts, max(len(texts), 2 * batch))
    encode(pool[:batch])  # warm the batched path
    t0 = time.perf_counter()
    for i in range(0, len(pool), batch):
        encode(pool[i : i + batch])
    seconds = time.perf_counter() - t0
    p50, p95 = np.percentile(lat, [50, 95])
    return {"latency_ms_p50": float(p50), "latency_ms_p95": float(p95),
            "throughput_per_s": len(pool) / seconds, "n_texts": len(texts),
            "batch_size": batch, **machine_load()}


def machine_load() -> dict[str, float | int | None]:
    """The 1-minute load average just after timing and the cores this process may use:
    timings taken while ``load_1m`` exceeds ``cpus`` were shared with other work."""
    try:
        load = round(os.getloadavg()[0], 2)
    except OSError:  # not every platform has it
        load = None
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"load_1m": load, "cpus": cpus}


def busy_note(result: dict[str, Any]) -> str:
    """A caution when the timings of a stored cost result were taken on a busy machine."""
    load, cpus = result.get("load_1m"), result.get("cpus")
    if isinstance(load, int | float) and isinstance(cpus, int) and load > cpus:
        return f"{BUSY}: load {load:.1f} on {cpus} cores"
    return ""


def folder_mb(path: Path) -> float:
    """Size of a file, or of every non-hidden file under a folder."""
    if path.is_file():
        return path.stat().st_size / MB
    files = [p for p in path.rglob("*") if p.is_file()
             and not any(part.startswith(".") for part in p.relative_to(path).parts)]
    return sum(p.stat().st_size for p in files) / MB


def memory_mb(
    ref: ModelRef, texts: list[str], batch_size: int, *,
    levels: list[dict[str, Any] | None] | None = None, fit_texts: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Peak memory of encoding ``texts``, measured in a fresh subprocess (see the module
    docstring), one result per compression level (``None``: the model as it is); the
    subprocess rebuilds each level from the model's files."""
    levels = levels or [None]
    payload = {
        "kind": ref.kind, "spec": ref.spec.model_dump(mode="json"),
        "folder": str(ref.folder) if ref.folder else None,
        "tokenizer_folder": str(ref.tokenizer_folder) if ref.tokenizer_folder else None,
        "levels": levels, "texts": as_json(texts), "fit_texts": as_json(fit_texts),
        "batch_size": batch_size,
    }
    proc = subprocess.run(
        [sys.executable, "-m", "adapteval.analyses.peak_memory"], input=json.dumps(payload),
        capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"},
        check=False,
    )
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return [{"peak_memory_mb": None, "memory_error": tail[:300]} for _ in levels]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@ANALYSES.register
class Cost(Analysis):
    name = "cost"
    description = "parameters, disk size, latency (batch 1), throughput, peak memory"
    Params = CostParams
    scope = "model"
    needs_predictor = False
    offers = {**dict.fromkeys(("params", "params_nonzero", "disk_mb", "latency_ms_p50",
                               "latency_ms_p95"), NONNEGATIVE_LOWER),
              "throughput_per_s": Number(0.0, math.inf),
              "peak_memory_mb": NONNEGATIVE_LOWER}

    def applies(self, cell: Cell) -> str | None:
        if MODEL_KINDS.get(cell.model.kind).constant:
            return f"cost is not measured for {cell.model.kind} models (constant predictions)"
        return None

    def run(self, ctx: AnalysisContext) -> dict[str, Any]:
        p: CostParams = self.params  # type: ignore[assignment]
        ref, model = ctx.cell.model, ctx.model
        kind = MODEL_KINDS.get(ref.kind)
        texts = sample_texts(ctx.split.test.items, p.n_texts)
        fit_texts = list(ctx.split.train.items) if kind.fits_on_train else None
        runtime = kind.runtime(ref, model, fit_texts)
        total, nonzero = runtime.count()
        path = kind.weight_path(ref)
        disk = folder_mb(path) if path is not None else None
        ctx.step("cost: timing", 0, 1)
        out: dict[str, Any] = {"kind": ref.kind, "params": total, "params_nonzero": nonzero,
                               "disk_mb": disk, **timings(runtime.encode, texts, p),
                               "threads": kind.threads()}
        if p.memory:
            ctx.step("cost: memory", 0, 1)
            out.update(memory_mb(ref, texts, p.batch_size, fit_texts=fit_texts)[0])
        return out

    @classmethod
    def table(cls, rows: list[AnalysisRow]) -> pd.DataFrame:
        """One line per model (the cell it ran on is incidental)."""
        import pandas as pd

        return pd.DataFrame([{"model": r.model, **cls.scalars(r.result)} for r in rows])

    @classmethod
    def sections(cls, rows: list[AnalysisRow], results: Any = None) -> list[Section]:
        """Measured cost per model next to the adaptation wall time of its cells (the
        written reports: the measured cost per model)."""
        data = digest(rows)
        if data is None:
            return []
        shown = dg.table(data["models"], ["model", *COST_FIELDS],
                         ["model", "parameters", "disk MB", "latency p50 ms", "latency p95 ms",
                          "items/s", "peak memory MB"], digits=1)
        if results is None:
            return [Section(cls.name, title="Cost", report_tables=[shown], part="compression",
                            data=data)]
        table = SectionTable(
            columns(*(c for c, _ in COST_COLUMNS), left=("model", "strategy")),
            caption="Cost per model (latency at batch 1, throughput at batch 32, peak memory "
            "= RSS rise while encoding) and adaptation wall time per cell")
        for r in cost_table(results).to_dict("records"):
            table.add(*[str(r[k]) if fmt is None else Shown.of(r.get(k), fmt)
                        for k, (_, fmt) in zip(COST_KEYS, COST_COLUMNS, strict=True)])
        return [Section(cls.name, title="Cost", tables=[table], report_tables=[shown],
                        part="compression", data=data)]


def digest(rows: dg.Rows) -> dict[str, Any] | None:
    """The report's part: the measured cost per model."""
    table = [{"model": model, **{f: dg.mean(r.result.get(f) for r in rs) for f in COST_FIELDS}}
             for (model,), rs in dg.grouped(rows, ("model",)).items()]
    for rec in table:  # a count of weights reads as one
        if isinstance(rec["params"], float) and rec["params"].is_integer():
            rec["params"] = int(rec["params"])
    return {"models": table} if table else None


COST_FIELDS = ("params", "disk_mb", "latency_ms_p50", "latency_ms_p95", "throughput_per_s",
               "peak_memory_mb")
COST_COLUMNS = (("model", None), ("strategy", None), ("params", ",.0f"), ("disk MB", ".1f"),
                ("p50 ms", ".2f"), ("p95 ms", ".2f"), ("items/s", ".1f"), ("peak MB", ".1f"),
                ("adapt s/cell", ".2f"), ("cells", "d"))
COST_KEYS = ("model", "strategy", "params", "disk_mb", "latency_ms_p50", "latency_ms_p95",
             "throughput_per_s", "peak_memory_mb", "adapt_s_mean", "cells")


def cost_table(results: Results) -> pd.DataFrame:
    """Per model and strategy: the model's measured cost and the adaptation wall time of
    its cells (mean and total seconds over tasks and seeds). A pretrained encoder embeds
    all texts of its tasks once before its frozen cells run, so their time is the head's
    fit; the encoding pass is what ``latency``/``throughput`` describe."""
    import pandas as pd

    measured = {r.model: {**Cost.scalars(r.result), "load_1m": r.result.get("load_1m")}
                for r in results.analysis("cost")}
    cells = pd.DataFrame([{"model": results.labels[r.key].model,
                           "strategy": results.labels[r.key].strategy, "seconds": r.duration_s}
                          for r in results.rows])
    if cells.empty:
        return pd.DataFrame()
    adapt = cells.groupby(["model", "strategy"], sort=False)["seconds"].agg(
        adapt_s_mean="mean", adapt_s_total="sum", cells="size").reset_index()
    recs = [{**r, "load_1m": None, **measured.get(r["model"], {})}
            for r in adapt.to_dict("records")]
    return pd.DataFrame(recs)
