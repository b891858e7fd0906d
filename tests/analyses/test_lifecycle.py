"""The analysis framework: a user-registered analysis runs after its cells, is stored
per cell, resumes, and is added to a finished suite without re-running its cells."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import Field

import adapteval
from adapteval.analyses import ANALYSES, Analysis
from adapteval.core.errors import ConfigError
from adapteval.core.plugin import Params
from adapteval.store import ResultStore

CALLS: list[tuple[str, str, str, int]] = []


class UpperParams(Params):
    limit: int = Field(default=50, ge=1)


class UpperCase(Analysis):
    """Accuracy on upper-cased test texts, through the cell's own predictor."""

    name = "test-upper"
    Params = UpperParams

    def run(self, ctx):
        CALLS.append((ctx.cell.model.label, ctx.cell.task.name, ctx.cell.strategy.name, ctx.cell.seed))
        test = ctx.split.test
        n = min(self.params.limit, len(test))
        clean = ctx.predictor.predict(test.items[:n])
        upper = ctx.predictor.predict([t.upper() for t in test.items[:n]])
        stored = ctx.predictions.y_pred[0][:n]
        return {"n": n, "clean_matches_stored": bool((clean == stored).mean() > 0.99),
                "accuracy_upper": float((upper == test.y[:n]).mean()),
                "flip_rate": float((upper != clean).mean())}


class ModelWide(Analysis):
    name = "test-model-wide"
    scope = "model"
    needs_predictor = False

    def run(self, ctx):
        CALLS.append(("model-wide", ctx.cell.model.label, "", 0))
        return {"model": ctx.cell.model.label, "nan": np.nan}


@pytest.fixture(autouse=True, scope="module")
def registered():
    ANALYSES.register(UpperCase, replace=True)
    ANALYSES.register(ModelWide, replace=True)
    yield
    ANALYSES._items.pop("test-upper")
    ANALYSES._items.pop("test-model-wide")


def suite(tmp_path, analyses):
    return {
        "name": "analyses",
        "models": ["tfidf"],
        "baselines": ["majority"],
        "tasks": [{"name": "yelp", "bundled": "sentiment-yelp"},
                  {"name": "imdb", "bundled": "sentiment-imdb"}],
        "strategies": ["probe", {"name": "kshot", "samples_per_label": 8, "n_experiments": 2}],
        "seeds": [0, 1],
        "analyses": analyses,
        "output_dir": str(tmp_path / "out"),
        "bootstrap": {"n_resamples": 200},
    }


@pytest.mark.slow
def test_analyses_run_per_cell_are_stored_and_added_later_without_rerunning_cells(tmp_path):
    CALLS.clear()
    first = adapteval.run(suite(tmp_path, []))
    assert len(first) == 16 and not first.analyses
    store = ResultStore(tmp_path / "out")
    before = {r.key: (r.created_at, r.predictions) for r in store.rows()}
    store.close()

    res = adapteval.run(suite(tmp_path, [
        {"name": "test-upper", "strategies": ["probe"], "limit": 40}, "test-model-wide",
    ]))
    rows = res.analysis("test-upper")
    # 2 models x 2 tasks x 2 seeds, probe only
    assert len(rows) == 8 and {r.strategy for r in rows} == {"probe"}
    assert all(r.result["n"] == 40 and r.result["clean_matches_stored"] for r in rows)
    tfidf = [r for r in rows if r.model == "tfidf"]
    assert all(0.0 <= r.result["flip_rate"] <= 1.0 for r in tfidf)
    wide = res.analysis("test-model-wide")
    assert sorted(r.result["model"] for r in wide) == ["majority", "tfidf"]
    assert all(r.result["nan"] is None for r in wide)  # NaN is stored as null
    store = ResultStore(tmp_path / "out")
    after = {r.key: (r.created_at, r.predictions) for r in store.rows()}
    store.close()
    assert after == before  # cells were re-fitted in memory, never rewritten

    CALLS.clear()
    again = adapteval.run(suite(tmp_path, [
        {"name": "test-upper", "strategies": ["probe"], "limit": 40}, "test-model-wide",
    ]))
    assert CALLS == []  # everything cached
    assert [r.result for r in again.analysis("test-upper")] == [r.result for r in rows]

    # a changed parameter is a different analysis: it runs, the old one stays stored
    changed = adapteval.run(suite(tmp_path, [{"name": "test-upper", "strategies": ["probe"],
                                              "limit": 20}]))
    assert [r.result["n"] for r in changed.analysis("test-upper")] == [20] * 8
    assert len(adapteval.results(tmp_path / "out").analysis("test-upper")) == 16


@pytest.mark.parametrize(
    ("analyses", "message"),
    [
        (["no-such-analysis"], "unknown analysis 'no-such-analysis'"),
        ([{"name": "test-upper", "limit": 0}], "limit: input should be greater than or equal to 1"),
        ([{"name": "test-upper", "colour": 1}], "unknown parameter 'colour'"),
        ([{"name": "test-upper", "strategies": ["lora"]}], "unknown strategy 'lora'"),
        ([{"name": "test-upper", "tasks": ["sst2"]}], "unknown task 'sst2'"),
        ([{"name": "test-upper", "models": ["bert"]}], "unknown model 'bert'"),
        (["test-upper", "test-upper"], "listed twice"),
    ],
)
def test_bad_analysis_entries_fail_before_any_work(tmp_path, analyses, message):
    with pytest.raises(ConfigError, match=message):
        adapteval.run(suite(tmp_path, analyses))
    assert not (tmp_path / "out").exists()


def test_kshot_predictor_of_a_tfidf_baseline_reproduces_its_stored_predictions(tmp_path):
    """Each k-shot head scores new text in the TF-IDF space of its own draw."""
    from adapteval.api import as_suite
    from adapteval.models.kinds import load_model
    from adapteval.plan import build_plan
    from adapteval.strategies import CellContext

    plan = build_plan(as_suite(suite(tmp_path, [])))
    cell = next(c for c in plan.cells if c.model.label == "tfidf" and c.strategy.name == "kshot")
    split = cell.task.split(cell.seed)
    fitted = cell.strategy.fit(CellContext(cell.task, split, load_model(cell.model), cell.seed))
    proba = fitted.predictor.scores(split.test.items)
    np.testing.assert_allclose(proba, fitted.predictions.proba.mean(0), atol=1e-12)
