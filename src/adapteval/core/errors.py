"""One root error with a shallow tree under it.

Every error the user can fix (a bad suite, a broken file, an unknown model) is an
``AdaptEvalError``; the CLI prints it as one line and exits with code 2. Anything else
is an internal error (exit 1).

Each error carries the parts of a good message separately, so the one-line form is
always built the same way: ``what`` went wrong, ``where`` (file and field), the bad
``value`` and the ``fix``.
"""

from __future__ import annotations

from typing import Any


class AdaptEvalError(Exception):
    """Base of every error a user can act on."""

    kind = "error"

    def __init__(
        self,
        what: str,
        *,
        where: str | None = None,
        value: Any = None,
        fix: str | None = None,
    ) -> None:
        self.what = what
        self.where = where
        self.value = value
        self.fix = fix
        super().__init__(self.one_line())

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle with every part, so an error raised in a worker process or Ray actor
        reaches the driver (and the user) unchanged."""
        return (_rebuild, (type(self), self.what, self.where, self.value, self.fix))

    def one_line(self) -> str:
        parts = []
        if self.where:
            parts.append(f"{self.where}:")
        parts.append(self.what)
        if self.value is not None:
            shown = repr(self.value)
            if len(shown) > 80:  # keep both ends: a path's file name is at its end
                shown = shown[:38] + "..." + shown[-39:]
            parts.append(f"(got {shown})")
        text = " ".join(parts)
        if self.fix:
            text += f"; {self.fix}"
        return " ".join(text.split())


def _rebuild(cls: type[AdaptEvalError], what: str, where: str | None, value: Any,
             fix: str | None) -> AdaptEvalError:
    return cls(what, where=where, value=value, fix=fix)


class ConfigError(AdaptEvalError):
    """The suite (YAML or Python object) is invalid."""

    kind = "config error"


class DataError(AdaptEvalError):
    """A dataset cannot be read or does not fit its task description."""

    kind = "data error"


class ModelLoadError(AdaptEvalError):
    """A model cannot be found, fetched or safely loaded."""

    kind = "model error"


class IncompatibleError(AdaptEvalError):
    """A model, strategy or task cannot be combined as asked."""

    kind = "incompatible"


class StoreError(AdaptEvalError):
    """The results store cannot be opened or is not an adapteval store."""

    kind = "store error"
