"""Features of frozen models: an on-disk cache keyed by (model key, text hash) and the
embedder that reads it before it encodes.

Embeddings live in their own SQLite file beside the results store and are committed
chunk by chunk while a model encodes, so a killed run keeps what it encoded.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from adapteval.core.keys import item_key
from adapteval.core.paths import sqlite_file
from adapteval.core.progress import Reporter
from adapteval.core.sqlite import connect, transaction

if TYPE_CHECKING:
    from adapteval.models.ref import ModelRef

EMBEDDINGS_FILE = "embeddings.sqlite"
ENCODE_CHUNK = 1024


class EmbeddingCache:
    """On-disk cache of embeddings keyed by model key and text hash."""

    def __init__(self, path: str | Path) -> None:
        p = Path(path)
        self.path = sqlite_file(p, EMBEDDINGS_FILE)
        self.conn = connect(self.path)
        with transaction(self.conn):
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS emb (model TEXT, text BLOB, vec BLOB, "
                "PRIMARY KEY (model, text)) WITHOUT ROWID"
            )

    def get(self, model_key: str, hashes: list[bytes], dim: int) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        for i in range(0, len(hashes), 500):
            chunk = hashes[i : i + 500]
            for h, blob in self.conn.execute(
                f"SELECT text, vec FROM emb WHERE model = ? AND text IN ({', '.join('?' * len(chunk))})",
                [model_key, *chunk],
            ):
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.size == dim:
                    found[h] = vec
        return found

    def put(self, model_key: str, hashes: list[bytes], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        with transaction(self.conn):
            self.conn.executemany(
                "INSERT OR REPLACE INTO emb VALUES (?, ?, ?)",
                [(model_key, h, vectors[i].tobytes()) for i, h in enumerate(hashes)],
            )

    def close(self) -> None:
        self.conn.close()


class Embedder:
    """Cached features of input items for one loaded model: memory, then disk, then the
    encoder."""

    def __init__(self, model: Any, ref: ModelRef, cache: EmbeddingCache, reporter: Reporter):
        self.model, self.ref, self.cache, self.reporter = model, ref, cache, reporter
        self.memory: dict[bytes, np.ndarray] = {}

    def __call__(self, items: list[Any]) -> np.ndarray:
        hashes = [item_key(t) for t in items]
        unique = dict(zip(hashes, items, strict=True))
        missing = [h for h in unique if h not in self.memory]
        if missing:
            self.memory.update(self.cache.get(self.ref.key, missing, self.model.dim))
        if any(h not in self.memory for h in unique):
            self._encode(unique)
        return np.stack([self.memory[h] for h in hashes])

    def _encode(self, unique: dict[bytes, Any]) -> None:
        """Encode the items not yet cached, longest texts first (other items in the order
        asked), in chunks of ``ENCODE_CHUNK``. A killed run commits whole chunks of that
        order, so its rerun encodes the remaining chunks exactly as an uninterrupted run
        would: the same batches, the same floats. Items another request already encoded
        (k-shot draws before a full probe, another suite on the same cache) are reused, not
        encoded again; their floats agree with a fresh encode's to rounding (~1e-7)."""
        items = [(h, t) for h, t in unique.items() if h not in self.memory]
        if all(isinstance(item, str) for _, item in items):
            items.sort(key=lambda ht: (-len(ht[1]), ht[1]))
        todo = [items[i : i + ENCODE_CHUNK] for i in range(0, len(items), ENCODE_CHUNK)]
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


def needed_items(cells) -> list[Any]:
    """Every distinct input the cells embed (each strategy's :meth:`embedded` views, items
    then pairs), in cell order. A run encodes this set for all of a model's cells in the
    plan, finished or not, so a resumed run asks for the very same set, and so builds the
    same batches and the same floats, as an uninterrupted one."""
    out: dict[bytes, Any] = {}
    for cell in cells:
        if not cell.strategy.embeds:
            continue
        for view in cell.strategy.embedded(cell.task, cell.task.split(cell.seed), cell.seed):
            for item in view.items + (view.pairs or []):
                out.setdefault(item_key(item), item)
    return list(out.values())


def model_items(plan, ref: ModelRef) -> list[Any]:
    """What a run encodes for model ``ref`` before its cells (and ranking before it
    scores, so both read the same floats): what the plan's cells of ``ref`` need."""
    return needed_items([c for c in plan.cells if c.model.key == ref.key])
