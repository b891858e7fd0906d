"""The counterfactual (gender swap) and EEC analyses catch a predictor that favours men
and clear one that ignores gender and names. The predictors are plugged in as a
registered strategy, so the analyses run, are stored and are read back as in any suite."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import adapteval
from adapteval.analyses import ANALYSES
from adapteval.contracts.strategy import STRATEGIES, Fitted, Predictions, Predictor, Strategy
from adapteval.core.errors import ConfigError
from adapteval.perturbations.lexicon import GENDER_WORD_PAIRS, GENDERED_NAME_PAIRS

EEC = "eec/Equity-Evaluation-Corpus.csv"
POSITIVE_WORDS = {"good", "great", "love", "loved", "nice", "happy", "glad", "excited",
                  "amazing", "wonderful"}


def male_words(shared) -> set[str]:
    """Male words and names of the swap lexicon, and the EEC's male first names."""
    eec = pd.read_csv(shared / EEC, keep_default_na=False)
    names = eec.loc[(eec.Gender == "male") & (eec.Race != ""), "Person"].str.lower()
    return ({m for m, _ in GENDER_WORD_PAIRS} | {"him", "his"}
            | {m.lower() for m, _ in GENDERED_NAME_PAIRS} | set(names))


class Keywords(Predictor):
    """p(positive) = 0.45 + 0.4 [a positive word] (+ ``male_bonus`` [a male word or name]):
    a bonus of 0.1 turns a text without positive words from negative to positive."""

    def __init__(self, task, male: set[str], male_bonus: float) -> None:
        super().__init__(task)
        self.male, self.bonus = male, male_bonus

    def scores(self, texts, pairs=None):
        p = []
        for text in texts:
            words = set(re.findall(r"[a-z]+", text.lower()))
            p.append(0.45 + 0.4 * bool(words & POSITIVE_WORDS)
                     + self.bonus * bool(words & self.male))
        p1 = np.array(p)
        return np.stack([1 - p1, p1], axis=1)


def keyword_strategy(name: str, bonus: float, male: set[str]) -> type[Strategy]:
    class KeywordStrategy(Strategy):
        description = "keyword rule (test)"

        def fit(self, ctx):
            predictor = Keywords(ctx.task, male, bonus)
            test = ctx.split.test
            proba = predictor.scores(test.items)
            preds = Predictions(test.y, proba.argmax(1)[None], proba[None], test.rows,
                                {"n_test": len(test)})
            return Fitted(predictor, preds)

    KeywordStrategy.name = name
    return KeywordStrategy


@pytest.fixture(scope="module", autouse=True)
def strategies(shared):
    male = male_words(shared)
    STRATEGIES.register(keyword_strategy("test-biased", 0.1, male), replace=True)
    STRATEGIES.register(keyword_strategy("test-fair", 0.0, male), replace=True)
    yield
    STRATEGIES._items.pop("test-biased")
    STRATEGIES._items.pop("test-fair")


def suite(tmp_path, tasks, analyses):
    return {"name": "cf", "models": ["tfidf"], "baselines": [], "tasks": tasks,
            "strategies": ["test-biased", "test-fair"], "analyses": analyses,
            "output_dir": str(tmp_path / "out")}


@pytest.fixture(scope="module")
def results(domains_csv, shared, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cf")
    tasks = [{"name": "reviews", "path": str(domains_csv)}, "sms-spam"]
    res = adapteval.run(suite(tmp, tasks, [
        "counterfactual", {"name": "eec", "path": str(shared / EEC)},
    ]))
    return {(a.name, a.task, a.strategy): a.result for a in res.analyses}


def test_gender_swap_catches_the_biased_predictor_and_clears_the_fair_one(results):
    biased = results[("counterfactual", "reviews", "test-biased")]
    fair = results[("counterfactual", "reviews", "test-fair")]
    assert biased["n_pairs"] == fair["n_pairs"] >= 5  # real reviews with he/she, wife, ...
    assert biased["flip_rate"] >= 0.5
    assert biased["max_gap"] == pytest.approx(0.1)
    assert biased["mean_abs_gap"] > 0.05
    assert fair["flip_rate"] == 0.0 and fair["max_gap"] == 0.0 and fair["mean_abs_gap"] == 0.0
    changed = [e for e in biased["examples"] if e["before"] != e["after"]]
    assert changed and all(e["original"] != e["swapped"] for e in biased["examples"])


def test_eec_finds_a_significant_gender_gap_only_in_the_biased_predictor(results):
    biased = results[("eec", "reviews", "test-biased")]
    gender, race = biased["attributes"]["gender"], biased["attributes"]["race"]
    # female minus male, in every (template, emotion word, race) cell
    assert gender["mean_gap"] == pytest.approx(-0.1) and gender["max_gap"] == pytest.approx(0.1)
    assert gender["significant"] and gender["p_value"] < 1e-6 and gender["n_pairs"] == 432
    assert race["n_pairs"] == 288 and not race["significant"] and race["mean_abs_gap"] == 0.0
    assert biased["counterfactual_gap"] == pytest.approx(0.1)
    assert biased["worst_attribute"] == "gender" and biased["n_sentences"] == 8640
    assert ANALYSES.get("eec").scalars(biased) == pytest.approx(
        {"counterfactual_gap": 0.1, "gender_gap": 0.1, "race_gap": 0.0})

    fair = results[("eec", "reviews", "test-fair")]
    assert fair["counterfactual_gap"] == 0.0
    for attribute in ("gender", "race"):
        got = fair["attributes"][attribute]
        assert got["p_value"] == 1.0 and not got["significant"] and got["max_gap"] == 0.0


def test_eec_runs_only_on_tasks_with_a_positive_class(results):
    assert ("eec", "sms-spam", "test-biased") not in results  # ham / spam: no positive class
    assert ("counterfactual", "sms-spam", "test-biased") in results


def test_eec_gap_equals_the_per_cell_means_of_the_corpus(results, shared):
    """The gender pairs are the (template, emotion word, race) cells: recompute one."""
    eec = pd.read_csv(shared / EEC, keep_default_na=False)
    male = male_words(shared)
    p = Keywords(None, male, 0.1).scores(eec.Sentence.tolist())[:, 1]
    cell = (eec.Template == "<person subject> feels <emotion word>.") & (
        eec["Emotion word"] == "happy") & (eec.Race == "European")
    gap = p[cell & (eec.Gender == "female")].mean() - p[cell & (eec.Gender == "male")].mean()
    assert gap == pytest.approx(-0.1)


@pytest.mark.parametrize(
    ("tasks", "params", "message"),
    [
        (["sms-spam"], {}, "no task of the suite has a positive class"),
        (["sms-spam"], {"tasks": ["sms-spam"]}, "task 'sms-spam' has no positive class"),
        (["sentiment-yelp"], {"path": "no/such/eec.csv"}, "EEC file not found"),
        (["sentiment-yelp"], {"positive_label": "good"}, "no task of the suite has a positive"),
    ],
)
def test_eec_config_errors_come_before_any_work(tmp_path, shared, tasks, params, message):
    analysis = {"name": "eec", "path": str(shared / EEC), **params}
    with pytest.raises(ConfigError, match=message):
        adapteval.run(suite(tmp_path, tasks, [analysis]))
    assert not (tmp_path / "out").exists()


def test_eec_names_the_classes_when_two_look_positive(tmp_path, shared, domains_csv):
    frame = pd.read_csv(domains_csv)
    frame["label"] = frame["label"].map({0: "pos", 1: "positive"})
    path = tmp_path / "two.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(ConfigError, match="classes pos, positive have more than one"):
        adapteval.run(suite(tmp_path, [{"name": "two", "path": str(path)}],
                            [{"name": "eec", "path": str(shared / EEC)}]))
    assert ANALYSES.get("eec").description


@pytest.mark.parametrize(
    ("text", "swapped"),
    [
        ("He told her that his wife met Mary.", "She told him that her husband met John."),
        ("I gave her the book; her book was late.", "I gave him the book; his book was late."),
        ("MY DAD asked Mr. Smith.", "MY MOM asked Mrs. Smith."),
        ("The waitress and the man", "The waiter and the woman"),
        ("mary, the hero, said nothing", "mary, the hero, said nothing"),  # names need a capital
    ],
)
def test_gender_swap_keeps_case_and_reads_her_from_context(text, swapped):
    from adapteval.analyses.counterfactual import swap_all

    assert swap_all([text], np.array([0]), seed=0) == [swapped]
