"""The suite behind `adapteval demo` ships inside the package: it must stay a valid plan
of real bundled tasks and offline models, with every analysis and rule resolvable."""

from __future__ import annotations

import subprocess
from importlib import resources

import pytest
from tests.conftest import CLI

from adapteval.api import as_suite
from adapteval.plan import build_plan
from adapteval.plan.criteria import resolve_criteria


@pytest.mark.slow
def test_bundled_demo_suite_is_a_valid_offline_plan():
    with resources.as_file(resources.files("adapteval") / "suites" / "demo.yaml") as path:
        proc = subprocess.run([*CLI, "validate", str(path)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        said = " ".join(proc.stdout.split())  # the line wraps at the terminal's width
        assert "3 pretrained models and 2 baselines, 4 tasks, 5 strategies, 3 seeds: 111 cells" in said
        plan = build_plan(as_suite(path))
    assert [m.label for m in plan.models][:3] == ["all-MiniLM-L6-v2", "MiniLM-L3-onnx", "SmolLM2"]
    ladder = [c.strategy.name for c in plan.cells if c.model.label == "SmolLM2" and c.seed == 0]
    assert ladder == ["zeroshot", "icl", "probe", "kshot", "lora"]  # on one task
    assert {c.task.name for c in plan.cells if c.model.label == "SmolLM2"} == {"sentiment-yelp"}
    assert {t.name for t in plan.tasks} == {"sentiment-amazon", "sentiment-imdb",
                                            "sentiment-yelp", "sms-spam"}
    names = [a.name for a in plan.analyses]
    assert names == ["transfer", "robustness", "calibration", "counterfactual", "attribution",
                     "compression", "cost"]
    assert len(resolve_criteria(plan)) == 5
