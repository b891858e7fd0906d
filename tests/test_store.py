"""The SQLite store: one row per cell, safe under concurrent writers."""

from __future__ import annotations

import multiprocessing as mp
import re
import socket
import sqlite3
import subprocess

import pytest
import yaml
from tests.conftest import CLI

import adapteval
from adapteval.core.errors import StoreError
from adapteval.store import CellRow, Owner, ResultStore


def _row(key: str) -> CellRow:
    return CellRow(key, "s", "m", "t", "probe", 0, "fp", "tfp", {"name": "probe"}, "binary",
                   ["a", "b"], "0", 0.0, 0.1, {"n_test": 1}, b"\x00" * 64)


def _writer(path: str, start: int, stop: int) -> None:
    store = ResultStore(path)
    for i in range(start, stop):
        store.put(_row(f"k{i}"))
    store.close()


def _opener(base: str, rounds: int, barrier, errors) -> None:
    from adapteval.features import EmbeddingCache
    for r in range(rounds):
        barrier.wait(60)
        try:
            ResultStore(f"{base}/{r}").close()
            EmbeddingCache(f"{base}/{r}").close()
        except Exception as exc:  # reported to the test, which names it
            errors.put(f"round {r}: {exc}")


@pytest.mark.slow
def test_processes_opening_a_new_store_at_the_same_moment_all_succeed(tmp_path):
    """Workers of one run open the same new files at once. Switching a new file to WAL
    (and its first tables) used to fail at once with "database is locked" in a few
    rounds in a hundred: SQLite skips its busy wait where waiting could deadlock."""
    ctx = mp.get_context("spawn")
    n, rounds = 4, 60
    barrier, errors = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_opener, args=(str(tmp_path), rounds, barrier, errors))
             for _ in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(180)
        assert p.exitcode == 0
    failed = []
    while not errors.empty():
        failed.append(errors.get())
    assert failed == []
    for r in range(rounds):
        store = ResultStore(tmp_path / str(r))
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        store.close()


def test_a_store_another_process_keeps_locked_says_so_not_damaged(tmp_path, monkeypatch):
    ResultStore(tmp_path).close()
    holder = sqlite3.connect(tmp_path / "results.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another run in the middle of a long write
    monkeypatch.setattr("adapteval.core.sqlite.TIMEOUT_S", 0.3)
    with pytest.raises(StoreError) as err:
        ResultStore(tmp_path)
    holder.execute("ROLLBACK")
    assert "stayed locked by another process" in str(err.value)
    assert "another output_dir" in str(err.value) and "damaged" not in str(err.value)


@pytest.mark.slow
def test_two_processes_writing_overlapping_cells_lose_and_duplicate_nothing(tmp_path):
    path = str(tmp_path / "results.sqlite")
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, 0, 300)),
             ctx.Process(target=_writer, args=(path, 150, 450))]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM cells").fetchone() == (450, 450)


def test_put_of_a_finished_cell_is_ignored(tmp_path):
    store = ResultStore(tmp_path)
    assert store.put(_row("a")) is True
    assert store.put(_row("a")) is False
    assert store.count() == 1


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    (tmp_path / "results.sqlite").write_text("hello")
    with pytest.raises(StoreError, match="not an adapteval store"):
        ResultStore(tmp_path)


@pytest.mark.slow
def test_two_concurrent_runs_of_one_suite_share_the_store(tmp_path):
    suite = {"models": ["tfidf"], "baselines": ["majority"],
             "tasks": ["sentiment-amazon", "sentiment-yelp", "sms-spam"],
             "strategies": ["probe", {"name": "kshot", "samples_per_label": 4, "n_experiments": 2}],
             "seeds": [0, 1, 2], "bootstrap": {"n_resamples": 200}}
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite))
    procs = [subprocess.Popen([*CLI, "run", str(tmp_path / "suite.yaml"), "-q"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(2)]
    computed = 0
    for p in procs:
        assert p.wait(300) == 0, p.stderr.read().decode()
        summary = re.search(r"(\d+) cells: (\d+) run", p.stderr.read().decode())
        computed += int(summary.group(2))
    expected = 2 * 3 * 2 * 3
    conn = sqlite3.connect(tmp_path / "adapteval-results" / "results.sqlite")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM cells").fetchone() == (expected, expected)
    assert computed == expected, "the two runs computed some cell twice"
    assert conn.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0
    assert len(adapteval.results(tmp_path / "suite.yaml")) == expected


def test_claims_keep_live_runs_apart_and_expire_for_dead_ones(tmp_path):
    store = ResultStore(tmp_path)
    me = Owner.me()
    host = socket.gethostname()
    with subprocess.Popen(["sleep", "60"]) as alive:
        other = Owner("other-run", host, alive.pid)
        assert store.claim(["a", "b"], me) == {"a", "b"}
        assert store.claim(["a", "b", "c"], other) == {"c"}  # a and b are held by a live run
        assert store.claim(["c"], me) == set()
        assert store.claim(["a"], me) == {"a"}  # its own claim is still its own
        alive.kill()
    # the other run is dead (same host, pid gone): its claim is taken over at once
    assert store.claim(["c"], me) == {"c"}
    remote = Owner("remote-run", "another-host", 1)
    assert store.claim(["d"], remote, lease_s=-1) == {"d"}  # already expired
    assert store.claim(["e"], remote) == {"e"}
    assert store.claim(["d", "e"], me) == {"d"}  # a live lease elsewhere is respected
    store.put(_row("f"))
    assert store.claim(["f"], other) == set()  # a stored cell is never claimed
    store.release(me)
    assert store.claim(["a", "b", "c"], remote) == {"a", "b", "c"}


def test_a_cells_provenance_round_trips_and_old_rows_read_none(tmp_path):
    import dataclasses

    store = ResultStore(tmp_path)
    store.put(dataclasses.replace(_row("a"), provenance={"libraries": {"torch": "2.0"}}))
    store.put(_row("b"))  # a row without provenance, as old runs wrote
    got = {r.key: r.provenance for r in store.rows()}
    assert got == {"a": {"libraries": {"torch": "2.0"}}, "b": None}
