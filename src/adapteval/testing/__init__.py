"""Conformance checks for plugins, in the spirit of scikit-learn's ``check_estimator``.

Every check is a plain function that raises ``AssertionError`` with a message saying
what is wrong; they are split by concern (:mod:`~adapteval.testing.metadata`,
:mod:`~adapteval.testing.params`, :mod:`~adapteval.testing.pickling`,
:mod:`~adapteval.testing.batching`). :func:`check_plugin` runs every check that applies
to a plugin's kind and reports all failures at once; :func:`parametrize_plugins` makes
one pytest case per registered plugin::

    from adapteval.testing import check_plugin
    check_plugin(MyStrategy)                       # kind inferred from the base class

    @parametrize_plugins()
    def test_conforms(kind, name, plugin):
        check_plugin(plugin, kind, key=name)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from adapteval.suite.specs import ModelSpec
from adapteval.testing import batching, metadata, params, pickling
from adapteval.testing.registered import REGISTRIES, kind_of, registered

Check = Callable[[], None]

PARAMS = (params.check_default_construction, params.check_params_roundtrip,
          params.check_unknown_parameter, params.check_wrong_type)
DECLARED = (metadata.check_description, metadata.check_modalities, metadata.check_task_types,
            metadata.check_offers)
BY_KIND: dict[str, tuple[Callable[[Any], None], ...]] = {
    "strategy": (*PARAMS, pickling.check_pickles, pickling.check_params_pickle),
    "analysis": (metadata.check_provides_are_offered, *PARAMS, pickling.check_pickles,
                 pickling.check_params_pickle),
    "model_kind": (*PARAMS, pickling.check_pickles),
    "reader": (*PARAMS, pickling.check_pickles),
    "metric": (metadata.check_number, *PARAMS, pickling.check_pickles,
               batching.check_metric_replicates),
    "perturbation": (*PARAMS, pickling.check_pickles, batching.check_perturbation_items),
    "corruption": (*PARAMS, pickling.check_pickles, batching.check_corruption_items),
    "estimator": (*PARAMS, pickling.check_pickles, batching.check_estimator_deterministic),
    "section": (*PARAMS, pickling.check_pickles),
}
"""The checks of each kind beyond the name and declared metadata every plugin has."""


def checks_for(plugin: Any, kind: str | None = None, *, key: str | None = None,
               model_spec: ModelSpec | None = None,
               base_dir: Path | None = None) -> list[tuple[str, Check]]:
    """(check name, check bound to ``plugin``) for every check of its kind. A model kind
    gets the batching check only with a ``model_spec`` of a small model to load."""
    kind = kind or kind_of(plugin)
    out: list[tuple[str, Check]] = [("check_name", partial(metadata.check_name, plugin, key))]
    out += [(c.__name__, partial(c, plugin)) for c in (*DECLARED, *BY_KIND[kind])]
    if kind == "model_kind" and model_spec is not None:
        instance = params.default_instance(plugin)
        out.append(("check_model_kind_batching",
                    partial(batching.check_model_kind_batching, instance, model_spec, base_dir)))
    return out


def check_plugin(plugin: Any, kind: str | None = None, *, key: str | None = None,
                 model_spec: ModelSpec | None = None, base_dir: Path | None = None) -> None:
    """Run every check that applies to ``plugin``; one ``AssertionError`` lists each
    failing check and why. ``kind`` is inferred from the base class when omitted;
    ``key`` is the name it is registered under."""
    kind = kind or kind_of(plugin)
    failures = []
    for name, check in checks_for(plugin, kind, key=key, model_spec=model_spec,
                                  base_dir=base_dir):
        try:
            check()
        except AssertionError as err:
            failures.append(f"{name}: {err}")
        except Exception as err:  # noqa: BLE001 - a crash in a check is a failure too
            failures.append(f"{name}: raised {type(err).__name__}: {err}")
    if failures:
        label = key or getattr(plugin, "name", repr(plugin))
        raise AssertionError(f"{kind} {label!r} fails {len(failures)} check(s):\n- "
                             + "\n- ".join(failures))


def plugin_checks(kinds: tuple[str, ...] | None = None) -> list[tuple[str, str, Any]]:
    """(kind, name, plugin) for every registered plugin (of ``kinds``, default all)."""
    return registered(kinds)


def parametrize_plugins(kinds: tuple[str, ...] | None = None) -> Any:
    """A ``pytest.mark.parametrize`` over ``kind, name, plugin`` of every registered
    plugin, with ids ``kind:name``."""
    import pytest

    cases = plugin_checks(kinds)
    return pytest.mark.parametrize(("kind", "name", "plugin"), cases,
                                   ids=[f"{k}:{n}" for k, n, _ in cases])


__all__ = ["BY_KIND", "REGISTRIES", "check_plugin", "checks_for", "kind_of",
           "parametrize_plugins", "plugin_checks"]
