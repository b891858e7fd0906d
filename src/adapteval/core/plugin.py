"""The one contract every plugin kind shares.

A plugin (a strategy, model kind, analysis, metric, perturbation, transferability
estimator, task reader or report section) is registered once, under its own ``name``,
in the registry of its kind (:class:`adapteval.core.registry.Registry`), and says:

- ``description``: one line for ``adapteval list`` and the docs;
- ``Params``: its typed parameters (a pydantic model; unknown keys are errors), parsed
  by :func:`parse_params` into one-line errors;
- ``modalities``: the kinds of input item it handles (``text``, ``text_pair``, ...);
- ``task_types``: ``binary``, ``multiclass``, ``regression``;
- ``offers``: every number it offers to acceptance criteria, with its range and which
  way is better (:class:`Number`), so a rule on it is checked when the plan is built.

Third parties add plugins through the entry-point group ``adapteval.<registry name>``
(for example ``adapteval.strategies``). :mod:`adapteval.testing` checks any plugin
against this contract.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from adapteval.core.errors import ConfigError

TEXT, TEXT_PAIR, IMAGE = "text", "text_pair", "image"
MODALITIES = (TEXT, TEXT_PAIR, IMAGE)
"""Input modalities a task may declare; a new modality adds its name here.

An ``image`` item is a ``numpy.ndarray`` of dtype uint8 and shape (height, width, 3),
RGB: readers decode every source (grayscale, RGBA, palette, 16-bit) to it, so model
kinds, corruptions and the feature cache (``core.keys.item_key``) see one form."""
TEXT_MODALITIES = (TEXT, TEXT_PAIR)
TASK_TYPES = ("binary", "multiclass", "regression")


@dataclass(frozen=True)
class Number:
    """A number offered to acceptance criteria: its closed range and its direction.

    ``higher_is_better`` is None for numbers with no better side (a count, a size that
    a rule may bound either way)."""

    low: float = -math.inf
    high: float = math.inf
    higher_is_better: bool | None = True
    description: str = ""

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


UNIT = Number(0.0, 1.0)
"""A share or score in [0, 1], higher better (accuracy, retention)."""
UNIT_LOWER = Number(0.0, 1.0, higher_is_better=False)
"""A rate or error in [0, 1], lower better (flip rate, ECE, a fairness gap)."""
NONNEGATIVE_LOWER = Number(0.0, math.inf, higher_is_better=False)
"""A cost or loss in [0, inf), lower better (latency, log loss)."""


class Params(BaseModel):
    """Base of plugin parameters: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_params(schema: type[Params], params: Mapping[str, Any], *, owner: str,
                 where: str | None, extra_keys: tuple[str, ...] = ()) -> Params:
    """``params`` validated by ``schema``; the first problem is one ``ConfigError`` line
    naming the parameter, the bad value and the valid parameters of ``owner``."""
    try:
        return schema.model_validate(dict(params))
    except ValidationError as err:
        e = err.errors(include_url=False)[0]
        key = ".".join(map(str, e["loc"]))
        if e["type"] == "extra_forbidden":
            valid = [*extra_keys, *schema.model_fields]
            raise ConfigError(
                f"unknown parameter {key!r} of {owner}", where=where,
                fix=f"valid parameters: {', '.join(valid) or 'none'}",
            ) from None
        msg = e["msg"]
        raise ConfigError(f"{key}: {msg[0].lower()}{msg[1:]}", where=where,
                          value=e.get("input")) from None


class Plugin:
    """Base of class-style plugins (strategies, analyses, model kinds, readers, sections).

    A subclass sets ``name`` and what it differs in; an instance holds validated
    ``params``. ``config()`` is the plugin's identity (it keys stored results) and
    ``from_params(config_without_name)`` rebuilds an equal plugin.
    """

    kind: ClassVar[str] = "plugin"
    name: ClassVar[str]
    description: ClassVar[str] = ""
    Params: ClassVar[type[Params]] = Params
    modalities: ClassVar[frozenset[str]] = frozenset(MODALITIES)
    task_types: ClassVar[frozenset[str]] = frozenset(TASK_TYPES)
    offers: ClassVar[Mapping[str, Number]] = {}

    def __init__(self, params: Params | None = None) -> None:
        self.params = params if params is not None else type(self).Params()

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None = None, *,
                    where: str | None = None) -> Plugin:
        return cls(parse_params(cls.Params, params or {}, owner=f"{cls.kind} {cls.name!r}",
                                where=where))

    def config(self) -> dict[str, Any]:
        return {"name": self.name, **self.params.model_dump(mode="json")}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.model_dump().items())
        return f"{type(self).__name__}({args})"
