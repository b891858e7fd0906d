"""Model kinds are plugins: each resolves and loads its models and answers what the
strategies and the cost analyses ask, so nothing tests kind names."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from adapteval.core.errors import ConfigError
from adapteval.core.plugin import MODALITIES, Number
from adapteval.metrics import METRICS
from adapteval.models.kinds import MODEL_KINDS, ModelKind, kind_of, load_model, resolve_model
from adapteval.models.ref import ModelRef
from adapteval.plan.criteria import AGGREGATES
from adapteval.strategies import STRATEGIES
from adapteval.suite.specs import ModelSpec


def test_the_built_in_kinds_are_registered_with_the_plugin_contract():
    assert {"hf", "onnx", "majority", "tfidf"} <= set(MODEL_KINDS.names())
    for name in MODEL_KINDS.names():
        kind = MODEL_KINDS.get(name)
        assert isinstance(kind, ModelKind) and kind.name == name and kind.description
        assert kind.modalities <= set(MODALITIES)
    assert MODEL_KINDS.group == "adapteval.model_kinds"


def test_what_each_kind_declares():
    hf, onnx, majority, tfidf = (MODEL_KINDS.get(n) for n in ("hf", "onnx", "majority", "tfidf"))
    assert hf.pretrained and onnx.pretrained and not majority.pretrained and not tfidf.pretrained
    assert hf.torch_weights and not onnx.torch_weights
    assert majority.constant and not tfidf.constant and not hf.constant
    assert tfidf.fits_on_train and tfidf.threads() == 1


@pytest.mark.parametrize("name", ["majority", "tfidf"])
def test_baselines_resolve_offline_to_a_stable_fingerprint(name, tmp_path):
    ref = resolve_model(ModelSpec(source=name), tmp_path, where="m")
    assert ref == ModelRef(name, ModelSpec(source=name), name, None, f"{name}-baseline-v1",
                           None, False)
    assert MODEL_KINDS.get(name).weight_path(ref) is None
    assert type(load_model(ref)).__name__.lower().startswith(name)


def test_auto_takes_the_catalog_kind_else_hf():
    assert kind_of(ModelSpec(source="tfidf"), where="m").name == "tfidf"
    assert kind_of(ModelSpec(source="paraphrase-MiniLM-L3-v2-onnx"), where="m").name == "onnx"
    assert kind_of(ModelSpec(source="some/hub-id"), where="m").name == "hf"
    assert kind_of(ModelSpec(source="smollm2"), where="m").name == "causal"


def test_an_unknown_kind_is_one_line_listing_the_valid_kinds():
    with pytest.raises(ConfigError) as err:
        resolve_model(ModelSpec(source="x", kind="bert"), Path.cwd(), where="suite.yaml: models[0]")
    line = err.value.one_line()
    assert "suite.yaml: models[0].kind" in line and "unknown model kind 'bert'" in line
    assert ("valid model_kinds: causal, efficientnet-lite, hf, hf-vision, majority, onnx, "
            "pixels, tfidf") in line


def test_tfidf_runtime_counts_its_vocabulary(tmp_path):
    ref = resolve_model(ModelSpec(source="tfidf"), tmp_path, where="m")
    kind = MODEL_KINDS.get("tfidf")
    runtime = kind.runtime(ref, load_model(ref), ["red green blue", "green blue gold"])
    assert runtime.count()[0] == runtime.count()[1] == 7  # 4 words + 3 bigrams
    assert runtime.encode(["red green"]).shape == (1, 7)


def test_trained_strategies_support_kinds_with_torch_weights():
    finetune = STRATEGIES.get("finetune").from_params({}, where="s")
    assert finetune.supports(MODEL_KINDS.get("hf"))
    assert not finetune.supports(MODEL_KINDS.get("onnx"))
    assert not finetune.supports(MODEL_KINDS.get("tfidf"))


def test_metrics_and_aggregates_declare_their_numbers():
    assert METRICS.get("accuracy").number == Number(0.0, 1.0, True,
                                                   METRICS.get("accuracy").description)
    assert METRICS.get("r2").number.low == -math.inf and METRICS.get("r2").number.high == 1.0
    for name in METRICS.names():
        m = METRICS.get(name)
        assert m.number.low < m.number.high and m.number.higher_is_better == m.higher_is_better
    assert AGGREGATES["failure_rate"] == Number(0.0, 1.0, False, AGGREGATES["failure_rate"].description)
    assert all(n.higher_is_better is False for n in AGGREGATES.values())
