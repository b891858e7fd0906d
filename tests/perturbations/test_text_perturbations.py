"""Seeded text perturbations: determinism, built-ins and the registry."""

from __future__ import annotations

import csv
import re
import string
from pathlib import Path

import numpy as np
import pytest

from adapteval.core.errors import ConfigError, DataError
from adapteval.perturbations.edits import is_negation
from adapteval.perturbations.registry import (
    BUILTIN_PERTURBATIONS,
    Perturbation,
    get_perturbation,
    list_perturbations,
    perturb_texts,
    register_perturbation,
)

YELP = Path("/work/shared/data/sentiment-sentences/yelp_labelled.txt")
TYPICAL = "Maria said the large pizza didn't cost 12 dollars, and it is not bad at all!"
RATED = sorted(n for n, (_, _, rate) in BUILTIN_PERTURBATIONS.items() if rate is not None)


@pytest.fixture(scope="module")
def yelp() -> list[str]:
    if not YELP.exists():
        pytest.skip(f"{YELP} is not available")
    with YELP.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert all(len(row) == 2 and row[1] in {"0", "1"} for row in rows)
    return [row[0] for row in rows]


def _one(text: str, name: str, seed: int = 0, **kw: object) -> str:
    return perturb_texts([text], name, seed=seed, **kw)[0]  # type: ignore[arg-type]


# -- determinism -----------------------------------------------------------------------


@pytest.mark.parametrize("name", RATED)
def test_same_seed_same_output_different_seed_different_output(name: str) -> None:
    text = " ".join([TYPICAL] * 6)
    assert _one(text, name, seed=3) == _one(text, name, seed=3)
    if name in {"typos", "random_case", "drop_words", "swap_words", "extra_whitespace"}:
        assert _one(text, name, seed=3) != _one(text, name, seed=4)


def test_output_is_independent_of_batch_composition(yelp: list[str]) -> None:
    texts = yelp[:40]
    full = perturb_texts(texts, "typos", seed=5, rate=0.1)
    changed = list(texts)
    changed[1] = "something else entirely"
    del changed[30:]
    partial = perturb_texts(changed, "typos", seed=5, rate=0.1)
    assert partial[0] == full[0]
    assert partial[2:] == full[2:30]
    # Chunked processing with start= gives the same output as one call.
    chunks = perturb_texts(texts[:17], "typos", seed=5, rate=0.1) + perturb_texts(
        texts[17:], "typos", seed=5, rate=0.1, start=17
    )
    assert chunks == full


def test_perturbation_name_is_part_of_the_seed() -> None:
    text = " ".join([TYPICAL] * 4)
    a = perturb_texts([text], "random_case", seed=0)[0]
    register_perturbation(
        "test_perturbations_case_copy",
        get_perturbation("random_case").fn,
        "same function, other name",
        default_rate=0.1,
        replace=True,
    )
    assert perturb_texts([text], "test_perturbations_case_copy", seed=0)[0] != a


# -- every built-in --------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUILTIN_PERTURBATIONS))
def test_builtin_changes_typical_sentence_and_keeps_empty_string(name: str) -> None:
    for seed in range(5):
        assert _one(TYPICAL, name, seed=seed) != TYPICAL
    assert _one("", name) == ""
    assert isinstance(get_perturbation(name), Perturbation)
    assert get_perturbation(name).description


@pytest.mark.parametrize("name", RATED)
def test_rate_zero_is_identity(name: str) -> None:
    assert _one(TYPICAL, name, rate=0.0) == TYPICAL


def test_builtins_are_listed() -> None:
    assert set(BUILTIN_PERTURBATIONS) <= set(list_perturbations())
    assert list_perturbations() == sorted(list_perturbations())


def test_most_real_sentences_change_under_typos(yelp: list[str]) -> None:
    texts = yelp[:200]
    out = perturb_texts(texts, "typos", seed=0)
    assert len(out) == len(texts)
    assert sum(a != b for a, b in zip(texts, out, strict=True)) == len(texts)


# -- specific behaviour ----------------------------------------------------------------


def _negations(text: str) -> list[str]:
    return [t for t in text.split() if is_negation(t)]


def test_word_drop_never_removes_negations(yelp: list[str]) -> None:
    with_neg = [t for t in yelp if _negations(t)]
    assert len(with_neg) > 50
    for seed in range(3):
        out = perturb_texts(with_neg, "drop_words", seed=seed, rate=0.5)
        for before, after in zip(with_neg, out, strict=True):
            assert _negations(after) == _negations(before)
            assert len(after.split()) < len(before.split()) or len(before.split()) == 1
    assert _one("This is not good", "drop_words", rate=1.0) == "not"
    assert _one("I never said no", "drop_words", rate=1.0) == "never no"
    assert _one("Nothing", "drop_words", rate=1.0) == "Nothing"


def test_word_swap_keeps_words_and_negation_positions(yelp: list[str]) -> None:
    for text in yelp[:100]:
        out = _one(text, "swap_words", rate=0.3)
        assert sorted(re.findall(r"\w+", out)) == sorted(re.findall(r"\w+", text))
        positions = [i for i, t in enumerate(text.split()) if is_negation(t)]
        assert [i for i, t in enumerate(out.split()) if is_negation(t)] == positions


def test_name_substitution_changes_names_and_keeps_other_words() -> None:
    text = "Yesterday Maria met David at the cafe, and MARIA paid. It was May."
    out = _one(text, "swap_names")
    old, new = text.split(), out.split()
    assert len(new) == len(old)
    changed = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
    assert changed == [1, 3, 8]  # Maria, David, MARIA; "May" is not a name here
    assert new[1][0].isupper() and new[1][1:].islower()
    assert new[8].rstrip(".").isupper()
    assert new[8].rstrip(".").lower() == new[1].lower()  # the same name both times
    assert new[1] != "Maria" and new[3] != "David"
    assert _one("maria is lowercase here", "swap_names") == "maria is lowercase here"


def test_casing_does_what_it_says() -> None:
    assert _one(TYPICAL, "lowercase") == TYPICAL.lower()
    assert _one(TYPICAL, "uppercase") == TYPICAL.upper()
    flipped = _one(TYPICAL, "random_case", rate=0.3)
    assert flipped.lower() == TYPICAL.lower() and flipped != TYPICAL
    assert _one(TYPICAL, "random_case", rate=1.0) == TYPICAL.swapcase()


def test_punctuation_loss_removes_punctuation_only() -> None:
    out = _one(TYPICAL, "drop_punctuation")
    assert not any(c in string.punctuation for c in out)
    assert out == "".join(c for c in TYPICAL if c not in string.punctuation)
    partial = _one("a, b, c, d, e, f, g, h, i, j.", "drop_punctuation", rate=0.5)
    assert sum(c in string.punctuation for c in partial) == 5


def test_whitespace_noise_only_adds_spaces() -> None:
    out = _one(TYPICAL, "extra_whitespace", rate=0.5)
    assert out.split() == TYPICAL.split()
    assert len(out) > len(TYPICAL)


def test_number_change_keeps_length_and_text() -> None:
    text = "We waited 45 minutes for 2 burgers that cost $13.50."
    out = _one(text, "change_numbers")
    assert re.sub(r"\d", "#", out) == re.sub(r"\d", "#", text)
    new_numbers = re.findall(r"\d+", out)
    assert all(a != b for a, b in zip(new_numbers, ["45", "2", "13", "50"], strict=True))


def test_synonym_swap_uses_the_table_and_keeps_case() -> None:
    out = _one("Large portions and the waiter came quickly.", "swap_synonyms", rate=1.0)
    assert out == "Big portions and the server came rapidly."


def test_contractions_expand_and_contract() -> None:
    assert _one("I DON'T think it\u2019s bad", "expand_contractions") == "I DO NOT think it is bad"
    # "'s" before "been" stands for "has" and is left alone.
    assert _one("It's been fine.", "expand_contractions") == "It's been fine."
    assert _one("It is what it is.", "add_contractions") == "It's what it is."
    assert _one("I do not know, we are late", "add_contractions") == "I don't know, we're late"
    # "let us" and "I have" are never contracted.
    text = "Let us know if I have time."
    assert _one(text, "add_contractions") == text


def test_typos_touch_letters_only() -> None:
    text = "12345 ... !!!"
    assert _one(text, "typos", rate=1.0) == text
    out = _one("keyboard", "typos", rate=0.5)
    assert out != "keyboard" and abs(len(out) - 8) <= 4


# -- registry --------------------------------------------------------------------------


def test_user_registration() -> None:
    def reverse(text: str, rng: np.random.Generator) -> str:
        return text[::-1]

    p = register_perturbation("test_perturbations_reverse", reverse, "reverse the text")
    assert p.name == "test_perturbations_reverse" and not p.takes_rate
    assert "test_perturbations_reverse" in list_perturbations()
    assert perturb_texts(["abc", ""], "test_perturbations_reverse", seed=0) == ["cba", ""]
    with pytest.raises(ConfigError, match="already registered"):
        register_perturbation("test_perturbations_reverse", reverse, "again")
    with pytest.raises(ConfigError, match="takes no rate"):
        perturb_texts(["abc"], "test_perturbations_reverse", seed=0, rate=0.5)

    def shout(text: str, rng: np.random.Generator, rate: float = 1.0) -> str:
        return text.upper() if rng.random() < rate else text

    register_perturbation(
        "test_perturbations_reverse", shout, "maybe shout", default_rate=1.0, replace=True
    )
    assert get_perturbation("test_perturbations_reverse").description == "maybe shout"
    assert perturb_texts(["abc"], "test_perturbations_reverse", seed=0) == ["ABC"]
    assert perturb_texts(["abc"], "test_perturbations_reverse", seed=0, rate=0.0) == ["abc"]


def test_unknown_name_lists_available_perturbations() -> None:
    with pytest.raises(ConfigError) as info:
        get_perturbation("typo")
    message = str(info.value)
    assert "unknown perturbation 'typo'" in message
    assert "did you mean 'typos'" in message
    for name in BUILTIN_PERTURBATIONS:
        assert name in message
    with pytest.raises(ConfigError, match="unknown perturbation"):
        perturb_texts(["x"], "no_such_perturbation", seed=0)


@pytest.mark.parametrize(
    ("kwargs", "error", "word"),
    [
        ({"seed": -1}, ConfigError, "seed"),
        ({"seed": 1.5}, ConfigError, "seed"),
        ({"seed": 0, "rate": 1.5}, ConfigError, "rate"),
        ({"seed": 0, "rate": "high"}, ConfigError, "rate"),
        ({"seed": 0, "start": -3}, ConfigError, "start"),
    ],
)
def test_bad_arguments(kwargs: dict, error: type[Exception], word: str) -> None:
    with pytest.raises(error, match=word):
        perturb_texts(["some text"], "typos", **kwargs)


def test_bad_texts_and_registrations() -> None:
    with pytest.raises(DataError, match="not one string"):
        perturb_texts("a single string", "typos", seed=0)
    with pytest.raises(DataError, match=re.escape("texts[1]")):
        perturb_texts(["ok", 3], "typos", seed=0)  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="callable"):
        register_perturbation("test_perturbations_bad", "not a function", "x")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="rate"):
        register_perturbation("test_perturbations_bad", str.upper, "x", default_rate=2.0)
    register_perturbation("test_perturbations_none", lambda text, rng: None, "returns None")  # type: ignore[arg-type, return-value]
    with pytest.raises(ConfigError, match="not str"):
        perturb_texts(["x"], "test_perturbations_none", seed=0)
