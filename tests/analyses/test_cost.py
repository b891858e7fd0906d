"""Cost: one measured result per model, with numbers a user can check on disk and in torch,
and a per-model table that puts them next to the stored adaptation time."""

from __future__ import annotations

import os

import pytest

import adapteval
from adapteval.analyses.cost import MB, cost_table
from adapteval.models.catalog import lookup


@pytest.mark.slow
def test_cost_per_model_for_torch_onnx_and_tfidf(tiny_bert, tmp_path):
    import onnx
    from safetensors.torch import load_file

    res = adapteval.run({
        "name": "cost",
        "models": [{"source": str(tiny_bert), "name": "tiny"},
                   {"source": "paraphrase-MiniLM-L3-v2-onnx", "name": "L3-onnx",
                    "tokenizer": "all-MiniLM-L6-v2"}],
        "baselines": ["majority", "tfidf"],
        "tasks": [{"name": "yelp", "bundled": "sentiment-yelp", "max_train": 100, "max_test": 40},
                  {"name": "spam", "bundled": "sms-spam", "max_train": 100, "max_test": 40}],
        "strategies": ["probe", {"name": "kshot", "samples_per_label": 4, "n_experiments": 2}],
        "analyses": [{"name": "cost", "n_texts": 20}],
        "output_dir": str(tmp_path / "out"), "bootstrap": {"n_resamples": 200},
    })
    rows = {r.model: r for r in res.analysis("cost")}
    assert sorted(rows) == ["L3-onnx", "tfidf", "tiny"]  # once per model; majority has no cost
    for r in rows.values():
        c = r.result
        assert c["latency_ms_p95"] >= c["latency_ms_p50"] > 0
        assert c["throughput_per_s"] > 0 and c["params"] >= c["params_nonzero"] > 0
        assert c["peak_memory_mb"] >= 0 and c["resident_mb"] > 50
        assert c["memory_method"] == "VmHWM after clear_refs"
        assert c["cpus"] == len(os.sched_getaffinity(0)) and c["load_1m"] >= 0
    tiny = rows["tiny"].result
    weights = load_file(tiny_bert / "model.safetensors")
    assert tiny["params"] == sum(t.numel() for t in weights.values())
    on_disk = sum(p.stat().st_size for p in tiny_bert.iterdir() if p.is_file())
    assert tiny["disk_mb"] == pytest.approx(on_disk / MB)
    assert tiny["peak_memory_mb"] > 0  # activations of a batch of 20 reviews
    onnx_file = lookup("paraphrase-MiniLM-L3-v2-onnx").path()
    onnx_file = onnx_file if onnx_file.suffix == ".onnx" else next(onnx_file.rglob("*.onnx"))
    assert rows["L3-onnx"].result["disk_mb"] == pytest.approx(onnx_file.stat().st_size / MB)
    graph = onnx.load(str(onnx_file)).graph
    assert rows["L3-onnx"].result["params"] == sum(
        int(__import__("numpy").prod(i.dims)) for i in graph.initializer)
    assert rows["tfidf"].result["disk_mb"] is None

    table = cost_table(res)
    assert len(table) == 4 * 2  # every model x strategy, majority included
    cells = res.to_pandas().drop_duplicates("key")
    for r in table.itertuples():
        mine = cells[(cells["model"] == r.model) & (cells["strategy"] == r.strategy)]
        assert r.cells == len(mine) == 2
        assert r.adapt_s_mean == pytest.approx(mine["seconds"].mean())
        if r.model in rows:
            assert r.latency_ms_p50 == rows[r.model].result["latency_ms_p50"]
    from rich.console import Console

    from adapteval.terminal import all_tables

    console = Console(width=200, record=True)
    for t in all_tables(res):
        console.print(t)
    text = console.export_text()
    assert "Cost per model" in text and "L3-onnx" in text


@pytest.mark.slow
def test_compression_levels_carry_their_cost(tiny_bert, tmp_path):
    res = adapteval.run({
        "name": "level-cost", "models": [{"source": str(tiny_bert), "name": "tiny"}],
        "baselines": [], "tasks": [{"name": "yelp", "bundled": "sentiment-yelp",
                                    "max_train": 60, "max_test": 30}],
        "analyses": [{"name": "compression", "magnitude": [0.0, 0.5], "drop_layers": [1],
                      "cost": True}],
        "output_dir": str(tmp_path / "out"), "bootstrap": {"n_resamples": 200},
    })
    (row,) = res.analysis("compression")
    cost = {lv["label"]: lv["cost"] for lv in row.result["levels"]}
    full, pruned = cost["magnitude 0%"], cost["magnitude 50%"]
    dropped, int8 = cost["drop 1 layer(s)"], cost["int8"]
    for c in cost.values():
        assert c["latency_ms_p95"] >= c["latency_ms_p50"] > 0 and c["peak_memory_mb"] >= 0
    assert pruned["params"] == full["params"]
    linear = 2 * (4 * 32 * 32 + 2 * 32 * 64)  # 2 layers: q, k, v, o and the two MLP weights
    assert full["params_nonzero"] - pruned["params_nonzero"] == pytest.approx(linear / 2, abs=2)
    assert dropped["params"] < full["params"] and dropped["disk_mb"] < full["disk_mb"]
    assert int8["disk_mb"] < full["disk_mb"]


@pytest.mark.slow
def test_cost_is_timed_again_on_other_texts_and_reused_on_the_same(tmp_path):
    """Latency depends on the texts: a suite whose model first meets other data times it
    again; one that meets the same data first reads the stored numbers."""
    def spec(*tasks):
        return {"name": "cost-reuse", "models": ["tfidf"], "baselines": ["majority"],
                "tasks": [{"name": t, "bundled": t, "max_train": 100, "max_test": 40}
                          for t in tasks],
                "analyses": [{"name": "cost", "n_texts": 10, "memory": False}],
                "output_dir": str(tmp_path / "out"), "bootstrap": {"n_resamples": 200}}

    (yelp,) = adapteval.run(spec("sentiment-yelp")).analysis("cost")
    (spam,) = adapteval.run(spec("sms-spam")).analysis("cost")
    assert spam.key != yelp.key and spam.task == "sms-spam"
    (again,) = adapteval.run(spec("sentiment-yelp", "sms-spam")).analysis("cost")
    assert again.key == yelp.key and again.result == yelp.result  # read back, not re-timed
