"""A small generic registry: names to objects, with entry-point plug-ins.

Third-party packages add entries through the entry-point group
``adapteval.<registry name>`` (for example ``adapteval.strategies``); each entry point
loads the object to register. An unknown name is a ``ConfigError`` that lists what is
available.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from adapteval.core.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, name: str, singular: str | None = None) -> None:
        self.name = name  # plural: also the entry-point group suffix
        self.singular = singular or name.rstrip("s")
        self._items: dict[str, T] = {}
        self._plugins_loaded = False

    @property
    def group(self) -> str:
        """The entry-point group third-party packages register into."""
        return f"adapteval.{self.name}"

    def register(self, item: T, *, replace: bool = False) -> T:
        """Register ``item`` under its own ``name``; returns it, so it also decorates a
        class: ``@STRATEGIES.register``."""
        name = getattr(item, "name", None)
        if not isinstance(name, str) or not name:
            raise ConfigError(f"a {self.singular} needs a non-empty string name to register",
                              value=item, fix="set its name attribute")
        if name in self._items and not replace:
            raise ConfigError(
                f"a {self.singular} named {name!r} is already registered",
                fix="pick another name or pass replace=True",
            )
        self._items[name] = item
        return item

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for ep in entry_points(group=self.group):
            if ep.name not in self._items:
                self._items[ep.name] = ep.load()

    def names(self) -> list[str]:
        self._load_plugins()
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        self._load_plugins()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        """Names in registration order (built-ins first); ``names()`` is the sorted list."""
        self._load_plugins()
        return iter(list(self._items))

    def items(self) -> list[tuple[str, T]]:
        """(name, item) pairs in registration order."""
        self._load_plugins()
        return list(self._items.items())

    def values(self) -> list[T]:
        return [item for _, item in self.items()]

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def __len__(self) -> int:
        self._load_plugins()
        return len(self._items)

    def get(self, name: str, *, where: str | None = None) -> T:
        self._load_plugins()
        try:
            return self._items[name]
        except KeyError:
            raise ConfigError(
                f"unknown {self.singular} {name!r}",
                where=where,
                fix=self.suggestion(name),
            ) from None

    def suggestion(self, name: str) -> str:
        close = difflib.get_close_matches(name, self.names(), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"{hint}valid {self.name}: {', '.join(self.names())}"
