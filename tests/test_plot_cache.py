"""Report figures are kept on disk by what they draw: the same figure again is read back
(without importing matplotlib), any change to its data is drawn anew, and a kept file
that is not a drawing is never put in a report."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from adapteval.contracts.section import PlotSpec
from adapteval.report import plot_cache
from adapteval.report.html import drawn


def bars(value: float) -> PlotSpec:
    board = [{"model": "m", "strategy": "probe", "task": t, "metric": "accuracy",
              "value": v, "ci_low": v - 0.05, "ci_high": v + 0.05}
             for t, v in (("yelp", value), ("imdb", 0.7))]
    return PlotSpec("task-bars", "Per-task scores", board)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ADAPTEVAL_CACHE", str(tmp_path))
    return tmp_path / "plots.sqlite"


def kept(cache: Path) -> int:
    with closing(sqlite3.connect(cache)) as db:
        return db.execute("SELECT COUNT(*) FROM kept").fetchone()[0]


def test_a_figure_drawn_once_is_read_back_and_a_changed_one_drawn_again(cache):
    (first,) = drawn([bars(0.81)])
    assert first[1].startswith("<svg") and "yelp" in first[1]
    assert kept(cache) == 1
    (again,) = drawn([bars(0.81)])
    assert str(again[1]) == str(first[1])
    assert kept(cache) == 1
    (changed,) = drawn([bars(0.62)])
    assert kept(cache) == 2
    assert str(changed[1]) != str(first[1])


def test_past_keep_figures_the_oldest_go(cache, monkeypatch):
    monkeypatch.setattr(plot_cache.KEPT, "keep", 2)
    keys = [plot_cache.read(bars(v))[0] for v in (0.1, 0.2, 0.3)]
    for key in keys:
        plot_cache.write(key, "<svg>figure</svg>")
    assert kept(cache) == 2
    assert plot_cache.read(bars(0.1))[1] is None
    assert plot_cache.read(bars(0.3))[1] == "<svg>figure</svg>"


def test_a_kind_the_report_does_not_draw_stays_undrawn(cache):
    assert drawn([PlotSpec("tokens", "", {"a": 1})]) == []
    assert drawn([PlotSpec("tokens", "", {"a": 1})]) == []


def test_a_kept_file_that_is_not_a_drawing_is_drawn_over(cache):
    spec = bars(0.5)
    drawn([spec])
    key, _ = plot_cache.read(spec)
    plot_cache.KEPT.put(key, b"<svg><script>alert(1)</script></svg>")
    ((_, image),) = drawn([spec])
    assert "<script" not in image and "yelp" in image


def test_an_unwritable_cache_only_costs_the_drawing(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("ADAPTEVAL_CACHE", str(blocker))  # a file: no folder can go there
    ((_, image),) = drawn([bars(0.9)])
    assert image.startswith("<svg")


PYTHONPATH = {k: v for k, v in os.environ.items() if k == "PYTHONPATH"}
"""The tree under test, when it is not the installed package."""


def test_reading_a_kept_figure_does_not_import_matplotlib(cache, tmp_path):
    drawn([bars(0.77)])
    code = ("import sys; from adapteval.report.html import drawn; "
            "from tests.test_plot_cache import bars; "
            "assert drawn([bars(0.77)])[0][1].startswith('<svg'); "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"ADAPTEVAL_CACHE": str(tmp_path), "PATH": "/usr/bin:/bin",
                              "HF_HUB_OFFLINE": "1", **PYTHONPATH}, cwd=str(Path(__file__).resolve().parents[1]), check=True)
    assert out.stdout.strip() == "False"

