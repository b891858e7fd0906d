"""The frozen probe before (fixed C = 1) and after tuning (C chosen by cross-validation
on the training split), with the time tuning adds.

For the bundled tasks (seeds 0, 1, 2) and BANKING77 (the full training split, 10003
items, 77 intents) it prints the probe's test accuracy and log loss under the
``fixed``, ``tuned`` and ``mteb`` protocols, the C chosen, and the head's fitting time
(``fit_s``: fitting incl. choosing C; ``tune_s``: choosing C alone). It ends with
MTEB's k-shot protocol on BANKING77 (MTEB publishes 0.80042 for all-MiniLM-L6-v2).
A regression row (the log word count of 400 review sentences, a real numeric target)
gives test R^2 of the fixed ridge (alpha = 1) and the tuned one.
Embeddings of all-MiniLM-L6-v2 are cached on disk (``--cache``), so a second run only
fits heads.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/probe_tuning.py [--cache DIR] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BUNDLED = ["sentiment-amazon", "sentiment-imdb", "sentiment-yelp", "sms-spam"]
PROTOCOLS = ["fixed", "tuned", "mteb"]


class CachedEmbedder:
    """all-MiniLM-L6-v2 through the on-disk embedding cache (encoded once)."""

    pretrained = True
    key = "all-MiniLM-L6-v2/probe-tuning-benchmark"

    def __init__(self, cache_dir: Path) -> None:
        from adapteval.features import EmbeddingCache
        from adapteval.models.hf import HFEncoder, resolve_model_dir
        from adapteval.suite.specs import ModelSpec

        spec = ModelSpec(source="all-MiniLM-L6-v2")
        self.encoder = HFEncoder(spec, resolve_model_dir(spec, Path.cwd()))
        self.cache = EmbeddingCache(cache_dir)

    def __call__(self, texts: list[str]) -> np.ndarray:
        from adapteval.core.keys import item_key

        unique = list(dict.fromkeys(texts))
        hashes = [item_key(t) for t in unique]
        found = self.cache.get(self.key, hashes, self.encoder.dim)
        missing = [(h, t) for h, t in zip(hashes, unique, strict=True) if h not in found]
        if missing:
            vectors = self.encoder.encode([t for _, t in missing])
            self.cache.put(self.key, [h for h, _ in missing], vectors)
            found.update(zip([h for h, _ in missing], vectors, strict=True))
        by_text = {t: found[h] for h, t in zip(hashes, unique, strict=True)}
        return np.stack([by_text[t] for t in texts])


def probe_row(task, split, embed, seed: int, protocol: str) -> dict:
    from sklearn.metrics import log_loss

    from adapteval.strategies import CellContext
    from adapteval.strategies.probe import Probe, ProbeParams

    out = Probe(ProbeParams(protocol=protocol)).run(CellContext(task, split, embed, seed,
                                                                embed=embed))
    proba = out.proba[0] / out.proba[0].sum(1, keepdims=True)
    return {"accuracy": float((out.y_pred[0] == out.y_true).mean()),
            "log_loss": float(log_loss(out.y_true, proba, labels=range(len(task.classes)))),
            "C": out.info["regularization"]["C"], "fit_s": out.info["fit_s"],
            "tune_s": out.info["tune_s"]}


def show(name: str, rows: dict[str, list[dict]]) -> None:
    for protocol in PROTOCOLS:
        r = rows[protocol]
        mean = {k: float(np.mean([x[k] for x in r])) for k in r[0]}
        cs = "/".join(f"{x['C']:.3g}" for x in r)
        print(f"{name:<18} {protocol:<6} {mean['accuracy']:>8.4f} {mean['log_loss']:>8.4f} "
              f"{cs:>22} {mean['fit_s']:>8.3f} {mean['tune_s']:>8.3f}")


def regression(embed, folder: Path) -> None:
    from sklearn.metrics import r2_score

    from adapteval.data.task import load_task
    from adapteval.strategies import CellContext
    from adapteval.strategies.probe import Probe, ProbeParams
    from adapteval.suite.specs import TaskSpec

    texts: list[str] = []
    for name in BUNDLED[:3]:
        texts += load_task(TaskSpec(name=name, bundled=name), folder).split(0).train.items
    texts = list(dict.fromkeys(texts))[:400]
    rows = ["text,label"] + [f'"{t.replace(chr(34), chr(39))}",{np.log(len(t.split())):.6f}'
                             for t in texts]
    (folder / "words.csv").write_text("\n".join(rows), encoding="utf-8")
    task = load_task(TaskSpec(name="words", path="words.csv", type="regression"), folder)
    split = task.split(0)
    for protocol in ("fixed", "tuned"):
        out = Probe(ProbeParams(protocol=protocol)).run(
            CellContext(task, split, embed, 0, embed=embed))
        print(f"{'words (regression)':<18} {protocol:<6} R^2 {r2_score(out.y_true, out.y_pred[0]):.4f}"
              f" alpha {out.info['regularization']['alpha']:.3g} fit_s {out.info['fit_s']:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "adapteval-probe-tuning")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-banking77", action="store_true")
    args = parser.parse_args(argv)

    import torch

    from adapteval.data.task import load_task
    from adapteval.strategies import CellContext
    from adapteval.strategies.kshot import KShot, KShotParams
    from adapteval.suite.specs import TaskSpec

    torch.set_num_threads(args.threads)
    args.cache.mkdir(parents=True, exist_ok=True)
    embed = CachedEmbedder(args.cache)
    print(f"{'task':<18} {'probe':<6} {'accuracy':>8} {'log_loss':>8} {'C (per seed)':>22} "
          f"{'fit_s':>8} {'tune_s':>8}")
    totals = {p: 0.0 for p in PROTOCOLS}
    for name in BUNDLED:
        task = load_task(TaskSpec(name=name, bundled=name), args.cache)
        rows = {p: [] for p in PROTOCOLS}
        for seed in (0, 1, 2):
            split = task.split(seed)
            for p in PROTOCOLS:
                rows[p].append(probe_row(task, split, embed, seed, p))
                totals[p] += rows[p][-1]["fit_s"]
        show(name, rows)
    print(f"head fitting over the 12 bundled cells: fixed {totals['fixed']:.2f} s, "
          f"tuned {totals['tuned']:.2f} s, mteb {totals['mteb']:.2f} s")
    regression(embed, args.cache)
    if args.skip_banking77:
        return 0
    b77 = load_task(TaskSpec(name="banking77", files={"train": "train.csv", "test": "test.csv"},
                             label="category"), DATA / "banking77")
    split = b77.split(0)
    show("banking77 (full)", {p: [probe_row(b77, split, embed, 0, p)] for p in PROTOCOLS})
    out = KShot(KShotParams(protocol="mteb")).run(CellContext(b77, split, embed, 0, embed=embed))
    print(f"banking77 k-shot, protocol mteb (10 x 8 per label): accuracy "
          f"{float((out.y_pred == out.y_true).mean()):.5f} (MTEB publishes 0.80042)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
