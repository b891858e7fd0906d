"""Checks of what a plugin declares: its name, description, modalities, task types and
the numbers it offers to acceptance criteria."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from adapteval.core.plugin import MODALITIES, TASK_TYPES, Number

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")
"""A plugin name: what a suite writes after ``name:`` (no spaces, slashes or colons)."""


def _label(plugin: Any) -> str:
    return repr(getattr(plugin, "name", plugin))


def check_name(plugin: Any, key: str | None = None) -> None:
    """``name`` is a non-empty identifier-like string, equal to its registry key."""
    name = getattr(plugin, "name", None)
    assert isinstance(name, str) and name, f"name must be a non-empty string, got {name!r}"
    assert NAME.fullmatch(name), (
        f"name {name!r} is not identifier-like (letters, digits, '_', '-', '.'; "
        "starting with a letter)")
    if key is not None:
        assert name == key, f"registered under {key!r} but its name is {name!r}"


def check_description(plugin: Any) -> None:
    """``description`` is one non-empty line (``adapteval list`` shows it)."""
    text = getattr(plugin, "description", None)
    assert isinstance(text, str) and text.strip(), (
        f"{_label(plugin)} has no description (one line for `adapteval list`)")
    assert "\n" not in text.strip(), f"{_label(plugin)}'s description is not one line"


def _vocabulary(plugin: Any, attribute: str, allowed: tuple[str, ...]) -> None:
    values = getattr(plugin, attribute, None)
    assert values is not None, f"{_label(plugin)} does not declare {attribute}"
    assert not isinstance(values, str), (
        f"{attribute} of {_label(plugin)} is a string ({values!r}), not a set of names")
    values = set(values)
    assert values, f"{_label(plugin)} declares no {attribute}"
    unknown = sorted(values - set(allowed))
    assert not unknown, (
        f"{attribute} of {_label(plugin)} has unknown names {unknown}; "
        f"valid: {', '.join(allowed)}")


def check_modalities(plugin: Any) -> None:
    """``modalities`` is a non-empty subset of :data:`adapteval.core.plugin.MODALITIES`."""
    _vocabulary(plugin, "modalities", MODALITIES)


def check_task_types(plugin: Any) -> None:
    """``task_types`` is a non-empty subset of :data:`adapteval.core.plugin.TASK_TYPES`."""
    _vocabulary(plugin, "task_types", TASK_TYPES)


def check_offers(plugin: Any) -> None:
    """Every offered number is a :class:`Number` with ``low <= high`` (no NaN bounds)
    and a direction of True, False or None; names are identifier-like."""
    offers = getattr(plugin, "offers", {})
    assert isinstance(offers, Mapping), f"offers of {_label(plugin)} must be a mapping"
    for key, number in offers.items():
        assert isinstance(key, str) and NAME.fullmatch(key), (
            f"offered number name {key!r} of {_label(plugin)} is not identifier-like")
        _valid_number(f"offers[{key!r}] of {_label(plugin)}", number)


def _valid_number(what: str, number: Any) -> None:
    assert isinstance(number, Number), f"{what} is {type(number).__name__}, not a Number"
    assert not (math.isnan(number.low) or math.isnan(number.high)), f"{what} has a NaN bound"
    assert number.low <= number.high, f"{what}: low {number.low} > high {number.high}"
    assert number.higher_is_better in (True, False, None), (
        f"{what}: higher_is_better must be True, False or None")


def check_provides_are_offered(plugin: Any) -> None:
    """An analysis that provides numbers to criteria declares each of them in ``offers``
    (range and direction), so a rule on it is checked when the plan is built."""
    provides = tuple(getattr(plugin, "provides", ()) or ())
    missing = sorted(set(provides) - set(getattr(plugin, "offers", {}) or {}))
    assert not missing, (
        f"{_label(plugin)} provides {missing} but does not declare them in offers")


def check_number(plugin: Any) -> None:
    """A plugin that is itself one number (a metric) declares a valid :class:`Number`."""
    _valid_number(f"{_label(plugin)}.number", getattr(plugin, "number", None))
