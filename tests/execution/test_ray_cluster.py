"""Ray on a real cluster of two nodes (one CPU each, on loopback): a run through
``--executor ray --address`` stores the very numbers of a one-process run with the same
thread count, its cells run on both nodes, a driver killed mid-run resumes on the same
cluster, and stopping the cluster leaves no process behind."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from tests.conftest import CLI, count_rows
from tests.execution import ray_nodes

import adapteval

SUITE = {
    "name": "two-nodes",
    "models": ["all-MiniLM-L6-v2"],
    "baselines": ["tfidf", "majority"],
    "tasks": [{"name": "amazon", "bundled": "sentiment-amazon", "max_train": 100, "max_test": 40},
              {"name": "spam", "bundled": "sms-spam", "max_train": 100, "max_test": 40}],
    "strategies": ["probe", {"name": "kshot", "samples_per_label": 4, "n_experiments": 2}],
    "seeds": [0],
    "bootstrap": {"n_resamples": 200},
}
N_CELLS = 3 * 2 * 2  # models (with baselines) x tasks x strategies


def _family(root: int) -> set[int]:
    """``root`` and every process descended from it (read from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo.extend(children.get(pid, []))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@contextlib.contextmanager
def two_nodes(wrap: list[str] = ()) -> Iterator[tuple[str, dict[str, str]]]:
    """A two-node cluster on loopback for the block (its address and the environment to
    join it with); on exit every process it started must be gone. Its files live in a
    short folder: Ray's unix socket paths must fit in 107 bytes."""
    folder = Path(tempfile.mkdtemp(prefix="ae-ray-"))
    env = ray_nodes.env(folder)
    log = (folder / "cluster.log").open("w")
    proc = subprocess.Popen([*wrap, sys.executable, "-m", "tests.execution.ray_nodes",
                             str(folder)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=log, text=True, env=env, cwd=ray_nodes.ROOT,
                            start_new_session=True)
    family: set[int] = set()
    try:
        address = proc.stdout.readline().strip()
        assert address.startswith("127.0.0.1:"), (folder / "cluster.log").read_text()[-2000:]
        yield address, env
    finally:
        family = _family(proc.pid)
        proc.stdin.close()
        try:
            proc.wait(90)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
        deadline = time.time() + 20
        while any(_alive(p) for p in family) and time.time() < deadline:
            time.sleep(0.5)
        left = [p for p in family if _alive(p)]
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if not left:
            shutil.rmtree(folder, ignore_errors=True)
    assert not left, f"processes left after the cluster stopped: {left}"


def _stored(out: Path) -> tuple[dict[str, bytes], set[str]]:
    """Predictions per cell key, and the Ray nodes the cells ran on."""
    with sqlite3.connect(out / "results.sqlite") as conn:
        rows = conn.execute("SELECT key, predictions, provenance FROM cells").fetchall()
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert len(rows) == len({k for k, _, _ in rows}), "a cell was stored twice"
    return {k: p for k, p, _ in rows}, {json.loads(v)["ray_node"] for _, _, v in rows}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, bytes]:
    """One process, one thread: the numbers every other run must store."""
    out = tmp_path_factory.mktemp("one-process")
    before = os.environ.get("ADAPTEVAL_THREADS")
    os.environ["ADAPTEVAL_THREADS"] = "1"
    try:
        adapteval.run(SUITE, output_dir=out)
    finally:
        if before is None:
            os.environ.pop("ADAPTEVAL_THREADS")
        else:
            os.environ["ADAPTEVAL_THREADS"] = before
    cells, nodes = _stored(out)
    assert len(cells) == N_CELLS and nodes == {None}
    return cells


@pytest.fixture(scope="module")
def cluster():
    with two_nodes() as joined:
        yield joined


def _run(suite: Path, out: Path, address: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([*CLI, "run", str(suite), "-q", "-o", str(out), "--executor", "ray",
                             "--address", address], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**env, "ADAPTEVAL_THREADS": "1"})


@pytest.mark.slow
def test_two_node_cluster_stores_the_numbers_of_one_process(tmp_path, reference, cluster):
    address, env = cluster
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(SUITE))
    proc = _run(tmp_path / "suite.yaml", tmp_path / "out", address, env)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    assert f"{N_CELLS} cells: {N_CELLS} run" in err
    cells, nodes = _stored(tmp_path / "out")
    assert cells.keys() == reference.keys()
    assert [k for k in cells if cells[k] != reference[k]] == []
    assert len(nodes) == 2 and None not in nodes, f"cells ran on {nodes}"


@pytest.mark.slow
def test_a_killed_driver_resumes_on_the_cluster(tmp_path, reference, cluster):
    address, env = cluster
    suite, out = tmp_path / "suite.yaml", tmp_path / "out"
    suite.write_text(yaml.safe_dump(SUITE))
    proc = _run(suite, out, address, env)
    deadline = time.time() + 300
    while count_rows(out / "results.sqlite", "SELECT COUNT(*) FROM cells") < 3:
        assert proc.poll() is None, f"run ended early: {proc.stderr.read()[-1000:]}"
        assert time.time() < deadline, "no cell stored"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    kept = count_rows(out / "results.sqlite", "SELECT COUNT(*) FROM cells")
    assert 3 <= kept < N_CELLS, "the kill landed after the run finished"

    again = _run(suite, out, address, env)
    _, err = again.communicate(timeout=600)
    assert again.returncode == 0, err[-3000:]
    assert f"{N_CELLS} cells: {N_CELLS - kept} run, {kept} already in the store" in err
    cells, _ = _stored(out)
    assert [k for k in reference if reference[k] != cells.get(k)] == []
    assert count_rows(out / "results.sqlite", "SELECT COUNT(*) FROM claims") == 0
