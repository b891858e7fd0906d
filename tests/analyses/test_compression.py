"""Compression sweeps: the transforms do what they say, compressed models still work, the
uncompressed level is the cell itself, and a rerun reuses the levels it has encoded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import adapteval
from adapteval.core.errors import ConfigError
from adapteval.models.compress import (
    Level,
    compressed,
    int8_share,
    merge_adapters,
    parameter_counts,
    state_dict_bytes,
    weight_sparsity,
)
from adapteval.models.efficientnet import pooled
from adapteval.models.hf import HFEncoder
from adapteval.suite.specs import ModelSpec

TEXTS = ["a wonderful, warm film", "the worst service I have ever had", "ok", "fine food"] * 3


@pytest.fixture(scope="module")
def tiny(tiny_bert, one_torch_thread) -> HFEncoder:
    return HFEncoder(ModelSpec(source=str(tiny_bert)), tiny_bert)


def zeros_in_linear_weights(model: torch.nn.Module) -> tuple[int, int]:
    """Counted independently of the code under test: every Linear outside the pooler."""
    weights = [m.weight for n, m in model.named_modules()
               if isinstance(m, torch.nn.Linear) and not n.startswith("pooler")]
    return sum(int((w == 0).sum()) for w in weights), sum(w.numel() for w in weights)


@pytest.mark.parametrize("amount", [0.3, 0.5, 0.9])
def test_global_magnitude_pruning_reaches_the_requested_sparsity(tiny, amount):
    before = {k: v.clone() for k, v in tiny.model.state_dict().items()}
    pruned = compressed(tiny.model, Level("magnitude", amount))
    zeros, total = zeros_in_linear_weights(pruned)
    assert zeros / total == pytest.approx(amount, abs=1 / total)
    assert weight_sparsity(pruned) == pytest.approx(zeros / total)
    assert not any(n.endswith(("_orig", "_mask")) for n in pruned.state_dict())  # permanent
    # global, not per layer: the smallest weights go wherever they are
    per_layer = [float((m.weight == 0).float().mean()) for n, m in pruned.named_modules()
                 if isinstance(m, torch.nn.Linear) and not n.startswith("pooler")]
    assert max(per_layer) - min(per_layer) > 0.01
    # the shared encoder is untouched
    assert all(torch.equal(before[k], v) for k, v in tiny.model.state_dict().items())


def test_dropped_layers_and_int8_shrink_the_model_and_still_encode(tiny):
    encoder = HFEncoder(ModelSpec(source=str(tiny.folder)), tiny.folder)
    full = parameter_counts(tiny.model)[0]
    for level in (Level("drop_layers", 1), Level("int8", 0.0), Level("magnitude", 0.5)):
        encoder.model = compressed(tiny.model, level)
        emb = encoder.encode(TEXTS)
        assert emb.shape == (len(TEXTS), tiny.dim) and bool(torch.isfinite(torch.from_numpy(emb)).all())
    dropped = compressed(tiny.model, Level("drop_layers", 1))
    assert dropped.config.num_hidden_layers == 1 and len(dropped.encoder.layer) == 1
    assert parameter_counts(dropped)[0] < full
    assert tiny.model.config.num_hidden_layers == 2
    quantized = compressed(tiny.model, Level("int8", 0.0))
    from torch.ao.nn.quantized.dynamic import Linear as DynamicInt8Linear

    assert not any(type(m) is torch.nn.Linear for m in quantized.modules())
    assert sum(isinstance(m, DynamicInt8Linear) for m in quantized.modules()) == 2 * 6 + 1
    assert state_dict_bytes(quantized) < state_dict_bytes(tiny.model)
    assert parameter_counts(quantized)[0] == full  # same numbers, stored as int8


def test_merged_lora_adapters_give_the_same_outputs(tiny):
    from peft import LoraConfig, inject_adapter_in_model

    torch.manual_seed(0)
    model = inject_adapter_in_model(
        LoraConfig(r=4, lora_alpha=8, target_modules=["query", "value"], init_lora_weights=False),
        compressed(tiny.model, Level("magnitude", 0.0)),
    ).eval()
    batch = tiny.tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.inference_mode():
        with_adapters = model(**batch).last_hidden_state
        merged = merge_adapters(model)
        assert not any("lora" in n for n, _ in merged.named_parameters())
        assert torch.allclose(merged(**batch).last_hidden_state, with_adapters, atol=1e-5)


def suite(tmp_path, model, strategies, compression, *, max_train=200, max_test=150):
    return {
        "name": "compression", "models": [model], "baselines": ["majority"],
        "tasks": [{"name": "yelp", "bundled": "sentiment-yelp", "max_train": max_train,
                   "max_test": max_test}],
        "strategies": strategies, "seeds": [0],
        "analyses": [{"name": "compression", **compression}],
        "output_dir": str(tmp_path / "out"), "bootstrap": {"n_resamples": 200},
    }


def cell_scores(results) -> dict[tuple[str, str], float]:
    frame = results.to_pandas()
    frame = frame[frame["metric"] == "accuracy"]
    return {(r.model, r.strategy): r.value for r in frame.itertuples()}


@pytest.mark.slow
def test_trained_strategies_evaluate_compressed_copies_of_their_own_model(tiny_bert, tmp_path):
    fast = {"max_steps": 6, "batch_size": 8, "eval_batch_size": 32}
    res = adapteval.run(suite(
        tmp_path, {"source": str(tiny_bert), "name": "tiny"},
        [{"name": "finetune", **fast}, {"name": "lora", **fast}],
        {"magnitude": [0.0, 0.5], "drop_layers": [1], "robustness": True},
        max_train=100, max_test=60,
    ))
    rows = res.analysis("compression")
    assert {r.strategy for r in rows} == {"finetune", "lora"}  # not the majority baseline
    scores = cell_scores(res)
    for r in rows:
        levels = {lv["label"]: lv for lv in r.result["levels"]}
        assert list(levels) == ["magnitude 0%", "magnitude 50%", "drop 1 layer(s)", "int8"]
        base = levels["magnitude 0%"]
        assert base["retention"] == 1.0 and base["accuracy"] == scores[("tiny", r.strategy)]
        assert levels["magnitude 50%"]["sparsity"] == pytest.approx(0.5, abs=1e-4)
        for lv in levels.values():
            assert 0.0 <= lv["accuracy"] <= 1.0 and 0.0 <= lv["flip_rate"] <= 1.0


@pytest.mark.slow
def test_minilm_probe_sweep_end_to_end_and_resume(tmp_path):
    """all-MiniLM-L6-v2 probe on 200 Yelp reviews: low sparsity and int8 still beat the
    majority class, level 0 is the cell itself, and a wider rerun reuses encoded levels."""
    first = adapteval.run(suite(tmp_path, "all-MiniLM-L6-v2", ["probe"],
                                {"magnitude": [0.0, 0.3, 0.9], "int8": True}))
    (row,) = first.analysis("compression")
    levels = {lv["label"]: lv for lv in row.result["levels"]}
    scores = cell_scores(first)
    own, majority = scores[("all-MiniLM-L6-v2", "probe")], scores[("majority", "probe")]
    assert levels["magnitude 0%"]["accuracy"] == own == row.result["base_score"]
    assert levels["magnitude 0%"]["retention"] == 1.0
    for label in ("magnitude 30%", "int8"):
        assert levels[label]["accuracy"] > majority + 0.1, (label, levels[label], majority)
    assert levels["magnitude 30%"]["sparsity"] == pytest.approx(0.3, abs=1e-4)
    assert levels["magnitude 90%"]["sparsity"] == pytest.approx(0.9, abs=1e-4)
    n_texts = levels["magnitude 30%"]["texts"]  # distinct texts of 200 train + 150 test reviews
    assert n_texts > 300 and levels["magnitude 30%"]["reused_embeddings"] == 0
    assert 0 < row.result["retention_auc"] <= 1.05

    again = adapteval.run(suite(tmp_path, "all-MiniLM-L6-v2", ["probe"],
                                {"magnitude": [0.0, 0.3, 0.5], "int8": True}))
    (row2,) = again.analysis("compression")
    levels2 = {lv["label"]: lv for lv in row2.result["levels"]}
    assert levels2["magnitude 30%"]["reused_embeddings"] == n_texts
    assert levels2["int8"]["reused_embeddings"] == n_texts
    assert levels2["magnitude 50%"]["reused_embeddings"] == 0
    for label in ("magnitude 30%", "int8"):
        assert levels2[label]["accuracy"] == levels[label]["accuracy"]


@pytest.mark.parametrize(
    ("compression", "message"),
    [
        ({"magnitude": [0.5, 1.0]}, "fraction in \\[0, 1\\)"),
        ({"drop_layers": [0]}, "number of layers >= 1"),
        ({"drop_layers": [2]}, "drop_layers 2 leaves no layer of 'tiny' \\(2 layers\\)"),
        ({"robustness": True, "perturbations": ["sneeze"]}, "unknown perturbation 'sneeze'"),
    ],
)
def test_bad_compression_settings_fail_before_any_work(tiny_bert, tmp_path, compression, message):
    with pytest.raises(ConfigError, match=message):
        adapteval.run(suite(tmp_path, {"source": str(tiny_bert), "name": "tiny"}, ["probe"],
                            compression))
    assert not (tmp_path / "out").exists()


def test_onnx_and_baseline_models_are_not_compressed(tmp_path):
    from adapteval.plan import build_plan
    from adapteval.suite.schema import Suite

    spec = suite(tmp_path, {"source": "paraphrase-MiniLM-L3-v2-onnx",
                            "tokenizer": "all-MiniLM-L6-v2"}, ["probe"], {})
    plan = build_plan(Suite.model_validate(spec))
    (analysis,) = plan.analyses
    reasons = {c.model.label: analysis.applies(c) for c in plan.cells}
    assert "Hugging Face (torch) encoder" in reasons["paraphrase-MiniLM-L3-v2-onnx"]
    assert "is majority" in reasons["majority"]
    assert plan.jobs() == {}


@pytest.mark.slow
def test_fairness_along_the_curve_starts_at_the_cells_own_fairness(domains_csv, tmp_path):
    """all-MiniLM-L6-v2 probe on reviews grouped by site: each level carries the gender-swap
    and group numbers, and the uncompressed level's equal the counterfactual and fairness
    analyses of the same cell (which are checked against fairlearn elsewhere)."""
    from rich.console import Console

    from adapteval.analyses.compression import Compression
    from adapteval.report import write_report
    from adapteval.terminal import tables

    res = adapteval.run({
        "name": "compression-fairness", "models": ["all-MiniLM-L6-v2"],
        "baselines": ["majority"], "strategies": ["probe"], "seeds": [0],
        "tasks": [{"name": "reviews", "path": str(domains_csv), "group": "site"}],
        "analyses": [{"name": "compression", "magnitude": [0.0, 0.7], "int8": True,
                      "fairness": True}, "counterfactual", "fairness"],
        "output_dir": str(tmp_path / "out"), "bootstrap": {"n_resamples": 200},
    })
    (row,) = res.analysis("compression")
    mine = {r.name: r.result for r in res.analyses if r.model == "all-MiniLM-L6-v2"}
    levels = row.result["levels"]
    assert [lv["label"] for lv in levels] == ["magnitude 0%", "magnitude 70%", "int8"]
    base = levels[0]
    assert base["counterfactual_flip_rate"] == mine["counterfactual"]["flip_rate"]
    assert base["counterfactual_abs_gap"] == mine["counterfactual"]["mean_abs_gap"]
    assert base["counterfactual_pairs"] == mine["counterfactual"]["n_pairs"] > 10
    for key in ("largest_gap", "demographic_parity_difference", "equalized_odds_difference"):
        assert base[key] == pytest.approx(mine["fairness"][key])
        assert all(0.0 <= lv[key] <= 1.0 for lv in levels)
    assert all(0.0 <= lv["counterfactual_flip_rate"] <= 1.0 for lv in levels)

    console = Console(width=220, record=True)
    for t in tables(Compression.sections(res.analysis("compression"), res)):
        console.print(t)
    text = console.export_text()
    assert "swap flips" in text and "group gap" in text and "magnitude 70%" in text
    html = write_report(res, tmp_path / "report.html").read_text()
    assert "Robustness and fairness along the curve" in html and "EO diff." in html


def test_pruning_a_convolutional_network_prunes_its_convolutions_not_its_unused_head(
        one_torch_thread):
    """EfficientNet-Lite0's features pass through convolutions only: magnitude pruning
    zeroes the requested share of their weights (counted here), leaves the ImageNet
    classifier the features never reach untouched, and changes the features."""
    from adapteval.models.efficientnet import EfficientNetLite
    from adapteval.models.kinds import load_model, resolve_model

    ref = resolve_model(ModelSpec(source="efficientnet-lite0"), Path.cwd(), where="test")
    lite: EfficientNetLite = load_model(ref)
    pruned = compressed(lite.model, Level("magnitude", 0.5))
    convs = [m.weight for m in pruned.modules() if isinstance(m, torch.nn.Conv2d)]
    zeros, total = sum(int((w == 0).sum()) for w in convs), sum(w.numel() for w in convs)
    assert zeros / total == pytest.approx(0.5, abs=1e-3)
    assert weight_sparsity(pruned) == pytest.approx(0.5, abs=1e-3)
    assert torch.equal(pruned._fc.weight, lite.model._fc.weight)
    assert int8_share(lite.model) == 0.0  # dynamic int8 would convert none of them
    x = torch.from_numpy(lite.preprocess([np.full((28, 28, 3), 128, np.uint8)]))
    with torch.inference_mode():
        assert not torch.allclose(pooled(pruned, x), pooled(lite.model, x))


def test_pruning_gpt2_reaches_its_conv1d_layers(tiny_gpt2):
    """GPT-2's attention and MLP weights live in transformers' Conv1D, not Linear."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_gpt2)
    pruned = compressed(model, Level("magnitude", 0.4))
    conv1d = [m.weight for m in pruned.modules() if type(m).__name__ == "Conv1D"]
    assert conv1d
    zeros = sum(int((w == 0).sum()) for w in conv1d)
    assert zeros / sum(w.numel() for w in conv1d) > 0.2
    assert weight_sparsity(pruned) == pytest.approx(0.4, abs=1e-3)


def test_int8_on_a_convolutional_model_is_left_out_or_refused(tmp_path):
    from adapteval.models.compress import int8_share as share
    from adapteval.models.compress import sweep
    from adapteval.plan import build_plan
    from adapteval.suite.schema import Suite

    def plan_with(compression: dict):
        return build_plan(Suite.model_validate({
            "name": "c", "models": ["efficientnet-lite0"], "baselines": [],
            "tasks": [{"name": "d", "bundled": "digits", "max_train": 40, "max_test": 20}],
            "strategies": ["probe"], "seeds": [0], "output_dir": str(tmp_path / "out"),
            "analyses": [{"name": "compression", **compression}]}))

    (analysis,) = plan_with({"magnitude": [0.0, 0.5]}).analyses
    p = analysis.params
    assert p.int8  # the default: asked for every model
    # ... but a model without Linear layers in its features (int8_share 0, checked above
    # for Lite0) gets no int8 level; one with them does
    assert share(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1))) == 0.0
    assert [lv.label for lv in sweep(p.magnitude, p.drop_layers, False)] == [
        "magnitude 0%", "magnitude 50%"]
    assert [lv.label for lv in sweep(p.magnitude, p.drop_layers, True)][-1] == "int8"
    with pytest.raises(ConfigError, match="int8 dynamic quantization converts Linear layers, "
                       "and 'efficientnet-lite0' \\(efficientnet-lite\\) computes its features"):
        plan_with({"magnitude": [0.5], "int8": True})
