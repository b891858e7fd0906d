"""The local executor: runs the cells of a plan that the store does not have yet.

Cells are grouped by model, so each model is loaded once; a pretrained encoder embeds
every text of its tasks in one length-sorted pass (cached on disk chunk by chunk)
before its cells run. Each finished cell is written to the store at once.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from adapteval._env import threads
from adapteval._version import __version__
from adapteval.adapt import CellContext
from adapteval.models.baselines import BASELINES
from adapteval.plan import Cell, ModelRef, Plan
from adapteval.progress import Reporter
from adapteval.store import CellRow, EmbeddingCache, ResultStore, now, text_hash

ENCODE_CHUNK = 1024


@dataclass(frozen=True)
class RunSummary:
    total: int
    skipped_done: int
    ran: int
    seconds: float


def load_model(ref: ModelRef) -> Any:
    if ref.kind in BASELINES:
        return BASELINES[ref.kind]()
    assert ref.folder is not None
    where = f"model {ref.label!r}"
    if ref.kind == "onnx":
        from adapteval.models.onnx import ONNXEncoder

        assert ref.tokenizer_folder is not None
        return ONNXEncoder(ref.spec, ref.folder, ref.tokenizer_folder, where=where)
    from adapteval.models.hf import HFEncoder

    n = threads()
    if n is not None:
        import torch

        torch.set_num_threads(n)
    return HFEncoder(ref.spec, ref.folder, where=where)


class Embedder:
    """Cached text embedding for one loaded model: memory, then disk, then the encoder."""

    def __init__(self, model: Any, ref: ModelRef, cache: EmbeddingCache, reporter: Reporter):
        self.model, self.ref, self.cache, self.reporter = model, ref, cache, reporter
        self.memory: dict[bytes, np.ndarray] = {}

    def __call__(self, texts: list[str]) -> np.ndarray:
        hashes = [text_hash(t) for t in texts]
        unique = dict(zip(hashes, texts, strict=True))
        missing = [h for h in unique if h not in self.memory]
        if missing:
            self.memory.update(self.cache.get(self.ref.key, missing, self.model.dim))
        if any(h not in self.memory for h in unique):
            self._encode(unique)
        return np.stack([self.memory[h] for h in hashes])

    def _encode(self, unique: dict[bytes, str]) -> None:
        """Encode in chunks fixed by the whole request (longest texts first), not by what is
        cached, so a resumed run builds the very same batches as an uninterrupted one."""
        items = sorted(unique.items(), key=lambda ht: (-len(ht[1]), ht[1]))
        chunks = [items[i : i + ENCODE_CHUNK] for i in range(0, len(items), ENCODE_CHUNK)]
        todo = [c for c in chunks if any(h not in self.memory for h, _ in c)]
        total, done = sum(len(c) for c in todo), 0
        label = f"encoding with {self.ref.label}"
        self.reporter.step(label, 0, total)

        def tick(n: int) -> None:
            nonlocal done
            done += n
            self.reporter.step(label, min(done, total), total)

        for chunk in todo:
            vecs = self.model.encode([t for _, t in chunk], progress=tick)
            hashes = [h for h, _ in chunk]
            self.cache.put(self.ref.key, hashes, vecs)  # committed: a kill keeps this chunk
            self.memory.update(zip(hashes, vecs, strict=True))


def all_texts(tasks) -> list[str]:
    """Every distinct text (and pair text) of the tasks, in a fixed order. Encoding this
    whole set at once, wherever it happens, gives the same batches and so the same floats."""
    texts: dict[str, None] = {}
    for task in tasks:
        texts.update(dict.fromkeys(task.frame["text"]))
        if "text_pair" in task.frame:
            texts.update(dict.fromkeys(task.frame["text_pair"]))
    return list(texts)


def run_cell(
    cell: Cell, model: Any, embed: Callable | None, reporter: Reporter, *, suite: str = ""
) -> CellRow:
    t0 = time.perf_counter()
    split = cell.task.split(cell.seed)
    ctx = CellContext(
        cell.task, split, model, cell.seed, embed,
        lambda label, done, total: reporter.step(label, done, total),
    )
    preds = cell.strategy.run(ctx)
    return CellRow(
        key=cell.key, suite=suite, model=cell.model.label, task=cell.task.name,
        strategy=cell.strategy.name, seed=cell.seed, model_fingerprint=cell.model.fingerprint,
        task_fingerprint=cell.task.fingerprint, strategy_config=cell.strategy.config(),
        task_type=cell.task.type, classes=list(cell.task.classes) if cell.task.classes else None,
        version=__version__, created_at=now(), duration_s=time.perf_counter() - t0,
        info=preds.info, predictions=preds.to_bytes(),
    )


def run_plan(plan: Plan, store: ResultStore, cache: EmbeddingCache, reporter: Reporter) -> RunSummary:
    t0 = time.perf_counter()
    done = store.finished_keys()
    todo = [c for c in plan.cells if c.key not in done]
    reporter.start(len(plan.cells), len(plan.cells) - len(todo))
    by_model: dict[str, list[Cell]] = {}
    for cell in todo:
        by_model.setdefault(cell.model.label, []).append(cell)
    try:
        for cells in by_model.values():
            ref = cells[0].model
            model = load_model(ref)
            embed = Embedder(model, ref, cache, reporter) if ref.pretrained else None
            if embed is not None and any(c.strategy.frozen for c in cells):
                embed(all_texts({c.task.name: c.task for c in cells}.values()))
            for cell in cells:
                reporter.cell(cell.label)
                store.put(run_cell(cell, model, embed, reporter, suite=plan.suite.name))
                reporter.cell_done()
            del model, embed
            gc.collect()
    finally:
        reporter.stop()
    return RunSummary(len(plan.cells), len(plan.cells) - len(todo), len(todo),
                      time.perf_counter() - t0)
