"""The suite: what to evaluate, validated before any work starts.

A suite is YAML (or a ``Suite`` built in Python). Unknown keys are rejected, and every
problem is reported as one line naming the file, the field, the bad value and the
valid options::

    suite.yaml: tasks[0].format: input should be 'auto', 'csv', 'tsv', ... (got 'xlsx')
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from adapteval.core.errors import ConfigError
from adapteval.suite.specs import (
    AnalysisSpec,
    BootstrapSpec,
    CriterionSpec,
    ExecutorSpec,
    ModelSpec,
    RankSpec,
    StrategySpec,
    Strict,
    TaskSpec,
    safe_name,
)

DEFAULT_BASELINES = ("majority", "tfidf", "pixels")
"""Baselines a suite runs unless it lists its own: majority on every task, tfidf on text
tasks, pixels on image tasks."""


class Suite(Strict):
    """A whole evaluation: models × tasks × strategies × seeds."""

    name: str = "suite"
    models: list[ModelSpec] = Field(min_length=1)
    tasks: list[TaskSpec] = Field(min_length=1)
    strategies: list[StrategySpec] = Field(default_factory=lambda: [StrategySpec(name="probe")])
    analyses: list[AnalysisSpec] = Field(
        default_factory=list, description="analyses run on adapted models, stored per cell"
    )
    criteria: list[CriterionSpec] = Field(
        default_factory=list, description="acceptance rules checked by `adapteval check`"
    )
    seeds: list[Annotated[int, Field(ge=0, lt=2**32)]] = Field(
        default_factory=lambda: [0], min_length=1
    )
    metrics: list[str] | None = Field(default=None, description="default: all that apply")
    baselines: list[Literal["majority", "tfidf", "pixels"]] | None = Field(
        default=None, description="non-pretrained reference models; default: majority, and "
        "per task the one of its modality (tfidf for text, pixels for images)")
    output_dir: str = "adapteval-results"
    bootstrap: BootstrapSpec = Field(default_factory=BootstrapSpec)
    rank: RankSpec = Field(default_factory=RankSpec)
    shortlist: int | None = Field(
        default=None, ge=1,
        description="rank candidates first; adapt only the top k beyond the frozen probe",
    )
    ensembles: list[list[str]] = Field(
        default_factory=list,
        description="groups of suite models whose averaged probabilities are scored as an "
        "extra model row, from stored predictions",
    )
    executor: ExecutorSpec = Field(
        default_factory=ExecutorSpec, description="local (default), local workers or ray"
    )

    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)
    _source: str = PrivateAttr(default="<suite>")

    @field_validator("models", mode="before")
    @classmethod
    def _model_strings(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"source": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("tasks", mode="before")
    @classmethod
    def _task_strings(cls, value: Any) -> Any:
        if isinstance(value, dict):
            raise ValueError("tasks must be a list, one '- ...' entry per task, not a mapping; "
                             "write e.g. '- {name: spam, bundled: sms-spam}'")
        if isinstance(value, list):
            return [{"name": v, "bundled": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("executor", mode="before")
    @classmethod
    def _executor_string(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @field_validator("name")
    @classmethod
    def _name_is_safe(cls, value: str) -> str:
        return safe_name(value)

    @field_validator("strategies", "analyses", mode="before")
    @classmethod
    def _strategy_strings(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("seeds")
    @classmethod
    def _unique_seeds(cls, value: list[int]) -> list[int]:
        dupes = sorted({v for v in value if value.count(v) > 1})
        if dupes:
            raise ValueError(f"seeds must be distinct; {dupes[0]} appears twice")
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> Suite:
        for field, names in (
            ("models", [m.label for m in self.models]),
            ("tasks", [t.name for t in self.tasks]),
        ):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{field}: names must be unique; {dupes[0]!r} appears twice")
        known = [m.label for m in self.models] + [b for b in self.baseline_names
                                                  if b not in [m.label for m in self.models]]
        for i, members in enumerate(self.ensembles):
            for name in members:
                if name not in known:
                    raise ValueError(f"ensembles[{i}]: {name!r} is not a model of the suite; "
                                     f"use names from: {', '.join(known)}")
            if len(set(members)) < 2 or len(set(members)) != len(members):
                raise ValueError(f"ensembles[{i}]: list two or more distinct models")
        return self

    @property
    def baseline_names(self) -> list[str]:
        """The baselines listed, or by default every one that may join (each on the
        tasks of its modality)."""
        return list(self.baselines) if self.baselines is not None else list(DEFAULT_BASELINES)

    @property
    def base_dir(self) -> Path:
        """Directory that relative paths in the suite are resolved against."""
        return self._base_dir

    @property
    def source(self) -> str:
        return self._source

    def resolve(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self._base_dir / p)

    @property
    def output_path(self) -> Path:
        return self.resolve(self.output_dir)

    def with_base(self, base_dir: Path, source: str) -> Suite:
        self._base_dir = base_dir
        self._source = source
        return self


def _loc(loc: tuple[Any, ...], data: Any) -> str:
    """Render a pydantic location as ``tasks[1].format`` (with the task's name if known)."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            label = ""
            if isinstance(node, list) and 0 <= part < len(node) and isinstance(node[part], dict):
                nm = node[part].get("name") or node[part].get("source")
                label = f" ({nm})" if isinstance(nm, str) else ""
            out += f"[{part}]{label}"
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
        elif part in ("function-after", "function-before") or "[" in str(part):
            continue
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out or "suite"


def _valid_keys(loc: tuple[Any, ...]) -> str:
    parent = {"models": ModelSpec, "tasks": TaskSpec, "bootstrap": BootstrapSpec,
              "rank": RankSpec, "criteria": CriterionSpec, "executor": ExecutorSpec}.get(
        str(loc[0]) if len(loc) > 1 else "", Suite
    )
    return ", ".join(parent.model_fields)


def validation_error(err: ValidationError, source: str, data: Any) -> ConfigError:
    first = err.errors(include_url=False)[0]
    loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and p.startswith("function")))
    where = f"{source}: {_loc(loc, data)}"
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        return ConfigError(
            f"unknown key {loc[-1]!r}", where=where, fix=f"valid keys: {_valid_keys(loc)}"
        )
    if first["type"] == "missing":
        return ConfigError("required field is missing", where=where, fix="add it to the suite")
    msg = msg[0].lower() + msg[1:]
    if msg.startswith("value error, "):
        msg = msg[len("value error, ") :]
    value = first.get("input")
    if isinstance(value, dict | list):
        value = None
    return ConfigError(msg, where=where, value=value)


def load_suite(path: str | Path) -> Suite:
    """Read and validate a suite file; paths inside it are relative to the file."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(
            "suite file not found", where=str(p), fix="check the path (adapteval list tasks "
            "shows bundled tasks; `adapteval demo` runs the bundled suite)",
        )
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"suite file is not UTF-8 (byte {exc.start})", where=str(p), fix="save it as UTF-8"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{p}:{mark.line + 1}:{mark.column + 1}" if mark else str(p)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(
            f"YAML syntax error: {problem}", where=where, fix="check indentation and quoting there"
        ) from None
    return suite_from_dict(data, source=str(p), base_dir=p.resolve().parent)


def suite_from_dict(data: Any, *, source: str = "<suite>", base_dir: Path | None = None) -> Suite:
    if not isinstance(data, dict):
        raise ConfigError(
            "a suite must be a mapping with at least 'models' and 'tasks'",
            where=source,
            value=type(data).__name__ if data is not None else "empty file",
        )
    try:
        suite = Suite.model_validate(data)
    except ValidationError as err:
        raise validation_error(err, source, data) from None
    return suite.with_base(base_dir or Path.cwd(), source)
