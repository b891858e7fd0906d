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
        assert ("4 pretrained models and 3 baselines, 5 tasks, 5 strategies, 3 seeds: 129 cells"
                in said)
        assert "(text only): not on fashion-mnist" in said  # mixed modalities pair themselves
        plan = build_plan(as_suite(path))
    assert [m.label for m in plan.models][:4] == ["all-MiniLM-L6-v2", "MiniLM-L3-onnx", "SmolLM2",
                                                  "efficientnet-lite0"]
    ladder = [c.strategy.name for c in plan.cells if c.model.label == "SmolLM2" and c.seed == 0]
    assert ladder == ["zeroshot", "icl", "probe", "kshot", "lora"]  # on one task
    assert {c.task.name for c in plan.cells if c.model.label == "SmolLM2"} == {"sentiment-yelp"}
    assert {t.name for t in plan.tasks} == {"sentiment-amazon", "sentiment-imdb",
                                            "sentiment-yelp", "sms-spam", "fashion-mnist"}
    image = {(c.model.label, c.strategy.name) for c in plan.cells if c.task.name == "fashion-mnist"}
    assert image == {(m, s) for m in ("efficientnet-lite0", "majority", "pixels")
                     for s in ("probe", "kshot")}
    names = [a.name for a in plan.analyses]
    assert names == ["transfer", "robustness", "calibration", "robustness", "counterfactual",
                     "attribution", "attribution", "compression", "cost"]
    assert len(resolve_criteria(plan)) == 5
