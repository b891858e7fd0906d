"""Seeded, reusable text perturbations for the robustness analyses.

A :class:`Perturbation` wraps a function ``(text, rng) -> str``. Perturbations live
in a registry: the built-ins below, ones added with :func:`register_perturbation`,
and ones that installed packages expose through the entry-point group
``adapteval.perturbations``.

:func:`perturb_texts` is deterministic per item: the generator for item ``i`` is
seeded from ``(seed, i, stable hash of the perturbation name)`` through
``numpy.random.SeedSequence``, so an item's output depends only on the seed, its
index and its text, never on the other items in the batch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from pydantic import Field

import adapteval.perturbations.edits as edits
from adapteval.core.checks import is_int, is_real
from adapteval.core.errors import ConfigError, DataError
from adapteval.core.plugin import TASK_TYPES, TEXT_MODALITIES, Params
from adapteval.core.registry import Registry

TextFn = Callable[..., str]


def _check_rate(rate: object, name: str) -> float:
    if not is_real(rate) or not 0.0 <= rate <= 1.0:  # type: ignore[operator]
        raise ConfigError(
            "rate must be a number in [0, 1]",
            where=f"perturbation {name!r}",
            value=rate,
            fix="rate is the fraction of candidate units (letters, words...) edited",
        )
    return float(rate)  # type: ignore[arg-type]


class PerturbationParams(Params):
    """What a caller may set per use: the severity, for perturbations that have one."""

    rate: float | None = Field(None, ge=0.0, le=1.0)


@dataclass(frozen=True)
class Perturbation:
    """A named text perturbation.

    ``fn(text, rng)`` returns the perturbed text. When ``default_rate`` is set, the
    perturbation has a severity knob: ``fn`` is called as ``fn(text, rng, rate=r)``
    with ``r`` in ``[0, 1]`` (``default_rate`` unless the caller gives one).
    """

    name: str
    description: str
    fn: TextFn
    default_rate: float | None = None
    Params: ClassVar[type[Params]] = PerturbationParams
    modalities: ClassVar[frozenset[str]] = frozenset(TEXT_MODALITIES)  # text, each side of a pair
    task_types: ClassVar[frozenset[str]] = frozenset(TASK_TYPES)

    @property
    def takes_rate(self) -> bool:
        return self.default_rate is not None

    def __call__(self, text: str, rng: np.random.Generator, *, rate: float | None = None) -> str:
        if not self.takes_rate:
            if rate is not None:
                raise ConfigError(
                    f"perturbation {self.name!r} takes no rate",
                    value=rate,
                    fix="drop the rate argument",
                )
            out = self.fn(text, rng)
        else:
            chosen = self.default_rate if rate is None else rate
            out = self.fn(text, rng, rate=_check_rate(chosen, self.name))
        if not isinstance(out, str):
            raise ConfigError(
                f"perturbation {self.name!r} returned {type(out).__name__}, not str",
                fix="make the perturbation function return the perturbed text",
            )
        return out


PERTURBATIONS: Registry[Perturbation] = Registry("perturbations")


def register_perturbation(
    name: str,
    fn: TextFn,
    description: str,
    *,
    default_rate: float | None = None,
    replace: bool = False,
) -> Perturbation:
    """Add a perturbation under ``name`` and return it.

    ``fn(text, rng)`` must return a string and draw all randomness from ``rng`` (a
    ``numpy.random.Generator``). Pass ``default_rate`` if ``fn`` also accepts a
    ``rate`` keyword. An existing name is a ``ConfigError`` unless ``replace=True``.
    """
    if not isinstance(name, str) or not name.strip():
        raise ConfigError("perturbation name must be a non-empty string", value=name)
    if not callable(fn):
        raise ConfigError(f"perturbation {name!r} needs a callable fn(text, rng) -> str", value=fn)
    if not isinstance(description, str):
        raise ConfigError(f"perturbation {name!r} needs a description string", value=description)
    if default_rate is not None:
        default_rate = _check_rate(default_rate, name)
    if name in PERTURBATIONS and not replace:
        raise ConfigError(
            f"a perturbation named {name!r} is already registered",
            fix="pick another name or pass replace=True",
        )
    item = Perturbation(name, description, fn, default_rate)
    return PERTURBATIONS.register(item, replace=True)


def get_perturbation(name: str) -> Perturbation:
    """The perturbation registered under ``name``; unknown names list the valid ones."""
    if not isinstance(name, str) or name not in PERTURBATIONS:
        raise ConfigError(
            f"unknown perturbation {name!r}",
            fix=PERTURBATIONS.suggestion(name if isinstance(name, str) else ""),
        )
    item = PERTURBATIONS.get(name)
    if isinstance(item, Perturbation):
        return item
    if callable(item):  # a bare function exposed through an entry point
        doc = (getattr(item, "__doc__", None) or "").strip().splitlines()
        return Perturbation(name, doc[0] if doc else "", item)
    raise ConfigError(
        f"perturbation {name!r} is not callable",
        value=item,
        fix="an entry point must load a Perturbation or a function (text, rng) -> str",
    )


def list_perturbations() -> list[str]:
    """Names of all registered perturbations, sorted."""
    return PERTURBATIONS.names()


def _name_key(name: str) -> int:
    """Stable 64-bit hash of a name (Python's ``hash`` is salted per process)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big")


def perturbation_rng(seed: int, index: int, name: str) -> np.random.Generator:
    """The generator :func:`perturb_texts` uses for item ``index``."""
    return np.random.default_rng(np.random.SeedSequence([seed, index, _name_key(name)]))


def perturb_texts(
    texts: Sequence[str],
    name: str,
    *,
    seed: int,
    rate: float | None = None,
    start: int = 0,
) -> list[str]:
    """Apply perturbation ``name`` to each text, reproducibly.

    Item ``i`` uses :func:`perturbation_rng` ``(seed, start + i, name)``; pass
    ``start`` when perturbing a dataset in chunks to get the same output as in one
    call. ``rate`` overrides the perturbation's default severity.
    """
    perturbation = get_perturbation(name)
    if not is_int(seed) or seed < 0:  # type: ignore[operator]
        raise ConfigError("seed must be an int >= 0", value=seed, fix="e.g. seed=0")
    if not is_int(start) or start < 0:  # type: ignore[operator]
        raise ConfigError("start must be an int >= 0", value=start)
    if isinstance(texts, str):
        raise DataError(
            "texts must be a sequence of strings, not one string",
            fix="wrap a single text in a list",
        )
    out = []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise DataError("each text must be a string", where=f"texts[{i}]", value=type(text))
        rng = perturbation_rng(int(seed), int(start) + i, name)
        out.append(perturbation(text, rng, rate=rate))
    return out


BUILTIN_PERTURBATIONS: dict[str, tuple[TextFn, str, float | None]] = {
    "typos": (
        edits.typos,
        "keyboard typos: QWERTY-neighbour substitution, deletion, insertion, swap",
        0.05,
    ),
    "lowercase": (edits.lowercase, "the whole text in lower case", None),
    "uppercase": (edits.uppercase, "the whole text in upper case", None),
    "random_case": (edits.random_case, "flip the case of some letters", 0.1),
    "drop_punctuation": (
        edits.drop_punctuation,
        "remove punctuation marks (all by default)",
        1.0,
    ),
    "drop_words": (edits.drop_words, "delete some words, never negations", 0.1),
    "swap_words": (
        edits.swap_words,
        "swap some neighbouring words, never negations",
        0.1,
    ),
    "extra_whitespace": (
        edits.extra_whitespace,
        "add spaces at some word boundaries",
        0.2,
    ),
    "swap_names": (
        edits.swap_names,
        "replace first names by names of other genders and cultures",
        1.0,
    ),
    "swap_gender": (
        edits.swap_gender,
        "swap gendered words and first names (he/she, his/her, John/Mary, ...)",
        1.0,
    ),
    "change_numbers": (
        edits.change_numbers,
        "replace numbers by others of the same length",
        1.0,
    ),
    "swap_synonyms": (
        edits.swap_synonyms,
        "replace common sentiment-neutral words by synonyms",
        0.5,
    ),
    "expand_contractions": (
        edits.expand_contractions,
        "expand contractions (didn't -> did not)",
        1.0,
    ),
    "add_contractions": (
        edits.add_contractions,
        "contract phrases (it is -> it's)",
        1.0,
    ),
}

for _name, (_fn, _description, _rate) in BUILTIN_PERTURBATIONS.items():
    register_perturbation(_name, _fn, _description, default_rate=_rate)


__all__ = [
    "BUILTIN_PERTURBATIONS",
    "Perturbation",
    "get_perturbation",
    "list_perturbations",
    "perturb_texts",
    "perturbation_rng",
    "register_perturbation",
]
