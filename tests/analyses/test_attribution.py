"""Attribution: on a task where one planted keyword decides the label, the keyword gets
the top attribution and the attributions are more faithful than random words; a model
that ignores its input (majority class) is not; integrated gradients on a fine-tuned
transformer completes, is finite and its word scores add up to the probability change."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

import adapteval

KEYWORD = "qwzx"


@pytest.fixture(scope="module")
def keyword_task(tmp_path_factory, shared):
    """300 real SST-2 sentences; label 1 exactly when the keyword was inserted (at a
    seeded random position), so the keyword alone decides the label."""
    frame = pd.read_csv(shared / "sst2" / "dev.tsv", sep="\t", quoting=csv.QUOTE_NONE)
    rng = np.random.default_rng(0)
    texts, labels = [], []
    for i, text in enumerate(frame["content"].iloc[:300]):
        words = text.split()
        if i % 2:
            words.insert(int(rng.integers(0, len(words) + 1)), KEYWORD)
        texts.append(" ".join(words))
        labels.append(i % 2)
    path = tmp_path_factory.mktemp("keyword") / "keyword.csv"
    pd.DataFrame({"text": texts, "label": labels}).to_csv(path, index=False)
    return path


def run(path, out, models, strategies, **params):
    return adapteval.run({
        "name": "attribution", "models": models, "baselines": [],
        "tasks": [{"name": "keyword", "path": str(path)}], "strategies": strategies,
        "analyses": [{"name": "attribution", **params}], "output_dir": str(out),
        "bootstrap": {"n_resamples": 200},
    })


def top_word(example):
    return example["tokens"][int(np.argmax(example["scores"]))]


@pytest.mark.slow
def test_occlusion_finds_the_planted_keyword_and_beats_random(keyword_task, tmp_path):
    res = run(keyword_task, tmp_path, ["tfidf", "majority"], ["probe"], n_items=60,
              n_examples=20)
    rows = {r.model: r.result for r in res.analysis("attribution")}
    tfidf, majority = rows["tfidf"], rows["majority"]
    assert tfidf["method"] == "occlusion" and tfidf["n_items"] == 60
    # removing the top words hurts far more than removing random ones; keeping only them
    # keeps the prediction far better than keeping random ones
    assert tfidf["comprehensiveness"] > tfidf["random_comprehensiveness"] + 0.1
    assert tfidf["sufficiency"] < tfidf["random_sufficiency"] - 0.1
    assert tfidf["faithfulness_margin"] > 0.1 and tfidf["faithfulness_margin_ci"][0] > 0
    assert len(tfidf["per_fraction"]) == 3
    with_keyword = [e for e in tfidf["examples"] if KEYWORD in e["tokens"]]
    assert with_keyword and all(e["pred"] == "1" for e in with_keyword)
    assert all(top_word(e) == KEYWORD for e in with_keyword)
    for e in tfidf["examples"]:
        assert len(e["tokens"]) == len(e["scores"]) and e["label"] in ("0", "1")
    # a model that ignores its input: every word scores 0, no better than random
    assert majority["faithfulness_margin"] == 0.0
    assert all(s == 0.0 for e in majority["examples"] for s in e["scores"])


@pytest.mark.slow
def test_integrated_gradients_on_a_finetuned_transformer(keyword_task, tiny_bert, one_torch_thread):
    import torch

    from adapteval.analyses import ANALYSES, AnalysisContext
    from adapteval.models.kinds import load_model
    from adapteval.plan import build_plan
    from adapteval.strategies import CellContext
    from adapteval.suite.specs import AnalysisSpec

    plan = build_plan(adapteval.api.as_suite({
        "models": [str(tiny_bert)], "baselines": [],
        "tasks": [{"name": "keyword", "path": str(keyword_task)}],
        "strategies": [{"name": "finetune", "max_steps": 20, "batch_size": 16, "max_length": 64,
                        "learning_rate": 1e-3}],
    }))
    cell = plan.cells[0]
    ctx = CellContext(cell.task, cell.task.split(0), load_model(cell.model), 0)
    fitted = cell.strategy.fit(ctx)
    analysis = ANALYSES.get("attribution").from_spec(
        AnalysisSpec(name="attribution", n_items=8, n_steps=64, n_examples=8), where="test")
    r = analysis.run(AnalysisContext(cell, ctx.split, fitted.predictions, fitted.predictor))
    assert r["method"] == "integrated_gradients" and r["baseline"] == "pad"
    numbers = [r[k] for k in ("comprehensiveness", "sufficiency", "random_comprehensiveness",
                              "random_sufficiency", "faithfulness_margin", "convergence_delta")]
    assert all(np.isfinite(numbers))

    # completeness: word scores add up to p(text) - p(all-[PAD] baseline), so no subword
    # is lost when they are summed into words (the gap is IG's own convergence error)
    model, tok = fitted.predictor.model, fitted.predictor.tokenizer
    gaps = []
    for e in r["examples"]:
        assert len(e["scores"]) == len(e["tokens"]) and np.isfinite(e["scores"]).all()
        enc = tok(" ".join(e["tokens"]), truncation=True, max_length=64, return_tensors="pt",
                  return_special_tokens_mask=True)
        base = torch.where(enc["special_tokens_mask"].bool(), enc["input_ids"],
                           torch.full_like(enc["input_ids"], tok.pad_token_id))
        model.eval()
        with torch.no_grad():
            p_x, p_b = (torch.softmax(model({"input_ids": ids,
                                             "attention_mask": enc["attention_mask"]}), -1)[0]
                        for ids in (enc["input_ids"], base))
        c = int(p_x.argmax())
        assert e["pred"] == str(c)
        gaps.append(float(p_x[c] - p_b[c]))
        assert sum(e["scores"]) == pytest.approx(gaps[-1], rel=1e-3, abs=1e-6)
    assert max(abs(g) for g in gaps) > 1e-3  # the check above is not trivially 0 == 0
