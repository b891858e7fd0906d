"""The parts of a suite: models, tasks, strategies, analyses, criteria and settings.

Each is a strict pydantic model (unknown keys are errors); :mod:`adapteval.suite.schema`
assembles them into a ``Suite`` and renders validation errors as one line.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from adapteval.suite.rules import parse_rule

TaskType = Literal["auto", "binary", "multiclass", "regression"]
Format = Literal["auto", "csv", "tsv", "jsonl", "parquet", "hf", "idx", "imagefolder"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSpec(Strict):
    """One candidate model. A plain string in YAML means ``{source: <string>}``."""

    source: str = Field(min_length=1, description="short name, local directory or hub id")
    name: str | None = Field(default=None, description="label in tables; defaults to source")
    kind: str = Field(default="auto", min_length=1, description="auto (from the catalog or the "
                      "folder, else hf) or a registered model kind: hf, causal, onnx, "
                      "efficientnet-lite, hf-vision, majority, tfidf, pixels, ...")
    tokenizer: str | None = Field(
        default=None, description="tokenizer for an ONNX model: short name or folder"
    )
    revision: str | None = None
    pooling: Literal["auto", "mean", "cls", "max", "last"] = Field(
        default="auto", description="auto: as the folder says (decoders: last token)")
    instruction: str | None = Field(
        default=None, description="decoders: text put before every input when embedding")
    normalize: bool | None = Field(default=None, description="None: as the model folder says")
    max_length: int | None = Field(default=None, gt=0, le=8192)
    batch_size: int = Field(default=32, gt=0, le=4096)
    trust_remote_code: bool = False
    allow_pickle: bool = Field(default=False, description="allow pickled (.bin) weights")
    random_init: bool = Field(
        default=False, description="control: same architecture with random weights"
    )
    init_seed: int = 0
    device: str = Field(default="auto",
                        description="auto (CUDA when present, else CPU) | cpu | cuda | cuda:N | mps")
    tasks: list[str] | None = Field(
        default=None, description="evaluate this model on these tasks only; default: all")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        default="auto", description="auto: float32 on CPU and MPS, bfloat16 on CUDA")

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        if not re.fullmatch(r"auto|cpu|cuda|cuda:\d+|mps", value):
            raise ValueError(f"unknown device {value!r}; use one of auto, cpu, cuda, cuda:N, mps")
        return value

    @property
    def label(self) -> str:
        return self.name or self.source


class TaskSpec(Strict):
    """One labelled dataset. A plain string in YAML names a bundled task."""

    name: str = Field(min_length=1)
    bundled: str | None = None
    path: str | None = None
    files: dict[Literal["train", "validation", "test"], str | list[str]] | None = Field(
        default=None, description="a file per split, or a list: IDX [images, labels], or "
        "tables read one after another")
    images: Any = Field(default=None, description="Python API: in-memory images, an (N, H, W[, "
                        "C]) uint8 array or a list of arrays, or a dict of them by split")
    labels: Any = Field(default=None, description="Python API: the labels of images (the "
                        "same shape: one sequence, or a dict by split)")
    format: Format = "auto"
    encoding: str = "utf-8"
    header: bool = True
    columns: list[str] | None = Field(default=None, description="names for a headerless file")
    quoting: bool = Field(default=True, description="false: quotes are ordinary characters")
    text: str = "text"
    text_pair: str | None = None
    image: str | None = Field(
        default=None, description="column of images (a path relative to the file, encoded "
        "bytes, or a saved dataset's Image feature): makes the task an image task")
    max_pixels: int = Field(default=40_000_000, gt=0, description="largest image (width x "
                            "height) decoded; larger files are refused as decompression bombs")
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
    label_words: dict[str, str] | None = Field(
        default=None, description="prompting: the words a language model answers with, per "
        "class (e.g. {0: negative, 1: positive}); default: the class names")
    prompt: str | None = Field(
        default=None, description="prompting: the task's question, e.g. 'Is this review "
        "positive or negative?'")
    class_names: dict[str, str] | None = Field(
        default=None, description="names shown for label values, e.g. {0: T-shirt, 1: "
        "Trouser} for numeric labels; labels not named keep their value")

    @field_validator("label_words", "class_names", mode="before")
    @classmethod
    def _words_by_name(cls, value: Any) -> Any:
        """YAML reads ``{0: negative}`` with an integer key; class names are strings."""
        if isinstance(value, dict):
            return {str(k): v for k, v in value.items()}
        return value

    @field_validator("name")
    @classmethod
    def _name_is_safe(cls, value: str) -> str:
        return safe_name(value)

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
        given = [k for k in ("bundled", "path", "files", "images") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of bundled, path, files or images"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.files is not None and "test" not in self.files:
            raise ValueError("files needs a 'test' entry (and usually 'train')")
        if (self.images is None) != (self.labels is None):
            raise ValueError("images and labels go together (in-memory data from Python)")
        if isinstance(self.images, str | bytes):
            raise ValueError("images: holds in-memory arrays (Python API); for image files use "
                             "path: or files:")
        return self


CurveSize = int | float | Literal["full"]


class CurveSpec(Strict):
    """A learning curve: the strategy at each training size, ``draws`` seeded draws per
    size. A size is an integer (items per label; items for regression), a fraction of the
    training split in (0, 1), or ``full`` (the plain cell of the strategy)."""

    sizes: list[CurveSize] = Field(min_length=1)
    draws: int = Field(default=5, ge=1, le=100)

    @field_validator("sizes", mode="before")
    @classmethod
    def _sizes(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        seen: set[Any] = set()
        for v in value:
            if isinstance(v, bool) or not (v == "full" or isinstance(v, int | float)):
                raise ValueError(f"size {v!r} is not a count, a fraction or 'full'")
            if v != "full" and v <= 0:
                raise ValueError(f"size {v!r} must be positive (a count, a fraction in (0, 1) "
                                 "or 'full')")
            if isinstance(v, float) and not v.is_integer() and v >= 1:
                raise ValueError(f"fraction {v!r} must be below 1; write 'full' for all the "
                                 "training data")
            if v in seen:
                raise ValueError(f"size {v!r} is listed twice")
            seen.add(v)
        return [int(v) if isinstance(v, float) and v.is_integer() else v for v in value]


class TuneSpec(Strict):
    """Fair tuning: each combination of ``space`` (strategy parameter -> values) is
    fitted on the training data minus a validation part carved from it (never the test
    split), scored there, and the best is refitted on all training data. ``protocol:
    vtab1k`` draws 1000 training items, selects on 800 / 200 and trains on the 1000."""

    space: dict[str, list[Any]] = Field(min_length=1)
    validation: float = Field(default=0.2, gt=0, lt=1,
                              description="fraction of the training data used for selection")
    protocol: Literal["holdout", "vtab1k"] = "holdout"

    @field_validator("space")
    @classmethod
    def _values(cls, value: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for k, v in value.items():
            if not v:
                raise ValueError(f"space.{k} lists no values")
        return value


class StrategySpec(Strict):
    """An adaptation strategy and its parameters. A plain string means no parameters."""

    model_config = ConfigDict(extra="allow", frozen=True)
    name: str
    models: list[str] | None = Field(
        default=None, description="adapt only these models with it; default: every model it "
        "applies to")
    tasks: list[str] | None = Field(default=None, description="only these tasks; default: all")
    curve: CurveSpec | None = Field(
        default=None, description="a learning curve: the strategy at several training sizes")
    tune: TuneSpec | None = Field(
        default=None, description="choose parameters on a validation part of the training data")

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class AnalysisSpec(Strict):
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
    seeds: list[int] | None = Field(
        default=None, min_length=1,
        description="only cells of these seeds (an expensive analysis on fewer seeds); "
        "default: all",
    )

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class CriterionSpec(Strict):
    """One acceptance rule. A plain string in YAML is the compact form, e.g.
    ``"accuracy >= 0.85 on every task (ci_low)"`` (see ``adapteval.suite.rules``)."""

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
        return parse_rule(value) if isinstance(value, str) else value


class BootstrapSpec(Strict):
    n_resamples: int = Field(default=1000, ge=100, le=100_000)
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)
    seed: int = 0


class RankSpec(Strict):
    """Transferability estimators used by ``adapteval rank`` and ``shortlist``."""

    estimators: list[str] | None = Field(default=None, description="default: all that apply")
    primary: str = Field(default="logme", description="estimator that orders the shortlist")
    max_items: int = Field(default=5000, ge=50, description="train items used per task (seeded)")


class ExecutorSpec(Strict):
    """Where cells run. ``local`` runs them in this process, or with ``workers: N`` in N
    processes (one cell per process at a time, each keeping the model it last ran; torch
    threads = cores // N); ``ray`` runs them the same way in Ray actors (``--threads``
    CPUs each, a GPU for models on CUDA) on a private local cluster of ``num_cpus`` CPUs,
    or on the cluster at ``address``. A plain string means default options."""

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


def safe_name(value: str) -> str:
    """Names may become file or folder names in the output directory (reports, caches),
    so none may climb out of it or be absolute."""
    if value in (".", "..") or "/" in value or "\\" in value or "\x00" in value:
        raise ValueError(f"name {value!r} must not contain '/', '\\' or be '.' or '..'")
    return value
