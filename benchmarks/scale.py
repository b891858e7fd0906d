"""Wall time of one suite on one worker and on two, for local worker processes and for a
private Ray cluster, with each executor's parallel efficiency.

The suite has four model groups: MiniLM-L6 (PyTorch; probed, k-shot adapted and
fine-tuned), MiniLM-L3 (ONNX; probed and k-shot), the TF-IDF and majority baselines, on
the four bundled tasks over two seeds (72 cells). Every configuration runs the real CLI
in a fresh process with a fresh store and embedding cache, so start-up (imports, Ray's
cluster, each worker's model loads) is part of its time, as it is for a user. Rows:

  local  1 process  x 1 thread    T1 for local (the driver runs every cell)
  local  2 workers  x 1 thread    --workers 2 (on 2 cores: 1 thread each)
  ray    1 CPU      x 1 thread    --executor ray --num-cpus 1: T1 for Ray
  ray    2 CPUs     x 1 thread    --executor ray --num-cpus 2
  ray    cluster 1 node           --address of a running one-node cluster (1 CPU): T1
  ray    cluster 2 nodes          --address of a running two-node cluster (1 CPU each)

The last two join a cluster started before the clock starts (on loopback, as
tests/execution/ray_nodes.py starts it), as a team with a standing cluster would: they
time the run, not the cluster's start-up, which the private-cluster rows include.
efficiency = T1 / (2 x T2) for each executor, with T1 and T2 its own one- and two-worker
times (and, for Ray, against the local one-process time too). Every configuration runs
one torch thread per worker, so the stored predictions must equal the reference's byte
for byte; the table says so.

    HF_HUB_OFFLINE=1 nice -n 5 .venv/bin/python benchmarks/scale.py [--repeats 1] [--configs 0,4,5]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import yaml

SUITE = {
    "name": "scale-bench",
    "models": ["all-MiniLM-L6-v2",
               {"source": "paraphrase-MiniLM-L3-v2-onnx", "tokenizer": "all-MiniLM-L6-v2"}],
    "baselines": ["tfidf", "majority"],
    "tasks": ["sentiment-amazon", "sentiment-yelp", "sentiment-imdb", "sms-spam"],
    "strategies": ["probe", {"name": "kshot", "samples_per_label": 8, "n_experiments": 5},
                   {"name": "finetune", "max_steps": 12, "batch_size": 8,
                    "models": ["all-MiniLM-L6-v2"]}],
    "seeds": [0, 1],
    "bootstrap": {"n_resamples": 200},
}

CONFIGS = [  # label, workers, extra CLI arguments, nodes of a cluster started beforehand
    ("local 1 process x 1 thread", 1, [], 0),
    ("local 2 workers x 1 thread", 2, ["--workers", "2"], 0),
    ("ray 1 CPU x 1 thread", 1, ["--executor", "ray", "--num-cpus", "1"], 0),
    ("ray 2 CPUs x 1 thread", 2, ["--executor", "ray", "--num-cpus", "2"], 0),
    ("ray cluster 1 node x 1 CPU", 1, ["--executor", "ray"], 1),
    ("ray cluster 2 nodes x 1 CPU", 2, ["--executor", "ray"], 2),
]
PAIRS = [("local", 0, 1), ("ray", 2, 3), ("ray against local 1 process", 0, 3),
         ("ray, running cluster", 4, 5)]
ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def running_cluster(nodes: int) -> Iterator[tuple[list[str], dict[str, str]]]:
    """A Ray cluster of ``nodes`` one-CPU nodes on loopback for the block: the CLI
    arguments and environment that join it. Nothing if ``nodes`` is 0."""
    if not nodes:
        yield [], dict(os.environ)
        return
    sys.path.insert(0, str(ROOT))
    from tests.execution import ray_nodes

    folder = Path(tempfile.mkdtemp(prefix="ae-ray-"))  # short: Ray's socket paths
    env = ray_nodes.env(folder)
    proc = subprocess.Popen([sys.executable, "-m", "tests.execution.ray_nodes", str(folder),
                             "--nodes", str(nodes)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env, cwd=ROOT, start_new_session=True)
    try:
        address = proc.stdout.readline().strip()
        if not address.startswith("127.0.0.1:"):
            raise SystemExit(f"the {nodes}-node cluster did not start")
        yield ["--address", address], env
    finally:
        proc.stdin.close()
        try:
            proc.wait(90)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(folder, ignore_errors=True)


def run_once(suite: Path, out: Path, extra: list[str],
             base_env: dict[str, str] | None = None) -> float:
    env = {**(base_env or os.environ), "HF_HUB_OFFLINE": "1", "ADAPTEVAL_THREADS": "1"}
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


def in_cells(out: Path) -> float:
    """Seconds spent inside cells (fits, predictions, fine-tuning; a model's one-pass
    encode is not part of a cell), summed over the run's workers."""
    with sqlite3.connect(out / "results.sqlite") as conn:
        return float(conn.execute("SELECT SUM(duration_s) FROM cells").fetchone()[0])


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
    parser.add_argument("--configs", default=",".join(map(str, range(len(CONFIGS)))),
                        help="which rows to run, by index (0 = the reference; default: all)")
    args = parser.parse_args()
    chosen = [CONFIGS[i] for i in sorted({0, *map(int, args.configs.split(","))})]
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="adapteval-scale-") as tmp:
        root = Path(tmp)
        suite = root / "suite.yaml"
        suite.write_text(yaml.safe_dump(SUITE, sort_keys=False))
        times: dict[str, list[float]] = {label: [] for label, *_ in chosen}
        stored: dict[str, dict[str, bytes]] = {}
        busy: dict[str, list[float]] = {label: [] for label, *_ in chosen}
        for r in range(args.repeats):  # configurations interleaved, so load drift hits all
            for i, (label, _, extra, nodes) in enumerate(chosen):
                out = root / f"out-{r}-{i}"
                with running_cluster(nodes) as (join, env):
                    times[label].append(run_once(suite, out, extra + join, env))
                stored.setdefault(label, predictions(out))
                busy[label].append(in_cells(out))
                print(f"  {label}: {times[label][-1]:.1f} s", file=sys.stderr, flush=True)
        ref_label = CONFIGS[0][0]
        median = {label: statistics.median(t) for label, t in times.items()}
        print(f"suite: {len(stored[ref_label])} cells, 4 model groups; median of "
              f"{args.repeats} run(s); machine: {os.cpu_count()} cores, load average "
              f"{load[0]:.2f} at start, {os.getloadavg()[0]:.2f} at the end")
        print(f"{'configuration':30} {'wall s':>8} {'in cells s':>11} {'busy':>5}  "
              "stored predictions vs the reference")
        for label, workers, *_ in chosen:
            cells_s = statistics.median(busy[label])
            print(f"{label:30} {median[label]:8.1f} {cells_s:11.1f} "
                  f"{cells_s / (workers * median[label]):5.2f}  "
                  f"{agreement(stored[label], stored[ref_label])}")
        print("(in cells: time inside cells summed over workers; busy = in cells / (workers x "
              "wall): the rest is start-up, imports, model loads, encodes and waiting)")
        print(f"{'efficiency T1 / (2 x T2)':30} {'T1 s':>8} {'T2 s':>8} {'efficiency':>11}")
        for name, one, two in PAIRS:
            if CONFIGS[one][0] not in median or CONFIGS[two][0] not in median:
                continue
            t1, t2 = median[CONFIGS[one][0]], median[CONFIGS[two][0]]
            print(f"{name:30} {t1:8.1f} {t2:8.1f} {t1 / (2 * t2):11.2f}")


if __name__ == "__main__":
    main()
