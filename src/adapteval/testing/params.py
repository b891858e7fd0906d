"""Checks of a plugin's parameters: default construction, the config round trip and
one-line errors for a bad parameter.

Class-style plugins (:class:`adapteval.core.plugin.Plugin`) are built with
``from_params``; plugins that only declare a ``Params`` schema (metrics, perturbations,
estimators) are checked through :func:`adapteval.core.plugin.parse_params`.
"""

from __future__ import annotations

import json
import typing
from typing import Any

from pydantic import ValidationError

from adapteval.core.errors import ConfigError
from adapteval.core.plugin import Params, parse_params

UNKNOWN = "no_such_parameter_xyz"
WRONG_VALUES: tuple[Any, ...] = ({"wrong": ["type"]}, "wrong-type-value", [["wrong"]])
"""Values tried, in order, as a wrong type for a typed parameter."""


def plugin_class(plugin: Any) -> type:
    return plugin if isinstance(plugin, type) else type(plugin)


def schema(plugin: Any) -> type[Params]:
    params = getattr(plugin, "Params", None)
    assert isinstance(params, type) and issubclass(params, Params), (
        f"{getattr(plugin, 'name', plugin)!r}: Params must subclass adapteval.core.plugin.Params, "
        f"got {params!r}")
    return params


def build(plugin: Any, params: dict[str, Any]) -> Any:
    """The plugin built from ``params``: ``from_params`` when it has one, else the
    validated ``Params``."""
    cls = plugin_class(plugin)
    if hasattr(cls, "from_params"):
        return cls.from_params(params, where="conformance")
    return parse_params(schema(plugin), params, owner=f"{getattr(plugin, 'name', '?')!r}",
                        where="conformance")


def config_of(built: Any) -> dict[str, Any]:
    if hasattr(built, "config"):
        return built.config()
    return built.model_dump(mode="json")


SAMPLES: dict[Any, Any] = {str: "example", int: 1, float: 1.0, bool: False}


def required(plugin: Any) -> dict[str, Any]:
    """A plain value for each parameter without a default (a user must give it), so the
    other checks can build the plugin; an empty dict for a fully defaulted plugin."""
    out = {}
    for name, info in schema(plugin).model_fields.items():
        if info.is_required():
            options = [info.annotation, *typing.get_args(info.annotation)]
            out[name] = next((SAMPLES[t] for t in options if t in SAMPLES), "example")
    return out


def default_instance(plugin: Any) -> Any:
    """An instance with default parameters, and sample values for required ones (the
    plugin itself when it is not a class)."""
    return build(plugin, required(plugin)) if isinstance(plugin, type) else plugin


def check_default_construction(plugin: Any) -> None:
    """The plugin builds with no parameters at all (every parameter has a default)."""
    missing = sorted(required(plugin))
    assert not missing, f"parameters without a default: {', '.join(missing)}"
    try:
        built = build(plugin, {})
    except ConfigError as err:
        raise AssertionError(f"cannot be built with default parameters: {err.one_line()}") from None
    if hasattr(plugin_class(plugin), "from_params"):
        assert isinstance(built, plugin_class(plugin)), (
            f"from_params returned {type(built).__name__}, not {plugin_class(plugin).__name__}")


def _declares_params(plugin: Any) -> bool:
    """Whether there is a schema to check (its absence fails the default construction)."""
    p = getattr(plugin, "Params", None)
    return isinstance(p, type) and issubclass(p, Params)


def check_params_roundtrip(plugin: Any) -> None:
    """``config()`` is JSON (it keys stored results) and building from it minus ``name``
    gives an equal config."""
    if not _declares_params(plugin):
        return
    config = config_of(build(plugin, required(plugin)))
    assert isinstance(config, dict), f"config() returned {type(config).__name__}, not dict"
    if hasattr(plugin_class(plugin), "from_params"):
        assert config.get("name") == plugin.name, (
            f"config()['name'] is {config.get('name')!r}, not the plugin's name {plugin.name!r}")
    try:
        json.dumps(config, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise AssertionError(f"config() is not plain JSON: {err}") from None
    again = config_of(build(plugin, {k: v for k, v in config.items() if k != "name"}))
    assert again == config, f"config round trip changed it: {config} -> {again}"


def _one_line_naming(err: ConfigError, parameter: str) -> None:
    line = err.one_line()
    assert "\n" not in line, f"error is more than one line: {line!r}"
    assert parameter in line, f"error does not name the parameter {parameter!r}: {line!r}"


def check_unknown_parameter(plugin: Any) -> None:
    """An unknown parameter is a ConfigError, one line naming it."""
    if not _declares_params(plugin):
        return
    try:
        build(plugin, {**required(plugin), UNKNOWN: 1})
    except ConfigError as err:
        _one_line_naming(err, UNKNOWN)
    except Exception as err:  # noqa: BLE001 - the check reports any other error
        raise AssertionError(
            f"an unknown parameter raised {type(err).__name__}, not ConfigError: {err}") from None
    else:
        raise AssertionError(f"an unknown parameter {UNKNOWN!r} was accepted")


def wrong_value(params: type[Params], field: str) -> Any | None:
    """A value the schema rejects for ``field`` as a wrong type (None: it takes anything)."""
    for value in WRONG_VALUES:
        try:
            params.model_validate({field: value})
        except ValidationError as err:
            if any(tuple(e["loc"][:1]) == (field,) for e in err.errors()):
                return value
    return None


def typed_fields(params: type[Params]) -> list[str]:
    return [name for name, info in params.model_fields.items()
            if info.annotation not in (Any, object) and info.annotation is not typing.Any]


def check_wrong_type(plugin: Any) -> None:
    """A wrong type for each typed parameter is a ConfigError, one line naming it.
    Passes trivially for a plugin without typed parameters."""
    if not _declares_params(plugin):
        return
    params = schema(plugin)
    for field in typed_fields(params):
        value = wrong_value(params, field)
        if value is None:
            continue
        try:
            build(plugin, {**required(plugin), field: value})
        except ConfigError as err:
            _one_line_naming(err, field)
        except Exception as err:  # noqa: BLE001
            raise AssertionError(
                f"{field}={value!r} raised {type(err).__name__}, not ConfigError: {err}") from None
        else:
            raise AssertionError(f"{field}={value!r} (a wrong type) was accepted")
