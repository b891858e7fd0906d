"""Wall time of one suite on the local executor (1 process, then 2 worker processes)
and on a private Ray cluster with 2 CPUs, with speed-up and efficiency.

The suite has several model groups (the unit an executor hands out): MiniLM-L6
(PyTorch), MiniLM-L3 (ONNX) and the TF-IDF baseline, each probed and k-shot adapted on
two bundled tasks over two seeds. Every configuration runs the real CLI in a fresh
process with a fresh store and embedding cache, so start-up (imports, Ray's cluster)
is part of its time, as it is for a user. Rows:

  local  1 process  x 1 thread    the reference for speed-up
  local  1 process  x 2 threads   torch's own threads instead of processes
  local  2 workers  x 1 thread    --workers 2
  ray    2 CPUs     x 1 thread    --executor ray --num-cpus 2

speed-up = reference time / time; efficiency = speed-up / CPUs used. The stored
predictions of every configuration are compared with the reference's: byte for byte,
else class by class with the largest probability difference (2 torch threads may round
differently from 1 in the last bits).

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/scale.py [--repeats 1]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

SUITE = {
    "name": "scale-bench",
    "models": ["all-MiniLM-L6-v2",
               {"source": "paraphrase-MiniLM-L3-v2-onnx", "tokenizer": "all-MiniLM-L6-v2"}],
    "baselines": ["tfidf"],
    "tasks": ["sentiment-amazon", "sentiment-yelp"],
    "strategies": ["probe", {"name": "kshot", "samples_per_label": 8, "n_experiments": 5}],
    "seeds": [0, 1],
    "bootstrap": {"n_resamples": 200},
}

CONFIGS = [  # label, CPUs used, torch threads, extra CLI arguments
    ("local 1 process x 1 thread", 1, 1, []),
    ("local 1 process x 2 threads", 2, 2, []),
    ("local 2 workers x 1 thread", 2, None, ["--workers", "2"]),
    ("ray 2 CPUs x 1 thread", 2, None, ["--executor", "ray", "--num-cpus", "2"]),
]


def run_once(suite: Path, out: Path, threads: int | None, extra: list[str]) -> float:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if threads is not None:
        env["ADAPTEVAL_THREADS"] = str(threads)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "adapteval.cli", "run", str(suite), "-q",
                           "-o", str(out), *extra], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"run failed ({' '.join(extra) or 'local'}): {proc.stderr[-2000:]}")
    return seconds


def predictions(out: Path) -> dict[str, bytes]:
    with sqlite3.connect(out / "results.sqlite") as conn:
        return dict(conn.execute("SELECT key, predictions FROM cells"))


def agreement(got: dict[str, bytes], ref: dict[str, bytes]) -> str:
    """'byte-identical', else whether the predicted classes agree and how far the stored
    probabilities move."""
    import numpy as np

    from adapteval.contracts.strategy import Predictions

    if got == ref:
        return "byte-identical"
    if got.keys() != ref.keys():
        return "DIFFERENT CELLS"
    classes_differ, delta = 0, 0.0
    for key in ref:
        a, b = Predictions.from_bytes(got[key]), Predictions.from_bytes(ref[key])
        classes_differ += int(np.sum(a.y_pred != b.y_pred))
        if a.proba is not None and b.proba is not None:
            delta = max(delta, float(np.max(np.abs(a.proba - b.proba))))
    return (f"same classes, max |Δp| = {delta:.1e}" if classes_differ == 0
            else f"{classes_differ} PREDICTIONS DIFFER (max |Δp| = {delta:.1e})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs per configuration")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="adapteval-scale-") as tmp:
        root = Path(tmp)
        suite = root / "suite.yaml"
        suite.write_text(yaml.safe_dump(SUITE, sort_keys=False))
        times: dict[str, list[float]] = {label: [] for label, *_ in CONFIGS}
        stored: dict[str, dict[str, bytes]] = {}
        for r in range(args.repeats):  # configurations interleaved, so load drift hits all
            for i, (label, _, threads, extra) in enumerate(CONFIGS):
                out = root / f"out-{r}-{i}"
                times[label].append(run_once(suite, out, threads, extra))
                stored.setdefault(label, predictions(out))
                print(f"  {label}: {times[label][-1]:.1f} s", file=sys.stderr, flush=True)
        ref_label = CONFIGS[0][0]
        ref = statistics.median(times[ref_label])
        n_cells = len(stored[ref_label])
        print(f"suite: {n_cells} cells, 3 model groups; median of {args.repeats} run(s); "
              f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
        print(f"{'configuration':32} {'wall s':>8} {'speed-up':>9} {'efficiency':>11}  "
              "stored predictions vs the reference")
        for label, cpus, _, _ in CONFIGS:
            t = statistics.median(times[label])
            print(f"{label:32} {t:8.1f} {ref / t:9.2f} {ref / t / cpus:11.2f}  "
                  f"{agreement(stored[label], stored[ref_label])}")
        print("(a different torch thread count rounds some matrix products differently in the "
              "last bits; the classes agree and probabilities move by the |Δp| shown)")


if __name__ == "__main__":
    main()
