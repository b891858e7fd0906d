"""Does preprocessing starve an image model? Frozen EfficientNet-Lite encoding, three ways.

Reads N Fashion-MNIST test images from ../shared/data/fashion-mnist (IDX, gzipped: numpy
and gzip, nothing else), as uint8 RGB arrays like adapteval's image readers give, and
encodes them with EfficientNet-Lite0 (or ``--model``) at the same batch size and torch
thread count in each of:

  - limit:      a bare torch loop over pixel tensors preprocessed before timing
                (forward to the pooled features, nothing else);
  - adapteval:  adapteval's frozen encoding as a run does it: the embedder with a fresh
                feature cache, the encoder preprocessing each next batch on a second
                thread while the network runs, features written to SQLite chunk by chunk;
  - dataloader: a plain torch Dataset that decodes (raw IDX bytes -> RGB image) and
                preprocesses each item (the same transform), batched by a DataLoader
                (``--workers`` processes; 0: in the main process).

It prints images/s of each and adapteval's time against the limit (target: within 1.15x);
with ``--rounds R`` the three run in turn R times and the fastest of each counts.
The features of the three agree (checked).

    nice -n 5 .venv/bin/python benchmarks/images.py [--n 1000] [--threads 2] [--workers 1] [--rounds 2]
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fashion-mnist"


def read_idx(path: Path) -> np.ndarray:
    with gzip.open(path) as fh:
        raw = fh.read()
    rank = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * rank).reshape(dims)


class RawImages(torch.utils.data.Dataset):
    """Items as raw IDX bytes, decoded and preprocessed on access (a torchvision-style
    Dataset: decode, transform, return a tensor)."""

    def __init__(self, raw: list[bytes], side: int, transform) -> None:
        self.raw, self.side, self.transform = raw, side, transform

    def __len__(self) -> int:
        return len(self.raw)

    def __getitem__(self, i: int) -> torch.Tensor:
        grey = np.frombuffer(self.raw[i], np.uint8).reshape(self.side, self.side)
        rgb = np.repeat(grey[:, :, None], 3, axis=2)
        return torch.from_numpy(self.transform([rgb])[0])


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="efficientnet-lite0")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the three in turn this many times; the fastest of each counts "
                        "(a machine shared with other jobs)")
    args = parser.parse_args(argv)

    from adapteval.core.progress import Reporter
    from adapteval.features import Embedder, EmbeddingCache
    from adapteval.models.kinds import load_model, resolve_model
    from adapteval.suite.specs import ModelSpec

    torch.set_num_threads(args.threads)
    os.environ["ADAPTEVAL_THREADS"] = str(args.threads)  # the model kind sets torch's count
    grey = read_idx(DATA / "t10k-images-idx3-ubyte.gz")[: args.n]
    items = [np.repeat(g[:, :, None], 3, axis=2) for g in grey]
    ref = resolve_model(ModelSpec(source=args.model, batch_size=args.batch_size), Path.cwd(),
                        where="benchmark")
    model = load_model(ref)
    bs = args.batch_size
    print(f"{args.model}: {args.n} Fashion-MNIST images (28x28 grey -> "
          f"{model.preprocess.size}x{model.preprocess.size} RGB), batch {bs}, "
          f"{torch.get_num_threads()} torch threads, DataLoader workers {args.workers}",
          flush=True)

    with torch.inference_mode():  # warm-up: first-call allocations, kernel choice
        model.features(torch.from_numpy(model.preprocess(items[:bs])))

    pixels = [torch.from_numpy(model.preprocess(items[i:i + bs])) for i in range(0, len(items), bs)]

    def limit() -> np.ndarray:
        with torch.inference_mode():
            return np.vstack([model.features(x).numpy() for x in pixels])

    def adapteval() -> np.ndarray:
        with tempfile.TemporaryDirectory() as tmp:
            cache = EmbeddingCache(tmp)
            try:
                return Embedder(model, ref, cache, Reporter())(items)
            finally:
                cache.close()

    def dataloader() -> np.ndarray:
        data = RawImages([g.tobytes() for g in grey], grey.shape[1], model.preprocess)
        loader = torch.utils.data.DataLoader(data, batch_size=bs, num_workers=args.workers,
                                             persistent_workers=False)
        with torch.inference_mode():
            return np.vstack([model.features(x).numpy() for x in loader])

    results: dict[str, tuple[float, np.ndarray]] = {}
    for r in range(args.rounds):
        for name, fn in (("limit", limit), ("adapteval", adapteval), ("dataloader", dataloader)):
            seconds, feats = timed(fn)
            if name not in results or seconds < results[name][0]:
                results[name] = (seconds, feats)
            print(f"  round {r + 1} {name:<11} {args.n / seconds:7.1f} images/s "
                  f"({seconds:6.2f} s)", flush=True)
    print("fastest of each:")
    for name, (seconds, _) in results.items():
        print(f"  {name:<11} {args.n / seconds:7.1f} images/s  ({seconds:6.2f} s)")
    base = results["limit"][1]
    for name in ("adapteval", "dataloader"):
        diff = float(np.abs(results[name][1] - base).max())
        assert diff < 1e-3, f"{name} features differ from the limit's by {diff}"
    ratio = results["adapteval"][0] / results["limit"][0]
    print(f"adapteval / limit: {ratio:.3f}x (target <= 1.15x); dataloader / limit: "
          f"{results['dataloader'][0] / results['limit'][0]:.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
