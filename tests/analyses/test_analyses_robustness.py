"""Robustness: seeded perturbations of real reviews, scored end to end by a real
all-MiniLM-L6-v2 probe and read back from the store."""

from __future__ import annotations

import numpy as np
import pytest
from acceptability_data import accuracy, read_domains, stored_predictions

import adapteval
from adapteval.analyses.robustness import Robustness, RobustnessParams
from adapteval.core.errors import ConfigError
from adapteval.perturbations.registry import BUILTIN_PERTURBATIONS


@pytest.fixture(scope="module")
def reviews(shared) -> tuple[list[str], np.ndarray]:
    frame = read_domains(shared).sample(n=300, random_state=2)
    return frame["text"].tolist(), frame.index.to_numpy()


def test_perturbations_are_deterministic_per_seed_and_change_real_text(reviews):
    texts, rows = reviews
    probe = Robustness(RobustnessParams())
    assert probe.params.perturbations == sorted(BUILTIN_PERTURBATIONS)
    for name in probe.params.perturbations:
        first = probe._perturb(name, texts, rows, seed=0)
        assert first == probe._perturb(name, texts, rows, seed=0)
        changed = sum(a != b for a, b in zip(texts, first, strict=True))
        assert changed > 0, name
    typos = probe._perturb("typos", texts, rows, seed=0)
    assert all(a != b for a, b in zip(texts, typos, strict=True))  # every review has letters
    assert probe._perturb("typos", texts, rows, seed=1) != typos
    # an item's edit depends on its row id, not on the other items analysed
    assert probe._perturb("drop_words", texts[5:9], rows[5:9], seed=0) == probe._perturb(
        "drop_words", texts, rows, seed=0)[5:9]
    stronger = Robustness(RobustnessParams(rate=0.3))._perturb("typos", texts, rows, seed=0)
    assert np.mean([len(t) for t in stronger]) != np.mean([len(t) for t in typos])


def suite(tmp_path, analyses):
    return {"name": "robust", "models": ["all-MiniLM-L6-v2"], "baselines": ["tfidf"],
            "tasks": ["sentiment-yelp"], "strategies": ["probe"], "analyses": analyses,
            "output_dir": str(tmp_path / "out")}


@pytest.mark.slow
def test_robustness_end_to_end_on_a_minilm_probe(tmp_path, one_torch_thread):
    chosen = ["drop_punctuation", "drop_words", "lowercase", "swap_gender", "typos", "uppercase"]
    analyses = [{"name": "robustness", "perturbations": chosen},
                {"name": "robustness", "max_items": 40,
                               "perturbations": ["typos", "swap_gender"], "rate": 0.2}]
    res = adapteval.run(suite(tmp_path, analyses))
    stored = stored_predictions(tmp_path / "out")
    full = [r for r in res.analysis("robustness") if r.config["max_items"] is None]
    assert {r.model for r in full} == {"all-MiniLM-L6-v2", "tfidf"}
    for row in full:
        got = row.result
        p = stored[(row.model, "sentiment-yelp", "probe")]
        assert got["clean_accuracy"] == pytest.approx(accuracy(p))
        assert got["n_items"] == len(p.y_true) == 125
        names = [q["name"] for q in got["perturbations"]]
        assert names == chosen
        for q in got["perturbations"]:
            assert 0.0 <= q["flip_rate"] <= q["changed_fraction"] <= 1.0
            assert q["drop"] == pytest.approx(got["clean_accuracy"] - q["accuracy"])
        typos = next(q for q in got["perturbations"] if q["name"] == "typos")
        assert typos["changed_fraction"] == 1.0
        assert got["worst_drop"] == max(q["drop"] for q in got["perturbations"])
        assert got["flip_rate"] == pytest.approx(np.mean([q["flip_rate"] for q in
                                                         got["perturbations"]]))
        for e in got["examples"]:
            assert e["original"] != e["perturbed"]
    minilm = next(r.result for r in full if r.model == "all-MiniLM-L6-v2")
    assert minilm["clean_accuracy"] > 0.75
    assert any(e["before"] != e["after"] for e in minilm["examples"])  # flips are shown first

    small = [r.result for r in res.analysis("robustness") if r.config["max_items"] == 40]
    assert all(r["n_items"] == 40 and len(r["perturbations"]) == 2 for r in small)
    assert all(r["rate"] == 0.2 for r in small)

    again = adapteval.run(suite(tmp_path, analyses))  # cached: same stored results
    assert [r.result for r in again.analysis("robustness")] == [
        r.result for r in res.analysis("robustness")]


def test_unknown_perturbation_is_a_config_error_before_any_work(tmp_path):
    with pytest.raises(ConfigError, match="unknown perturbation 'typo'.*did you mean 'typos'"):
        adapteval.run(suite(tmp_path, [{"name": "robustness", "perturbations": ["typo"]}]))
    assert not (tmp_path / "out").exists()
