"""Where a compression sweep's time goes: re-encoding vs the bare forward limit vs the rest.

Runs the ``compression`` analysis as a suite runs it (all-MiniLM-L6-v2, frozen probe, one
bundled task, a fresh store so every level is encoded), with timers around the encoder's
``encode`` and the model transforms. Then, for every level, the same compressed model runs a
bare torch forward loop (``benchmarks/encode.py``'s ``bare_loop``: forward + mean pooling +
normalise, nothing else) over the very batches the encoder builds, pre-tokenized and
pre-padded before timing. It prints, per level and in total:

  - encode: seconds inside ``HFEncoder.encode`` (tokenization, batching, forward, pooling);
  - bare:   the bare forward loop over the same batches (the limit for encoding);
  - transform: pruning / layer dropping / quantization of a copy of the weights;
  - rest:   everything else in the analysis (head refit with the strategy's settings,
            embedding cache, metric, bookkeeping).

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/compression.py [--task sentiment-yelp] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from encode import bare_loop  # noqa: E402  (benchmarks/encode.py)


class Clock:
    """Accumulates wall and CPU seconds of a wrapped function, per compression level."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.level = "uncompressed"

    def wrap(self, fn, bucket: str):
        def timed(*args, **kwargs):
            w, c = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.wall[(self.level, bucket)] += time.perf_counter() - w
                self.cpu[(self.level, bucket)] += time.process_time() - c
        return timed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="sentiment-yelp")
    parser.add_argument("--magnitude", type=float, nargs="+", default=[0.0, 0.3, 0.5, 0.7, 0.9])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    os.environ["ADAPTEVAL_THREADS"] = str(args.threads)
    torch.set_num_threads(args.threads)

    import adapteval
    from adapteval.analyses import compression
    from adapteval.models import hf
    from adapteval.models.compress import Level
    from adapteval.models.compress import compressed as transform

    clock = Clock()
    hf.HFEncoder.encode = clock.wrap(hf.HFEncoder.encode, "encode")
    compression.compressed = clock.wrap(compression.compressed, "transform")
    step = compression.AnalysisContext.step

    def on_step(self, label, done, total):  # the analysis announces each level
        if label.startswith("compression: "):
            clock.level = label.removeprefix("compression: ")
        step(self, label, done, total)

    compression.AnalysisContext.step = on_step
    with tempfile.TemporaryDirectory() as out:
        suite = {
            "name": "compression-benchmark", "models": ["all-MiniLM-L6-v2"], "baselines": [],
            "tasks": [{"name": args.task, "bundled": args.task}], "strategies": ["probe"],
            "seeds": [0], "analyses": [{"name": "compression", "magnitude": args.magnitude}],
            "output_dir": out, "bootstrap": {"n_resamples": 200},
        }
        t0 = time.perf_counter()
        res = adapteval.run(suite)
        run_s = time.perf_counter() - t0
    (row,) = res.analysis("compression")
    texts = list(dict.fromkeys(res_texts(args.task)))

    # the limit: the same compressed weights, the same batches, only the forward pass
    from adapteval.suite.specs import ModelSpec

    enc = hf.HFEncoder(ModelSpec(source="all-MiniLM-L6-v2"), hf.resolve_model_dir(
        ModelSpec(source="all-MiniLM-L6-v2"), Path.cwd()))
    bare: dict[str, float] = {}
    bare_cpu: dict[str, float] = {}
    for lv in row.result["levels"]:
        if lv["label"] == "magnitude 0%":
            continue  # the cell itself: nothing re-encoded
        model = transform(enc.model, Level(lv["method"], lv["amount"]))
        cell_texts = texts[: lv.get("texts", len(texts))]
        batches = [b for _, b in enc.length_sorted_batches(cell_texts, enc.spec.batch_size)]
        bare_loop(model, batches[:2])  # warm-up
        w, c = time.perf_counter(), time.process_time()
        bare_loop(model, batches)
        bare[lv["label"]] = time.perf_counter() - w
        bare_cpu[lv["label"]] = time.process_time() - c

    total = row.duration_s
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, task {args.task}, "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"suite run {run_s:.1f} s; compression analysis {total:.1f} s "
          f"({len(row.result['levels'])} levels)")
    print()
    print(f"{'level':<16} {'texts':>6} {'encode s':>9} {'bare s':>8} {'enc/bare':>9} "
          f"{'transform s':>12} {'score':>6} {'retention':>9}")
    sums = defaultdict(float)
    for lv in row.result["levels"]:
        label = lv["label"]
        e, t = clock.wall[(label, "encode")], clock.wall[(label, "transform")]
        b = bare.get(label)
        sums["encode"] += e
        sums["transform"] += t
        sums["bare"] += b or 0.0
        sums["encode_cpu"] += clock.cpu[(label, "encode")]
        sums["bare_cpu"] += bare_cpu.get(label, 0.0)
        ratio = f"{e / b:>9.2f}" if b else f"{'—':>9}"
        print(f"{label:<16} {lv.get('texts', 0):>6} {e:>9.2f} {(b or 0):>8.2f} {ratio} "
              f"{t:>12.2f} {lv['accuracy']:>6.3f} {lv['retention']:>9.3f}")
    rest = total - sums["encode"] - sums["transform"]
    print()
    print(f"re-encoding        {sums['encode']:7.2f} s = {sums['encode'] / total:6.1%} of the analysis"
          f" (bare forward limit {sums['bare']:.2f} s = {sums['bare'] / total:.1%}; "
          f"encode / limit = {sums['encode'] / sums['bare']:.2f})")
    print(f"  by CPU time (steadier on a busy machine): encode {sums['encode_cpu']:.2f} s, "
          f"bare {sums['bare_cpu']:.2f} s, encode / limit = "
          f"{sums['encode_cpu'] / sums['bare_cpu']:.2f}")
    print(f"model transforms   {sums['transform']:7.2f} s = {sums['transform'] / total:6.1%}")
    print(f"rest (head refit, cache, metrics, bookkeeping) "
          f"{rest:7.2f} s = {rest / total:6.1%}")
    return 0


def res_texts(task: str) -> list[str]:
    """The cell's texts in the analysis's order: train then test, seed 0."""
    from adapteval.data.task import load_task
    from adapteval.suite.specs import TaskSpec

    t = load_task(TaskSpec(name=task, bundled=task), Path.cwd())
    split = t.split(0)
    return [x for v in (split.train, split.test) for x in v.items + (v.pairs or [])]


if __name__ == "__main__":
    sys.exit(main())
