"""The suite: what to evaluate, validated before any work starts.

A suite is YAML (or a ``Suite`` built in Python). Unknown keys are rejected, and every
problem is reported as one line naming the file, the field, the bad value and the
valid options::

    suite.yaml: tasks[0].format: input should be 'auto', 'csv', 'tsv', ... (got 'xlsx')
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from adapteval.core.errors import ConfigError

TaskType = Literal["auto", "binary", "multiclass", "regression"]
Format = Literal["auto", "csv", "tsv", "jsonl", "parquet", "hf"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSpec(_Strict):
    """One candidate model. A plain string in YAML means ``{source: <string>}``."""

    source: str = Field(min_length=1, description="short name, local directory or hub id")
    name: str | None = Field(default=None, description="label in tables; defaults to source")
    kind: Literal["auto", "hf", "onnx", "majority", "tfidf"] = "auto"
    tokenizer: str | None = Field(
        default=None, description="tokenizer for an ONNX model: short name or folder"
    )
    revision: str | None = None
    pooling: Literal["auto", "mean", "cls", "max"] = "auto"
    normalize: bool | None = Field(default=None, description="None: as the model folder says")
    max_length: int | None = Field(default=None, gt=0, le=8192)
    batch_size: int = Field(default=32, gt=0, le=4096)
    trust_remote_code: bool = False
    allow_pickle: bool = Field(default=False, description="allow pickled (.bin) weights")
    random_init: bool = Field(
        default=False, description="control: same architecture with random weights"
    )
    init_seed: int = 0

    @property
    def label(self) -> str:
        return self.name or self.source


class TaskSpec(_Strict):
    """One labelled dataset. A plain string in YAML names a bundled task."""

    name: str = Field(min_length=1)
    bundled: str | None = None
    path: str | None = None
    files: dict[Literal["train", "validation", "test"], str] | None = None
    format: Format = "auto"
    encoding: str = "utf-8"
    header: bool = True
    columns: list[str] | None = Field(default=None, description="names for a headerless file")
    quoting: bool = Field(default=True, description="false: quotes are ordinary characters")
    text: str = "text"
    text_pair: str | None = None
    label: str = "label"
    type: TaskType = "auto"
    domain: str | None = None
    group: str | None = None
    id: str | None = Field(default=None, description="column of unique item ids")
    split_column: str | None = None
    test_size: float = Field(default=0.25, gt=0.0, lt=1.0)
    split_seed: int | None = Field(
        default=None, description="fixed seed for the train/test split; default: the cell seed"
    )
    max_train: int | None = Field(default=None, gt=0)
    max_test: int | None = Field(default=None, gt=0)

    @field_validator("name")
    @classmethod
    def _name_is_safe(cls, value: str) -> str:
        return _safe_name(value)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown text encoding {value!r}; use e.g. utf-8, latin-1, cp1252") from None
        return value

    @model_validator(mode="after")
    def _one_source(self) -> TaskSpec:
        given = [k for k in ("bundled", "path", "files") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of bundled, path or files"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.files is not None and "test" not in self.files:
            raise ValueError("files needs a 'test' entry (and usually 'train')")
        return self


class StrategySpec(_Strict):
    """An adaptation strategy and its parameters. A plain string means no parameters."""

    model_config = ConfigDict(extra="allow", frozen=True)
    name: str

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class AnalysisSpec(_Strict):
    """An analysis run on every cell it applies to (robustness, calibration, fairness,
    attribution, transfer, compression, cost, ...), with its parameters. A plain string
    means default parameters."""

    model_config = ConfigDict(extra="allow", frozen=True)
    name: str
    strategies: list[str] | None = Field(
        default=None, description="run only on cells of these strategies; default: all"
    )
    tasks: list[str] | None = Field(default=None, description="only these tasks; default: all")
    models: list[str] | None = Field(default=None, description="only these models; default: all")

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class CriterionSpec(_Strict):
    """One acceptance rule. A plain string in YAML is the compact form, e.g.
    ``"accuracy >= 0.85 on every task (ci_low)"`` (see ``adapteval.verdict``)."""

    metric: str = Field(min_length=1, description="cell metric, analysis number or aggregate")
    op: Literal[">=", "<=", ">", "<", "=="]
    threshold: float
    scope: str | None = Field(
        default=None, description="every_task (default) | mean | worst_task | task:<name>"
    )
    statistic: Literal["mean", "ci_low", "ci_high"] = "mean"
    strategy: str | None = Field(default=None, description="only this strategy; default: each")

    @model_validator(mode="before")
    @classmethod
    def _compact(cls, value: Any) -> Any:
        from adapteval.verdict import parse_rule

        return parse_rule(value) if isinstance(value, str) else value


class BootstrapSpec(_Strict):
    n_resamples: int = Field(default=1000, ge=100, le=100_000)
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)
    seed: int = 0


class RankSpec(_Strict):
    """Transferability estimators used by ``adapteval rank`` and ``shortlist``."""

    estimators: list[str] | None = Field(default=None, description="default: all that apply")
    primary: str = Field(default="logme", description="estimator that orders the shortlist")
    max_items: int = Field(default=5000, ge=50, description="train items used per task (seeded)")


class ExecutorSpec(_Strict):
    """Where cells run. ``local`` runs them in this process, or with ``workers: N`` in N
    processes (one model's cells per process at a time, torch threads = cores // N);
    ``ray`` runs each model's cells in a Ray actor on a local cluster of ``num_cpus``
    CPUs, or on the cluster at ``address``. A plain string means default options."""

    name: Literal["local", "ray"] = "local"
    workers: int = Field(default=1, ge=1, le=512, description="local: worker processes")
    address: str | None = Field(default=None, description="ray: cluster address; default: "
                                "a private local cluster")
    num_cpus: int | None = Field(default=None, ge=1, le=100_000,
                                 description="ray: CPUs of the local cluster; default: all cores")

    @model_validator(mode="after")
    def _options_fit(self) -> ExecutorSpec:
        if self.name == "local" and (self.address is not None or self.num_cpus is not None):
            raise ValueError("address and num_cpus apply to the ray executor only; "
                             "set name: ray or use workers")
        if self.name == "ray" and self.workers != 1:
            raise ValueError("workers applies to the local executor only; "
                             "the ray executor uses num_cpus")
        if self.address is not None and not _RAY_ADDRESS.fullmatch(self.address):
            raise ValueError(f"address {self.address!r} is not 'local', 'auto', HOST:PORT "
                             "or ray://HOST:PORT")
        return self


_RAY_ADDRESS = re.compile(r"local|auto|(ray://)?[A-Za-z0-9_.\-]+:\d{1,5}")


def _safe_name(value: str) -> str:
    """Names may become file or folder names in the output directory (reports, caches),
    so none may climb out of it or be absolute."""
    if value in (".", "..") or "/" in value or "\\" in value or "\x00" in value:
        raise ValueError(f"name {value!r} must not contain '/', '\\' or be '.' or '..'")
    return value


class Suite(_Strict):
    """A whole evaluation: models × tasks × strategies × seeds."""

    name: str = "suite"
    models: list[ModelSpec] = Field(min_length=1)
    tasks: list[TaskSpec] = Field(min_length=1)
    strategies: list[StrategySpec] = Field(default_factory=lambda: [StrategySpec(name="probe")])
    analyses: list[AnalysisSpec] = Field(
        default_factory=list, description="probes run on adapted models, stored per cell"
    )
    criteria: list[CriterionSpec] = Field(
        default_factory=list, description="acceptance rules checked by `adapteval check`"
    )
    seeds: list[Annotated[int, Field(ge=0, lt=2**32)]] = Field(
        default_factory=lambda: [0], min_length=1
    )
    metrics: list[str] | None = Field(default=None, description="default: all that apply")
    baselines: list[Literal["majority", "tfidf"]] = Field(
        default_factory=lambda: ["majority", "tfidf"]
    )
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
        return _safe_name(value)

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
        known = [m.label for m in self.models] + [b for b in self.baselines
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
