"""Every registered built-in plugin of every kind passes the conformance checks of
adapteval.testing (one case per plugin, id ``kind:name``). No pretrained model: the
Hugging Face model kind is checked on a tiny random BERT."""

from __future__ import annotations

import pytest

from adapteval.suite.specs import ModelSpec
from adapteval.testing import check_plugin, parametrize_plugins, plugin_checks
from adapteval.testing.samples import tiny_model_spec


def model_spec(kind: str, name: str, request: pytest.FixtureRequest) -> ModelSpec | None:
    if kind != "model_kind":
        return None
    if name == "hf":  # the session's tiny BERT (tests/conftest.py), built once
        return ModelSpec(source=str(request.getfixturevalue("tiny_bert")), kind="hf")
    return tiny_model_spec(name, request.getfixturevalue("tmp_path"))


@parametrize_plugins()
def test_plugin_conforms(kind, name, plugin, request, tmp_path):
    spec = model_spec(kind, name, request)
    failure = None
    try:
        check_plugin(plugin, kind, key=name, model_spec=spec, base_dir=tmp_path)
    except AssertionError as err:
        failure = str(err)
    if failure:
        pytest.fail(failure, pytrace=False)


def test_every_kind_has_built_in_plugins():
    kinds = {kind for kind, _, _ in plugin_checks()}
    assert kinds >= {"strategy", "analysis", "model_kind", "reader", "metric", "perturbation",
                     "estimator"}


def test_a_broken_plugin_fails_with_every_reason():
    """The checks catch what they promise: a wrong name, an unpicklable metric and a
    replicate formula that disagrees with its reference."""
    from dataclasses import replace

    from adapteval.metrics import METRICS

    good = METRICS.get("accuracy")
    broken = replace(good, name="not accuracy",
                     replicates=lambda y, p, pr, idx, k: (y[idx] == p[idx]).mean(1) + 0.01)
    with pytest.raises(AssertionError) as err:
        check_plugin(broken, "metric", key="accuracy")
    message = str(err.value)
    for reason in ("check_name", "check_pickles", "check_metric_replicates"):
        assert reason in message


def test_a_strategy_that_accepts_anything_fails_the_parameter_checks():
    from pydantic import ConfigDict

    from adapteval.contracts.strategy import Strategy
    from adapteval.core.plugin import Params

    class Loose(Params):
        model_config = ConfigDict(extra="allow", frozen=True)
        size: int = 3

    class Sloppy(Strategy):  # defined in a function: instances cannot pickle by reference
        name = "sloppy"
        description = "accepts unknown parameters"
        Params = Loose
        modalities = frozenset({"hologram"})

    with pytest.raises(AssertionError) as err:
        check_plugin(Sloppy, key="sloppy")
    message = str(err.value)
    for reason in ("check_unknown_parameter", "check_modalities", "check_pickles"):
        assert reason in message
    assert "check_wrong_type" not in message  # size: int rejects a wrong type in one line
