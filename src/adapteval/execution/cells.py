"""Running cells: one cell (adapt, evaluate, analyse), and one model's group of cells.

Cells are grouped by model, so each model is loaded once; a pretrained encoder embeds
what its cells need (the splits; for k-shot, the drawn items and the test split) in one
length-sorted pass (cached on disk chunk by chunk) before its cells run. Where the groups run is the executor's business (this process,
worker processes, Ray actors: see ``adapteval.execution.executors``); the driver
(``adapteval.execution.driver``) writes each finished cell, and each of its analyses, to
the store the moment it arrives.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from importlib.metadata import packages_distributions, version
from pathlib import Path
from typing import Any

from adapteval._version import __version__
from adapteval.analyses import AnalysisContext, AnalysisRow
from adapteval.core.env import library_versions, runtime, threads
from adapteval.core.keys import jsonable
from adapteval.core.progress import Reporter
from adapteval.data.task import Split, Task, test_in_train
from adapteval.features import Embedder, EmbeddingCache, model_items
from adapteval.models.kinds import load_model
from adapteval.models.ref import ModelRef
from adapteval.plan import Cell, Job, Plan
from adapteval.store import CellRow, ResultStore, now
from adapteval.strategies import CellContext, Predictions


def run_cell(
    cell: Cell, model: Any, embed: Callable | None, reporter: Reporter, *, suite: str = "",
    jobs: list[Job] = (), stored: CellRow | None = None, plan: Plan | None = None,
) -> Iterator[CellRow | AnalysisRow]:
    """Adapt and evaluate one cell, then run its analyses; yields each finished row as
    soon as it exists (the cell first, unless ``stored`` already holds it), so the
    caller can commit it before the next starts."""
    t0 = time.perf_counter()
    split = cell.task.split(cell.seed)
    ctx = CellContext(
        cell.task, split, model, cell.seed, embed,
        lambda label, done, total: reporter.step(label, done, total),
    )
    fitted = None
    if stored is None or any(j.analysis.needs_predictor for j in jobs):
        fitted = cell.strategy.fit(ctx)
    if stored is None:
        assert fitted is not None
        preds = fitted.predictions
        stored = CellRow(
            key=cell.key, suite=suite, model=cell.model.label, task=cell.task.name,
            strategy=cell.strategy.name, seed=cell.seed, model_fingerprint=cell.model.fingerprint,
            task_fingerprint=cell.task.fingerprint, strategy_config=cell.strategy.config(),
            task_type=cell.task.type,
            classes=list(cell.task.classes) if cell.task.classes else None,
            version=__version__, created_at=now(), duration_s=time.perf_counter() - t0,
            info=preds.info, predictions=preds.to_bytes(),
            provenance=provenance(cell, split, model),
        )
        yield stored
    else:
        preds = Predictions.from_bytes(stored.predictions, stored.info)
    for job in jobs:
        a = job.analysis
        if a.needs_predictor and (fitted is None or fitted.predictor is None):
            continue  # the strategy leaves no predictor to analyse
        t1 = time.perf_counter()
        reporter.step(f"{a.name}", 0, 1)
        actx = AnalysisContext(
            cell, split, preds, fitted.predictor if fitted is not None else None, model, embed,
            plan, ctx.progress, stored.info,
        )
        result = jsonable(a.run(actx))
        yield AnalysisRow(
            key=job.key, cell_key=cell.key, name=a.name, model=cell.model.label,
            task=cell.task.name, strategy=cell.strategy.name, seed=cell.seed,
            config=a.config(), result=result, version=__version__, created_at=now(),
            duration_s=time.perf_counter() - t1,
        )


def provenance(cell: Cell, split: Split, model: Any) -> dict[str, Any]:
    """What a cell's numbers depend on beyond its key: library versions, interpreter,
    threads, device and dtype, batch sizes, the model's revision and fingerprint, the
    data's fingerprint and reference, and how many test items also occur in train."""
    ref, task, cfg = cell.model, cell.task, cell.strategy.config()
    return jsonable({
        "libraries": library_versions(),
        **runtime(),
        "ray_node": ray_node(),
        **placement_of(model, ref),
        "batch_size": ref.spec.batch_size if ref.pretrained else None,
        "train_batch_size": cfg.get("batch_size"),
        "model": {"kind": ref.kind, "fingerprint": ref.fingerprint,
                  "folder": str(ref.folder) if ref.folder is not None else None,
                  **(model_revision(ref.folder) if ref.pretrained else  # baselines: code
                     {"revision": f"adapteval {__version__}", "revision_from": "package"})},
        "data": {"fingerprint": task.fingerprint, "source": task.source,
                 "n_train": len(split.train), "n_test": len(split.test),
                 "test_in_train": test_in_train(split),
                 "reference": task_reference(task)},
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    })


def ray_node() -> str | None:
    """The id of the Ray node this process runs on (a Ray worker), else None."""
    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized():
        return None
    return ray.get_runtime_context().get_node_id()


def placement_of(model: Any, ref: ModelRef) -> dict[str, str | None]:
    """The resolved ``device`` (``cpu``, ``cuda:0``) and ``dtype`` a cell computed in:
    the loaded model's placement, else its ref's; a model without one (a baseline)
    computes on the CPU, ``dtype`` None."""
    placement = getattr(model, "placement", None) or ref.placement
    if placement is None:
        return {"device": device_of(model), "dtype": None}
    return {"device": placement.device, "dtype": placement.dtype}


def device_of(model: Any) -> str:
    """Where a loaded model's weights are (``cpu``, ``cuda:0``); ``cpu`` for models
    without torch weights (baselines, ONNX on its CPU provider)."""
    for inner in (getattr(model, "model", None), model):
        params = getattr(inner, "parameters", None)
        if callable(params):
            try:
                return str(next(iter(params())).device)
            except (StopIteration, TypeError, AttributeError):
                continue
    return "cpu"


def model_revision(folder: Path | None) -> dict[str, str | None]:
    """The model's revision: the hub commit of a Hugging Face cache snapshot (from its
    path, or ``_commit_hash`` in its config), else the version of the Python package it
    ships in; None when neither is known (a local folder, a baseline)."""
    if folder is None:
        return {"revision": None, "revision_from": None}
    parts = Path(folder).parts
    if "snapshots" in parts[:-1]:
        i = len(parts) - 1 - parts[::-1].index("snapshots")
        if i + 1 < len(parts):
            return {"revision": parts[i + 1], "revision_from": "hub cache"}
    base = Path(folder) if Path(folder).is_dir() else Path(folder).parent
    try:
        commit = json.loads((base / "config.json").read_text()).get("_commit_hash")
    except (OSError, ValueError, AttributeError):
        commit = None
    if commit:
        return {"revision": str(commit), "revision_from": "config"}
    for marker in ("site-packages", "dist-packages"):
        if marker in parts[:-1]:
            top = parts[parts.index(marker) + 1]
            for dist in _distributions().get(top, []):
                return {"revision": f"{dist} {version(dist)}", "revision_from": "package"}
    return {"revision": None, "revision_from": None}


@functools.cache
def _distributions() -> dict[str, list[str]]:
    """Top-level module -> distributions, read once per process (scanning every installed
    package's files takes about a second: too much for each of a curve's many cells)."""
    return packages_distributions()


def task_reference(task: Task) -> dict[str, Any] | None:
    """The task's spec with its files as absolute paths, so its items (texts, ids) can be
    read back from a bare store while the files stay as they were."""
    spec = task.spec
    if spec.path is not None:
        spec = spec.model_copy(update={"path": str(Path(task.source).absolute())})
    elif spec.files is not None:
        paths = task.source.split(", ")
        sizes = [1 if isinstance(v, str) else len(v) for v in spec.files.values()]
        if len(paths) != sum(sizes):
            return None
        absolute = iter(str(Path(p).absolute()) for p in paths)
        spec = spec.model_copy(update={"files": {
            k: next(absolute) if isinstance(v, str) else [next(absolute) for _ in v]
            for k, v in spec.files.items()}})
    else:
        return None  # in-memory images: nothing to read again
    return spec.model_dump(mode="json", exclude_none=True)


Item = tuple[Cell, list[Job], CellRow | None]
"""A cell with something left to do: its analyses still to run, and its stored row when
only analyses are missing."""


def pending(plan: Plan, store: ResultStore) -> list[tuple[Cell, list[Job], bool]]:
    """(cell, its analyses still to run, whether the cell itself is stored) for every
    cell with something left to do, in plan order."""
    done, adone = store.finished_keys(), store.finished_analysis_keys()
    jobs = plan.jobs()
    out = []
    for cell in plan.cells:
        missing = [j for j in jobs.get(cell.key, []) if j.key not in adone]
        if cell.key not in done or missing:
            out.append((cell, missing, cell.key in done))
    return out


def blas_limit() -> AbstractContextManager[Any]:
    """numpy's and scipy's BLAS (OpenBLAS, MKL) and OpenMP pools at the run's thread count
    (``--threads``; workers get theirs), as torch's: two workers side by side would
    otherwise each run a BLAS thread per core, spinning against each other (the cells of
    2 workers took twice their one-process time on 2 cores). Nothing set: the libraries'
    defaults."""
    n = threads()
    if n is None:
        return nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=n)


class ModelSession:
    """One model loaded once, running cells of that model one after another. Executors
    keep one per process or actor; each cell's rows come out as soon as they exist."""

    def __init__(self, plan: Plan, ref: ModelRef, cache: EmbeddingCache, reporter: Reporter):
        self.plan, self.ref, self.cache, self.reporter = plan, ref, cache, reporter
        self.model: Any = None
        self.embed: Embedder | None = None
        self.embedded = False

    def prepare(self, items: list[Item]) -> None:
        """Load the model and, before the first of ``items`` that embeds, embed in one
        pass what the plan's cells of this model need
        (:func:`adapteval.features.needed_items`; all of them, not only the items left to
        run): the same pass on every executor, in whatever order its cells come, and on
        every resume gives the same batches and so the same floats. A session that
        starts after another worker's pass finds it all in the shared cache."""
        if self.model is None:
            self.model = load_model(self.ref)
            self.embed = (Embedder(self.model, self.ref, self.cache, self.reporter)
                          if self.ref.pretrained else None)
        if (self.embed is not None and not self.embedded
                and any(c.strategy.embeds for c, _, _ in items)):
            self.embed(model_items(self.plan, self.ref))
            self.embedded = True

    def run(self, item: Item) -> Iterator[CellRow | AnalysisRow]:
        cell, jobs, stored = item
        self.prepare([item])
        self.reporter.cell(cell.label)
        with blas_limit():
            yield from run_cell(cell, self.model, self.embed, self.reporter,
                                suite=self.plan.suite.name, jobs=jobs, stored=stored,
                                plan=self.plan)

    def close(self) -> None:
        self.model = self.embed = None
        gc.collect()


class CellWorker:
    """The worker side of executors that hand out single cells (worker processes, Ray
    actors): keeps the session of the last model it ran, so a model is loaded once per
    worker for all the cells of it the worker gets, and its features embedded once."""

    def __init__(self, plan: Plan, cache: EmbeddingCache, reporter: Reporter) -> None:
        self.plan, self.cache, self.reporter = plan, cache, reporter
        self.cells = {c.key: c for c in plan.cells}
        self.jobs = {j.key: j for js in plan.jobs().values() for j in js}
        self.session: ModelSession | None = None

    def run(self, key: str, job_keys: list[str],
            stored: CellRow | None) -> Iterator[CellRow | AnalysisRow]:
        cell = self.cells[key]
        if self.session is None or self.session.ref.label != cell.model.label:
            if self.session is not None:
                self.session.close()  # one model in memory at a time
            self.session = ModelSession(self.plan, cell.model, self.cache, self.reporter)
        yield from self.session.run((cell, [self.jobs[j] for j in job_keys], stored))

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
        self.cache.close()


def run_group(plan: Plan, items: list[Item], cache: EmbeddingCache,
              reporter: Reporter) -> Iterator[tuple[str, CellRow | AnalysisRow | None]]:
    """Run the items of one model: (cell key, row) for each row, then (cell key, None)
    once the cell and its analyses are done."""
    session = ModelSession(plan, items[0][0].model, cache, reporter)
    try:
        session.prepare(items)
        for item in items:
            for row in session.run(item):
                yield item[0].key, row
            yield item[0].key, None
    finally:
        session.close()


def by_model(items: list[Item]) -> list[list[Item]]:
    """Items grouped by model, in plan order: the unit an executor hands to one worker."""
    groups: dict[str, list[Item]] = {}
    for item in items:
        groups.setdefault(item[0].model.label, []).append(item)
    return list(groups.values())

