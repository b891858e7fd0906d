"""What a learning curve costs next to one probe run: features are computed once.

Two fresh stores on the same task and model (all-MiniLM-L6-v2, frozen probe):

  - one probe run: the plain probe cell (encoding of train and test, then the head);
  - the curve: the probe at 8 sizes (1, 2, 4, 8, 16, 32, 64 per label and full) x 5 draws
    (36 cells: the full size is the plain cell), in its own fresh store and cache.

It prints each run's wall time, the curve's encoding time (seconds inside the encoder)
and the ratio of the curve's total to the single run's encoding time; the target is
<= 1.3x, since every point reads the features the one pass computed.

    HF_HUB_OFFLINE=1 nice -n 5 .venv/bin/python benchmarks/curves.py [--task sentiment-yelp]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SIZES = [1, 2, 4, 8, 16, 32, 64, "full"]
DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def task(name: str) -> dict | str:
    if name == "banking77":
        return {"name": "banking77", "label": "category",
                "files": {"train": str(DATA / "banking77" / "train.csv"),
                          "test": str(DATA / "banking77" / "test.csv")}}
    return name


def suite(out: Path, task_spec, curve: bool) -> dict:
    probe = {"name": "probe", **({"curve": {"sizes": SIZES, "draws": 5}} if curve else {})}
    return {"name": "bench-curves", "models": ["all-MiniLM-L6-v2"], "baselines": [],
            "tasks": [task_spec], "strategies": [probe], "bootstrap": {"n_resamples": 200},
            "output_dir": str(out)}


def timed_run(spec: dict) -> tuple[float, float, float, int]:
    """(wall seconds, seconds inside the encoder, seconds inside the cells (heads fitted,
    test predicted), cells) of one run in a fresh store."""
    import adapteval
    from adapteval.features import Embedder

    inside = [0.0]
    original = Embedder.__call__

    def counting(self, *args, **kwargs):
        t = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            inside[0] += time.perf_counter() - t

    Embedder.__call__ = counting
    try:
        t0 = time.perf_counter()
        res = adapteval.run(spec)
        wall = time.perf_counter() - t0
    finally:
        Embedder.__call__ = original
    rows = res.rows + res.curve_rows
    return wall, inside[0], sum(r.duration_s for r in rows), len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="sentiment-yelp",
                        help="a bundled task, or banking77 (../shared/data)")
    args = parser.parse_args(argv)
    os.environ.setdefault("ADAPTEVAL_CACHE", tempfile.mkdtemp(prefix="bench-curves-cache-"))
    with tempfile.TemporaryDirectory() as tmp:
        one_wall, one_enc, one_cells, _ = timed_run(
            suite(Path(tmp) / "one", task(args.task), False))
        curve_wall, curve_enc, curve_cells, cells = timed_run(
            suite(Path(tmp) / "curve", task(args.task), True))
    print(f"task {args.task}: all-MiniLM-L6-v2, probe")
    print(f"  one probe run      {one_wall:7.1f} s wall, {one_enc:6.1f} s encoding, "
          f"{one_cells:6.1f} s in its cell")
    print(f"  8 sizes x 5 draws  {curve_wall:7.1f} s wall, {curve_enc:6.1f} s encoding, "
          f"{curve_cells:6.1f} s in its {cells} cells")
    work = curve_enc + curve_cells
    print(f"  curve work (encoding + cells) / one run's encoding: {work / one_enc:.2f}x "
          "(target <= 1.3x)")
    print(f"  curve wall / one run's wall: {curve_wall / one_wall:.2f}x "
          "(both include loading the model and scoring)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
