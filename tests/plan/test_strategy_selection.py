"""A strategy may name the models and tasks it adapts: the plan holds only those cells."""

from __future__ import annotations

import pytest

from adapteval.core.errors import ConfigError, IncompatibleError
from adapteval.plan import build_plan
from adapteval.suite.schema import Suite


def suite(tmp_path, strategies):
    return Suite.model_validate({
        "name": "pick", "models": ["tfidf"], "baselines": ["majority", "tfidf"],
        "tasks": ["sentiment-yelp", "sms-spam"], "strategies": strategies, "seeds": [0, 1],
        "output_dir": str(tmp_path),
    })


def test_models_and_tasks_of_a_strategy_select_its_cells(tmp_path):
    plan = build_plan(suite(tmp_path, [
        "probe", {"name": "kshot", "samples_per_label": 4, "models": ["tfidf"],
                  "tasks": ["sms-spam"]}]))
    kshot = {(c.model.label, c.task.name) for c in plan.cells if c.strategy.name == "kshot"}
    probe = {(c.model.label, c.task.name) for c in plan.cells if c.strategy.name == "probe"}
    assert kshot == {("tfidf", "sms-spam")}
    assert probe == {(m, t) for m in ("tfidf", "majority") for t in ("sentiment-yelp", "sms-spam")}
    assert len(plan.cells) == 2 * 4 + 2  # two seeds each


def test_a_selected_model_the_strategy_cannot_adapt_is_refused(tmp_path):
    with pytest.raises(IncompatibleError, match="does not apply to majority"):
        build_plan(suite(tmp_path, ["probe", {"name": "finetune", "models": ["majority"]}]))


def test_a_model_may_name_its_tasks(tmp_path):
    s = suite(tmp_path, ["probe"]).model_copy(update={"models": [
        {"source": "tfidf", "tasks": ["sms-spam"]}]})
    s = Suite.model_validate(s.model_dump())
    plan = build_plan(s)
    by_model = {(c.model.label, c.task.name) for c in plan.cells}
    assert ("tfidf", "sentiment-yelp") not in by_model and ("tfidf", "sms-spam") in by_model
    assert ("majority", "sentiment-yelp") in by_model


def test_an_analysis_may_name_its_seeds(tmp_path):
    s = suite(tmp_path, ["probe"]).model_dump()
    s["analyses"] = [{"name": "robustness", "seeds": [1], "max_items": 20}, "calibration"]
    plan = build_plan(Suite.model_validate(s))
    jobs = [j for js in plan.jobs().values() for j in js]
    robust = {j.cell.seed for j in jobs if j.analysis.name == "robustness"}
    calib = {j.cell.seed for j in jobs if j.analysis.name == "calibration"}
    assert robust == {1} and calib == {0, 1}
    assert sum(j.analysis.name == "robustness" for j in jobs) == 4  # 2 models x 2 tasks


def test_an_analysis_naming_a_seed_the_suite_does_not_run_is_refused(tmp_path):
    s = suite(tmp_path, ["probe"]).model_dump()
    s["analyses"] = [{"name": "robustness", "seeds": [7]}]
    with pytest.raises(ConfigError, match="unknown seed 7") as e:
        build_plan(Suite.model_validate(s))
    assert "use one of: 0, 1" in str(e.value)
