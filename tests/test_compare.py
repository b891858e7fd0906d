"""Comparing and reporting say what is missing: an empty result set is a one-line error
(exit 2), and what one side has and the other lacks is named, not dropped."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import adapteval
from adapteval.cli import app
from adapteval.core.errors import StoreError
from adapteval.report.compare import compare, unmatched
from adapteval.results import Results


def _suite(out, tasks) -> dict:
    return {"name": "cmp", "models": ["tfidf"], "baselines": [], "strategies": ["probe"],
            "tasks": [{"name": t, "bundled": b, "max_train": 150, "max_test": 100}
                      for t, b in tasks], "seeds": [0], "output_dir": str(out),
            "bootstrap": {"n_resamples": 100}}


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    root = tmp_path_factory.mktemp("cmp")
    a = _suite(root / "a", [("yelp", "sentiment-yelp"), ("spam", "sms-spam")])
    b = _suite(root / "b", [("yelp", "sentiment-yelp"), ("imdb", "sentiment-imdb")])
    return root, adapteval.run(a), adapteval.run(b)


def test_compare_names_the_tasks_only_one_side_has(sets):
    root, a, b = sets
    rows = compare(a, b)
    assert [(r["task"], r["strategy"]) for r in rows] == [("yelp", "probe")]
    assert unmatched(a, b) == ["only in A (tfidf): spam/probe", "only in B (tfidf): imdb/probe"]
    res = CliRunner().invoke(app, ["compare", str(root / "a"), str(root / "b")])
    assert res.exit_code == 0, res.output
    assert "only in A (tfidf): spam/probe" in res.stderr
    assert "only in B (tfidf): imdb/probe" in res.stderr


def test_an_empty_result_set_cannot_be_compared_or_reported(sets, tmp_path):
    root, a, _ = sets
    empty = Results([])
    with pytest.raises(StoreError, match="result set B holds no cells"):
        compare(a, empty)
    suite = tmp_path / "unrun.yaml"
    suite.write_text(f"models: [tfidf]\ntasks: [sms-spam]\noutput_dir: {tmp_path / 'never'}\n")
    for command in (["report", str(suite)], ["compare", str(root / "a"), str(suite)]):
        res = CliRunner().invoke(app, command)
        assert res.exit_code == 2, (command, res.output)
        line = [ln for ln in res.stderr.splitlines() if ln.strip()]
        assert len(line) == 1 and "no cells" in line[0], res.stderr
    assert not (tmp_path / "never" / "report.html").exists()
