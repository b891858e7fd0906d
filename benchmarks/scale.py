"""Wall time of one suite on one worker and on two, for local worker processes and for
Ray (a private cluster, and a running one), with each executor's parallel efficiency.

The suite has four model groups: MiniLM-L6 (PyTorch; probed, k-shot adapted and
fine-tuned), MiniLM-L3 (ONNX; probed and k-shot), the TF-IDF and majority baselines, on
the four bundled tasks: 36 cells per seed, two seeds by default (72 cells, about a minute
of work; ``--seeds 6`` triples the work, so what every worker pays once, its imports and
model loads, weighs less). Every configuration runs the real CLI
in a fresh process with a fresh store and embedding cache, so start-up (imports, Ray's
cluster, each worker's model loads) is part of its time, as it is for a user. Rows:

  local  1 process  x 1 thread    T1 for local (the driver runs every cell)
  local  2 workers  x 1 thread    --workers 2 (on 2 cores: 1 thread each)
  ray    1 CPU      x 1 thread    --executor ray --num-cpus 1: T1 for Ray
  ray    2 CPUs     x 1 thread    --executor ray --num-cpus 2
  ray    cluster 1 node           --address of a running one-node cluster (1 CPU): T1
  ray    cluster 2 nodes          --address of a running two-node cluster (1 CPU each)
  limit  2 runs side by side      two copies of the first row at once, each with its own
                                  store and cache: twice the work with no scheduling,
                                  no sharing and no waiting

The last two join a cluster started before the clock starts (on loopback, as
tests/execution/ray_nodes.py starts it), as a team with a standing cluster would: they
time the run, not the cluster's start-up, which the private-cluster rows include.

Every run starts from its own copy of one adapteval cache folder (``ADAPTEVAL_CACHE``)
warmed once, untimed, by a ``--dry-run`` of the suite: the weight fingerprints and the
drawn splits are known, as after any first run on a machine, and the cell scores kept
there are not. Without it a configuration's start would depend on what the runs before it
left in the user's cache (a joined cluster's driver, with its own HOME, would hash the
weights again while the others read them: about 3 s of serial start-up more).

efficiency = T1 / (2 x T2) for each executor, with T1 and T2 its own one- and two-worker
times (and, for Ray, against the local one-process time too). The last row is the
machine's own limit for two single-threaded workers: two runs of a whole suite side by
side finish in T_pair instead of T1 (two cores sharing caches and memory, the start-up
paid twice at once), so no executor can beat T1 / T_pair; each efficiency is also given
as a share of it. Every configuration runs one torch thread per worker, so the stored
predictions must equal the reference's byte for byte; the table says so.

    HF_HUB_OFFLINE=1 nice -n 5 .venv/bin/python benchmarks/scale.py [--repeats 1] \
        [--configs 0,4,5] [--seeds 2]
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
    ("limit: 2 runs side by side", 2, None, 0),  # None: two copies of the first row
]
LIMIT = len(CONFIGS) - 1
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


def warm_cache(suite: Path, root: Path) -> Path:
    """An adapteval cache folder holding what a dry run derives (weight fingerprints,
    drawn splits): the starting state every timed run gets a copy of."""
    cache = root / "cache-warm"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ADAPTEVAL_CACHE": str(cache)}
    proc = subprocess.run([sys.executable, "-m", "adapteval.cli", "run", str(suite),
                           "--dry-run", "-o", str(root / "dry-run")],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"the dry run failed: {proc.stderr[-2000:]}")
    return cache


def run_once(suite: Path, outs: list[Path], extra: list[str], warm: Path,
             base_env: dict[str, str] | None = None) -> float:
    """Seconds until the runs writing to ``outs`` (started together) have all finished."""
    procs = []
    t0 = time.perf_counter()
    for out in outs:
        cache = out.with_name(out.name + "-cache")
        shutil.copytree(warm, cache)
        env = {**(base_env or os.environ), "HF_HUB_OFFLINE": "1", "ADAPTEVAL_THREADS": "1",
               "ADAPTEVAL_CACHE": str(cache)}
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "adapteval.cli", "run", str(suite), "-q", "-o", str(out),
             *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env))
    errors = [p.communicate()[1] for p in procs]
    seconds = time.perf_counter() - t0
    for p, err in zip(procs, errors, strict=True):
        if p.returncode != 0:
            raise SystemExit(f"run failed ({' '.join(extra) or 'local'}): {err[-2000:]}")
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
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--repeats", type=int, default=1, help="runs per configuration")
    parser.add_argument("--seeds", type=int, default=2,
                        help="seeds of the suite (each adds its 36 cells; the features are "
                             "encoded once whatever the count)")
    parser.add_argument("--configs", default=",".join(map(str, range(len(CONFIGS)))),
                        help="which rows to run, by index (0 = the reference; default: all)")
    args = parser.parse_args()
    if args.seeds < 1 or args.repeats < 1:
        parser.error("--seeds and --repeats take a whole number of at least 1")
    try:
        chosen = [CONFIGS[i] for i in sorted({0, *map(int, args.configs.split(","))})]
    except (ValueError, IndexError):
        parser.error(f"--configs: {args.configs!r} is not a comma-separated list of row "
                     f"numbers 0 to {len(CONFIGS) - 1}")
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="adapteval-scale-") as tmp:
        root = Path(tmp)
        suite = root / "suite.yaml"
        suite.write_text(yaml.safe_dump({**SUITE, "seeds": list(range(args.seeds))},
                                        sort_keys=False))
        warm = warm_cache(suite, root)
        times: dict[str, list[float]] = {label: [] for label, *_ in chosen}
        stored: dict[str, dict[str, bytes]] = {}
        busy: dict[str, list[float]] = {label: [] for label, *_ in chosen}
        for r in range(args.repeats):  # configurations interleaved, so load drift hits all
            for i, (label, _, extra, nodes) in enumerate(chosen):
                outs = ([root / f"out-{r}-{i}"] if extra is not None else
                        [root / f"out-{r}-{i}-{c}" for c in "ab"])
                with running_cluster(nodes) as (join, env):
                    times[label].append(run_once(suite, outs, (extra or []) + join, warm, env))
                stored.setdefault(label, predictions(outs[0]))
                busy[label].append(sum(map(in_cells, outs)))
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
        limit = (median[ref_label] / median[CONFIGS[LIMIT][0]]
                 if CONFIGS[LIMIT][0] in median else None)
        print(f"{'efficiency T1 / (2 x T2)':30} {'T1 s':>8} {'T2 s':>8} {'efficiency':>11}"
              + (f" {'of limit':>8}" if limit else ""))
        for name, one, two in PAIRS:
            if CONFIGS[one][0] not in median or CONFIGS[two][0] not in median:
                continue
            t1, t2 = median[CONFIGS[one][0]], median[CONFIGS[two][0]]
            share = f"{t1 / (2 * t2) / limit:9.2f}" if limit else ""
            print(f"{name:30} {t1:8.1f} {t2:8.1f} {t1 / (2 * t2):11.2f}{share}")
        if limit:
            print(f"{'machine limit T1 / T_pair':30} {median[ref_label]:8.1f} "
                  f"{median[CONFIGS[LIMIT][0]]:8.1f} {limit:11.2f}   (two whole runs side "
                  "by side)")


if __name__ == "__main__":
    main()
