"""Checks that plugins cross process boundaries: worker processes and Ray actors receive
them pickled, and must rebuild the very same plugin."""

from __future__ import annotations

import dataclasses
import functools
import pickle
from typing import Any

from adapteval.testing.params import default_instance


def _reference(fn: Any) -> Any:
    if isinstance(fn, functools.partial):
        return ("partial", _reference(fn.func), fn.args, tuple(sorted(fn.keywords.items())))
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def identity(plugin: Any) -> Any:
    """What makes two plugins the same: ``config()`` for class-style plugins, the fields
    (functions by their qualified names) for dataclass-style ones."""
    if hasattr(plugin, "config"):
        return plugin.config()
    if dataclasses.is_dataclass(plugin):
        return {f.name: _reference(v) if callable(v) else v
                for f in dataclasses.fields(plugin) for v in [getattr(plugin, f.name)]}
    return repr(plugin)


def _roundtrip(obj: Any, what: str) -> Any:
    try:
        return pickle.loads(pickle.dumps(obj))
    except Exception as err:  # noqa: BLE001 - any failure is the finding
        raise AssertionError(
            f"{what} does not pickle ({type(err).__name__}: {err}); worker processes and "
            "Ray need it (define functions at module level, not as lambdas or closures)"
        ) from None


def check_pickles(plugin: Any) -> None:
    """A default instance pickles and unpickles to an equal identity."""
    instance = default_instance(plugin)
    clone = _roundtrip(instance, f"{type(instance).__name__} {getattr(plugin, 'name', '')!r}")
    assert type(clone) is type(instance), f"unpickled as {type(clone).__name__}"
    assert identity(clone) == identity(instance), (
        f"unpickled plugin differs: {identity(instance)} -> {identity(clone)}")


def check_params_pickle(plugin: Any) -> None:
    """The parameters of a default instance pickle to equal parameters."""
    params = getattr(default_instance(plugin), "params", None)
    assert params is not None, "a built plugin has no .params"
    clone = _roundtrip(params, f"Params of {getattr(plugin, 'name', plugin)!r}")
    assert clone == params, f"unpickled params differ: {params!r} -> {clone!r}"
