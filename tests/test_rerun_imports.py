"""Reading the store does not load the models: a rerun that finds every cell stored, and
`adapteval results` and `adapteval report`, import none of torch, transformers,
onnxruntime or peft (seconds of imports each), whatever kinds of model the suite has
(text encoders, ONNX, a GGUF causal LM, EfficientNet-Lite, the text and image baselines);
a rerun and `results` of the suite not scikit-learn, scipy's statistics or matplotlib
either (the tasks' splits and the cells' scores are read back from the cache folder),
and `adapteval results STORE` not even scipy (the metrics' point values and replicates
are numpy formulas, checked against scikit-learn elsewhere)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

import adapteval

pytestmark = pytest.mark.slow

HEAVY = ("torch", "transformers", "onnxruntime", "peft")
COMPUTE = ("sklearn", "scipy", "scipy.stats", "matplotlib")  # fitting and plotting, not reading

# The CLI app run in this fresh interpreter, then the heavy libraries it left loaded.
IN_PROCESS = f"""
import json, sys
from adapteval.cli import app
code = 0
try:
    app(args=sys.argv[1:], prog_name="adapteval")
except SystemExit as exc:
    code = exc.code or 0
loaded = [m for m in {HEAVY + COMPUTE!r} if m in sys.modules]
print("HEAVY " + json.dumps({{"code": code, "loaded": loaded}}), file=sys.stderr)
"""


def suite(out) -> dict:
    """Each model kind (hf, onnx, a causal LM from GGUF, EfficientNet-Lite, the text and
    image baselines) on a small text task and a small image task, with a shortlist
    ranked first and analyses stored on the cells."""
    return {
        "name": "rerun-imports",
        "models": ["all-MiniLM-L6-v2",
                   {"source": "paraphrase-MiniLM-L3-v2-onnx", "name": "L3-onnx",
                    "tokenizer": "all-MiniLM-L6-v2"},
                   {"source": "SmolLM2-135M-Instruct", "name": "SmolLM2", "tasks": ["yelp"]},
                   "efficientnet-lite0"],
        "baselines": ["majority", "tfidf", "pixels"],
        "tasks": [{"name": "yelp", "bundled": "sentiment-yelp", "max_train": 40, "max_test": 20},
                  {"name": "fmnist", "bundled": "fashion-mnist", "max_train": 30,
                   "max_test": 20}],
        "strategies": [{"name": "zeroshot", "models": ["SmolLM2"], "chat": "false"}, "probe",
                       {"name": "kshot", "samples_per_label": 2, "n_experiments": 1}],
        "seeds": [0],
        "metrics": ["accuracy", "log_loss"],
        "shortlist": 1,
        "analyses": [{"name": "calibration"},
                     {"name": "robustness", "strategies": ["probe"], "max_items": 10,
                      "perturbations": ["typos"], "tasks": ["yelp"]}],
        "criteria": ["accuracy >= 0.5 on every task"],
        "bootstrap": {"n_resamples": 100},
        "output_dir": str(out),
    }


def cli(*args: str, cwd) -> tuple[subprocess.CompletedProcess, dict]:
    proc = subprocess.run([sys.executable, "-c", IN_PROCESS, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)
    lines = [x for x in proc.stderr.splitlines() if x.startswith("HEAVY ")]
    assert lines, proc.stderr[-2000:]
    return proc, json.loads(lines[-1].removeprefix("HEAVY "))


@pytest.fixture(scope="module")
def finished(tmp_path_factory, one_torch_thread):
    """A suite file whose every cell, analysis and rank score is in its store."""
    folder = tmp_path_factory.mktemp("rerun")
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(suite(folder / "store")))
    results = adapteval.run(path)
    assert {r.model for r in results.rows} >= {"SmolLM2", "tfidf", "majority",
                                               "efficientnet-lite0", "pixels"}
    return path, len(results.rows)


def test_a_rerun_that_finds_everything_stored_loads_no_model(finished):
    path, n = finished
    proc, seen = cli("run", str(path), cwd=path.parent)
    assert seen["code"] == 0, proc.stderr[-2000:]
    assert f"{n} cells: 0 run, {n} already in the store" in proc.stderr
    # nor scikit-learn to draw the tasks' splits again, nor scipy's statistics (the
    # criteria's t quantiles come from scipy.special)
    assert [m for m in seen["loaded"] if m != "scipy"] == []


def test_results_loads_no_model(finished):
    path, _ = finished
    proc, seen = cli("results", str(path), cwd=path.parent)
    assert seen["code"] == 0, proc.stderr[-2000:]
    assert "L3-onnx" in proc.stdout
    # the suite's plan reads the tasks' splits as drawn before (no scikit-learn)
    assert [m for m in seen["loaded"] if m != "scipy"] == []


def test_results_of_a_store_folder_load_no_fitting_library(finished):
    path, _ = finished
    proc, seen = cli("results", str(path.parent / "store"), cwd=path.parent)
    assert seen["code"] == 0, proc.stderr[-2000:]
    assert "L3-onnx" in proc.stdout and "SmolLM2" in proc.stdout
    assert seen["loaded"] == []


@pytest.mark.parametrize("fmt", ["html", "md", "json"])
def test_report_loads_no_model(finished, fmt):
    path, _ = finished
    out = path.parent / f"report.{fmt}"
    proc, seen = cli("report", str(path), "-f", fmt, "-o", str(out), cwd=path.parent)
    assert seen["code"] == 0, proc.stderr[-2000:]
    assert out.stat().st_size > 0
    assert [m for m in seen["loaded"] if m in HEAVY] == []
