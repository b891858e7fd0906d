"""A real third-party distribution, installed with pip, adds a model kind, a strategy
and an analysis through entry points; the CLI lists them, runs a suite with all three,
judges a criterion on the analysis' number, and the plugins pass the conformance checks."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest
import yaml

pytestmark = pytest.mark.slow

PLUGIN = '''
"""A third-party adapteval plugin: a hashing featurizer, a nearest-centroid strategy,
the share of test items predicted as the training majority class, and a report section
counting stored cells per model."""

import hashlib

import numpy as np
from pydantic import Field

from adapteval.contracts.analysis import Analysis
from adapteval.contracts.report_section import ReportSection
from adapteval.contracts.section import Cell, Column, Row, Section, SectionTable
from adapteval.contracts.strategy import Fitted, Predictions, Predictor, Strategy
from adapteval.core.plugin import Number, Params
from adapteval.models.kinds import ModelKind

DIM = 64


def hashed(texts):
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for i, text in enumerate(texts):
        for token in text.lower().split():
            h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest(), "big")
            out[i, h % DIM] += 1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-9)


class HashingEncoder:
    """Bag of hashed words, L2-normalised: needs no weights."""

    kind = "hashing"
    pretrained = True
    dim = DIM

    def encode(self, texts, *, batch_size=None, progress=None):
        out = hashed(list(texts))
        if progress is not None:
            progress(len(texts))
        return out


class Hashing(ModelKind):
    name = "hashing"
    description = "bag of hashed words (64 buckets), no weights"
    modalities = frozenset({"text"})

    def resolve(self, spec, base_dir, *, where):
        return self.ref(spec, None, "hashing-64-v1")

    def load(self, ref):
        return HashingEncoder()


HASHING = Hashing()


class CentroidParams(Params):
    temperature: float = Field(default=0.1, gt=0, description="softmax temperature")


class CentroidPredictor(Predictor):
    def __init__(self, task, embed, centroids, temperature):
        super().__init__(task)
        self.embed, self.centroids, self.temperature = embed, centroids, temperature

    def scores(self, texts, pairs=None):
        return centroid_proba(self.embed(list(texts)), self.centroids, self.temperature)


def centroid_proba(x, centroids, temperature):
    d = ((x[:, None, :] - centroids[None]) ** 2).sum(-1)
    z = -d / temperature
    z -= z.max(1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(1, keepdims=True)


class NearestCentroid(Strategy):
    name = "nearest-centroid"
    description = "frozen features, each test item takes the class of the nearest class mean"
    Params = CentroidParams
    modalities = frozenset({"text"})
    task_types = frozenset({"binary", "multiclass"})

    def supports(self, model_kind):
        return model_kind.pretrained

    def fit(self, ctx):
        train, test = ctx.split.train, ctx.split.test
        x = ctx.embed(train.items)
        k = len(ctx.task.classes)
        centroids = np.stack([x[train.y == c].mean(0) if (train.y == c).any()
                              else np.zeros(x.shape[1]) for c in range(k)])
        proba = centroid_proba(ctx.embed(test.items), centroids, self.params.temperature)
        preds = Predictions(test.y, proba.argmax(1)[None], proba[None], test.rows,
                            {"n_train": len(train), "n_test": len(test)})
        predictor = CentroidPredictor(ctx.task, ctx.embed, centroids, self.params.temperature)
        return Fitted(predictor, preds)


class MajorityShare(Analysis):
    name = "majority-share"
    description = "share of test items predicted as the training majority class"
    needs_predictor = False
    task_types = frozenset({"binary", "multiclass"})
    offers = {"majority_share": Number(0.0, 1.0, higher_is_better=None)}

    def run(self, ctx):
        majority = int(np.bincount(ctx.split.train.y.astype(int)).argmax())
        return {"majority_share": float((ctx.predictions.y_pred[0] == majority).mean())}


class CellsPerModel(ReportSection):
    name = "cells-per-model"
    description = "how many cells each model has in the store"
    order = 80

    def build(self, results, data, *, strict=False):
        counts = results.to_pandas().drop_duplicates("key").groupby("model").size()
        table = SectionTable([Column("model"), Column("stored cells", align="right")],
                             [Row((Cell(m), Cell(int(n), kind="count"))) for m, n in counts.items()],
                             caption="Stored cells per model")
        return Section("cells-per-model", title="Stored cells per model", tables=[table],
                       part="other")
'''

PYPROJECT = '''
[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "adapteval-plugin-demo"
version = "0.1.0"
dependencies = ["adapteval"]

[project.entry-points."adapteval.strategies"]
nearest-centroid = "adapteval_plugin_demo:NearestCentroid"

[project.entry-points."adapteval.analyses"]
majority-share = "adapteval_plugin_demo:MajorityShare"

[project.entry-points."adapteval.model_kinds"]
hashing = "adapteval_plugin_demo:HASHING"

[project.entry-points."adapteval.sections"]
cells-per-model = "adapteval_plugin_demo:CellsPerModel"

[tool.setuptools]
py-modules = ["adapteval_plugin_demo"]
'''

CONFORMANCE = textwrap.dedent('''
    from adapteval.suite.specs import ModelSpec
    from adapteval.testing import check_plugin, plugin_checks

    ours = {("strategy", "nearest-centroid"), ("analysis", "majority-share"),
            ("model_kind", "hashing"), ("section", "cells-per-model")}
    found = [(k, n, p) for k, n, p in plugin_checks() if (k, n) in ours]
    assert {(k, n) for k, n, _ in found} == ours, found
    for kind, name, plugin in found:
        spec = ModelSpec(source="hashing", kind="hashing") if kind == "model_kind" else None
        check_plugin(plugin, kind, key=name, model_spec=spec)
    print("conformant:", len(found))
''')


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, str]:
    """The plugin distribution built and pip-installed into its own target folder; the
    environment a subprocess needs to see it."""
    root = tmp_path_factory.mktemp("third-party")
    src, target = root / "adapteval-plugin-demo", root / "site"
    src.mkdir()
    (src / "pyproject.toml").write_text(PYPROJECT)
    (src / "adapteval_plugin_demo.py").write_text(PLUGIN)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--no-build-isolation", "--no-index", "--target", str(target), str(src)],
        capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert list(target.glob("adapteval_plugin_demo-*.dist-info/entry_points.txt"))
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(target), env.get("PYTHONPATH")]))
    return env


def cli(env, *args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "adapteval.cli", *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=cwd)


def test_cli_lists_the_plugins(installed):
    strategies = cli(installed, "list", "strategies")
    assert strategies.returncode == 0, strategies.stderr
    assert "nearest-centroid" in strategies.stdout and "temperature" in strategies.stdout
    analyses = cli(installed, "list", "analyses")
    assert analyses.returncode == 0, analyses.stderr
    assert "majority-share" in analyses.stdout and "majority_share" in analyses.stdout
    sections = cli(installed, "list", "sections")
    assert sections.returncode == 0, sections.stderr
    assert "cells-per-model" in sections.stdout


def test_the_plugin_model_kind_is_listed(installed):
    out = cli(installed, "list", "model-kinds")
    assert out.returncode == 0, out.stderr
    assert "hashing" in out.stdout


def test_a_suite_runs_and_is_judged_with_the_plugins(installed, tmp_path):
    suite = {
        "name": "plugin", "models": [{"source": "hashing", "kind": "hashing"}],
        "baselines": [], "seeds": [0], "output_dir": "out",
        "tasks": [{"name": "spam", "bundled": "sms-spam", "max_train": 200, "max_test": 100}],
        "strategies": [{"name": "nearest-centroid", "temperature": 0.05}],
        "metrics": ["accuracy"], "bootstrap": {"n_resamples": 100},
        "analyses": ["majority-share"], "criteria": ["majority_share <= 0.99"],
    }
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite))
    run = cli(installed, "run", "suite.yaml", "--quiet", cwd=tmp_path)
    assert run.returncode == 0, run.stderr

    with sqlite3.connect(tmp_path / "out" / "results.sqlite") as db:
        cells = db.execute("SELECT model, strategy, strategy_config FROM cells").fetchall()
        rows = db.execute("SELECT name, model, result FROM analyses").fetchall()
    assert [(m, s) for m, s, _ in cells] == [("hashing", "nearest-centroid")]
    assert json.loads(cells[0][2]) == {"name": "nearest-centroid", "temperature": 0.05}
    ((name, model, result),) = rows
    share = json.loads(result)["majority_share"]
    assert (name, model) == ("majority-share", "hashing") and 0.0 <= share <= 1.0

    check = cli(installed, "check", "suite.yaml", "--format", "json", "--quiet", cwd=tmp_path)
    assert check.returncode in (0, 3), check.stderr
    verdict = json.loads(check.stdout)
    ((candidate,),) = [verdict["candidates"]]
    (rule,) = candidate["checks"]
    assert rule["metric"] == "majority_share" and rule["value"] == pytest.approx(share)
    assert rule["passed"] is (share <= 0.99)
    assert verdict["acceptable"] is rule["passed"]

    shown = cli(installed, "results", "out", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "Stored cells per model" in shown.stdout  # the plugin's report section
    report = cli(installed, "report", "out", "-f", "md", "-o", "report.md", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert "Stored cells per model" in (tmp_path / "report.md").read_text()


def test_the_plugins_pass_the_conformance_checks(installed):
    proc = subprocess.run([sys.executable, "-c", CONFORMANCE], capture_output=True, text=True,
                          env=installed)
    assert proc.returncode == 0, proc.stderr
    assert "conformant: 4" in proc.stdout
