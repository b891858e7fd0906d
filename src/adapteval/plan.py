"""From a validated suite to a plan: resolved models, loaded tasks and keyed cells.

Everything that can be wrong with the input is found here, before any model runs: an
unknown metric or strategy, bad strategy parameters, a missing model, unreadable data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from adapteval._version import __version__
from adapteval.analyses import ANALYSES, Analysis
from adapteval.core.errors import ConfigError, DataError, IncompatibleError
from adapteval.core.keys import content_key
from adapteval.data.task import Task, load_task
from adapteval.metrics import METRICS, metrics_for
from adapteval.models.baselines import BASELINES
from adapteval.models.catalog import lookup
from adapteval.strategies import STRATEGIES, Strategy
from adapteval.suite.schema import ModelSpec, Suite
from adapteval.verdict import Rule, resolve_criteria


@dataclass(frozen=True)
class ModelRef:
    """A model resolved to its files and fingerprint, not yet loaded."""

    label: str
    spec: ModelSpec
    kind: str
    folder: Path | None  # the model folder (hf) or .onnx file (onnx)
    fingerprint: str
    tokenizer_folder: Path | None = None

    @property
    def key(self) -> str:
        """Identity of the features: weights plus every setting that changes them."""
        s = self.spec
        return content_key(
            {"fp": self.fingerprint, "kind": self.kind, "pooling": s.pooling,
             "normalize": s.normalize, "max_length": s.max_length, "tokenizer": s.tokenizer}
        )

    @property
    def pretrained(self) -> bool:
        return self.kind not in BASELINES


@dataclass(frozen=True)
class Cell:
    key: str
    model: ModelRef
    task: Task
    strategy: Strategy
    seed: int

    @property
    def label(self) -> str:
        return f"{self.model.label} · {self.task.name} · {self.strategy.name} · seed {self.seed}"


@dataclass(frozen=True)
class Job:
    """One analysis of one cell, with its storage key."""

    key: str
    analysis: Analysis
    cell: Cell


@dataclass
class Plan:
    suite: Suite
    models: list[ModelRef]
    tasks: list[Task]
    strategies: list[Strategy]
    cells: list[Cell]
    skipped: list[str] = field(default_factory=list)
    analyses: list[Analysis] = field(default_factory=list)
    criteria: list[Rule] = field(default_factory=list)  # resolved acceptance rules

    def task(self, name: str) -> Task:
        return next(t for t in self.tasks if t.name == name)

    def jobs(self) -> dict[str, list[Job]]:
        """cell key -> the analyses to run on it. Model-scope analyses go to the first
        cell of their model they apply to (in plan order), once per model; their key
        holds that cell's task data and seed, since what they measure (e.g. latency)
        depends on the texts they run on."""
        out: dict[str, list[Job]] = {}
        placed: set[tuple[str, int]] = set()
        for cell in self.cells:
            for i, analysis in enumerate(self.analyses):
                if not analysis.selected(cell):
                    continue
                if analysis.scope == "model":
                    if (cell.model.key, i) in placed:
                        continue
                    placed.add((cell.model.key, i))
                    key = content_key({"model": cell.model.key, "analysis": analysis.config(),
                                       "version": __version__, "texts": cell.task.fingerprint,
                                       "seed": cell.seed})
                else:
                    key = content_key({"cell": cell.key, "analysis": analysis.config()})
                out.setdefault(cell.key, []).append(Job(key, analysis, cell))
        return out


def resolve_model(spec: ModelSpec, base_dir: Path, *, where: str) -> ModelRef:
    kind = spec.kind
    if kind == "auto":
        entry = lookup(spec.source)
        kind = entry.kind if entry is not None else "hf"
    if kind in BASELINES:
        return ModelRef(spec.label, spec, kind, None, f"{kind}-baseline-v1")
    from adapteval.models.fingerprint import folder_fingerprint
    from adapteval.models.hf import resolve_model_dir, weight_format

    if kind == "onnx":
        return _resolve_onnx(spec, base_dir, where)
    if spec.tokenizer is not None:
        raise ConfigError(
            "tokenizer: applies to ONNX models only", where=where, value=spec.tokenizer,
            fix="remove it; Hugging Face folders carry their own tokenizer",
        )
    folder = resolve_model_dir(spec, base_dir, where=where)
    weight_format(folder, spec, where=where)
    fingerprint = folder_fingerprint(folder)
    if spec.random_init:
        fingerprint = content_key({"weights": fingerprint, "random_init": spec.init_seed})[:20]
    return ModelRef(spec.label, spec, kind, folder, fingerprint)


def _resolve_onnx(spec: ModelSpec, base_dir: Path, where: str) -> ModelRef:
    from adapteval.models.fingerprint import fingerprint_files, folder_fingerprint
    from adapteval.models.hf import resolve_model_dir
    from adapteval.models.onnx import find_onnx_file

    entry = lookup(spec.source)
    if entry is not None and entry.locate is not None:
        path = entry.path()
    else:
        path = Path(spec.source).expanduser()
        path = path if path.is_absolute() else base_dir / path
    model_file = find_onnx_file(path, where=where)
    if spec.tokenizer is not None:
        tok = resolve_model_dir(ModelSpec(source=spec.tokenizer), base_dir, where=f"{where}.tokenizer")
    elif (model_file.parent / "tokenizer_config.json").is_file():
        tok = model_file.parent
    else:
        raise ConfigError(
            "an ONNX model needs a tokenizer", where=where, value=spec.source,
            fix="set tokenizer: to a short name (e.g. all-MiniLM-L6-v2) or a tokenizer folder",
        )
    if spec.random_init or spec.allow_pickle or spec.trust_remote_code:
        raise ConfigError(
            "random_init, allow_pickle and trust_remote_code do not apply to ONNX models",
            where=where, fix="remove them",
        )
    fp = content_key({"onnx": fingerprint_files([model_file], root=model_file.parent),
                      "tokenizer": folder_fingerprint(tok)})[:20]
    return ModelRef(spec.label, spec, "onnx", model_file, fp, tok)


def _check_rank(suite: Suite) -> None:
    from adapteval.transferability import ESTIMATORS

    names = list(suite.rank.estimators or []) + [suite.rank.primary]
    fields = [f"rank.estimators[{i}]" for i in range(len(suite.rank.estimators or []))]
    for name, field_ in zip(names, [*fields, "rank.primary"], strict=True):
        if name not in ESTIMATORS:
            raise ConfigError(
                f"unknown estimator {name!r}", where=f"{suite.source}: {field_}",
                fix=f"valid estimators: {', '.join(ESTIMATORS)}",
            )
    if suite.rank.estimators and suite.rank.primary not in suite.rank.estimators:
        raise ConfigError(
            f"rank.primary {suite.rank.primary!r} is not among rank.estimators",
            where=f"{suite.source}: rank.primary", fix="add it to rank.estimators or pick one of them",
        )


def _check_splits(suite: Suite, tasks: list[Task]) -> None:
    """Draw every task's split for every seed now, so a task too small to split fails
    before any work rather than in the middle of a run."""
    for i, task in enumerate(tasks):
        where = f"{suite.source}: tasks[{i}] ({task.name})"
        for seed in suite.seeds:
            try:
                split = task.split(seed)
            except ValueError as exc:
                raise DataError(
                    f"cannot split the data for seed {seed}: {str(exc).splitlines()[0]}",
                    where=where, fix="provide more rows per class, or give train/test splits",
                ) from None
            if not task.is_regression and len(set(split.train.y.tolist())) < 2:
                raise DataError(
                    f"the train split for seed {seed} has only one class", where=where,
                    value=len(split.train), fix="provide more rows per class",
                )


def _check_metrics(suite: Suite, tasks: list[Task]) -> None:
    """Every task needs at least one listed metric that applies to its type."""
    for task in tasks:
        if not metrics_for(task.type, suite.metrics):
            wanted = "regression" if task.is_regression else "classification"
            options = [n for n in METRICS.names() if METRICS.get(n).applies_to(task.type)]
            raise ConfigError(
                f"none of the listed metrics applies to {task.type} task {task.name!r}",
                where=f"{suite.source}: metrics", value=suite.metrics,
                fix=f"add a {wanted} metric: {', '.join(options)}",
            )


def build_plan(suite: Suite) -> Plan:
    strategies = []
    for i, s in enumerate(suite.strategies):
        where = f"{suite.source}: strategies[{i}]"
        strategies.append(STRATEGIES.get(s.name, where=where).from_spec(s.params, where=where))
    names = [st.name for st in strategies]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(
            f"strategy {twice[0]!r} is listed twice", where=f"{suite.source}: strategies",
            fix="list each strategy once (one entry per strategy, with its parameters)",
        )
    analyses = []
    for i, a in enumerate(suite.analyses):
        where = f"{suite.source}: analyses[{i}]"
        analyses.append(ANALYSES.get(a.name, where=where).from_spec(a, where=where))
        for field_, what, listed, known in (
            ("strategies", "strategy", a.strategies, names),
            ("tasks", "task", a.tasks, [t.name for t in suite.tasks]),
            ("models", "model", a.models, [m.label for m in suite.models] + list(suite.baselines)),
        ):
            for value in listed or []:
                if value not in known:
                    raise ConfigError(
                        f"analysis {a.name!r} names unknown {what} {value!r}",
                        where=f"{where}.{field_}", fix=f"use one of: {', '.join(known)}",
                    )
    configs = [json.dumps(a.config(), sort_keys=True) for a in analyses]
    for i, c in enumerate(configs):
        if configs.index(c) != i:
            raise ConfigError(
                f"analysis {analyses[i].name!r} is listed twice with the same parameters",
                where=f"{suite.source}: analyses[{i}]", fix="list it once",
            )
    _check_rank(suite)
    for i, name in enumerate(suite.metrics or []):
        METRICS.get(name, where=f"{suite.source}: metrics[{i}]")

    specs = list(suite.models)
    for b in suite.baselines:
        if not any((m.kind == b) or (m.kind == "auto" and m.source == b) for m in specs):
            specs.append(ModelSpec(source=b))
    models = [
        resolve_model(m, suite.base_dir, where=f"{suite.source}: models[{i}] ({m.label})")
        for i, m in enumerate(specs)
    ]
    seen: dict[str, str] = {}
    for i, m in enumerate(models):
        if m.key in seen:
            raise ConfigError(
                f"model {m.label!r} is the same model with the same settings as {seen[m.key]!r}",
                where=f"{suite.source}: models[{i}]", fix="list each model once",
            )
        seen[m.key] = m.label
    tasks = [
        load_task(t, suite.base_dir, where=f"{suite.source}: tasks[{i}] ({t.name})")
        for i, t in enumerate(suite.tasks)
    ]
    _check_metrics(suite, tasks)
    _check_splits(suite, tasks)

    cells, skipped = [], []
    for model in models:
        for strategy in strategies:
            if not strategy.supports(model.kind):
                skipped.append(f"{strategy.name} does not apply to {model.label} ({model.kind})")
                continue
            for task in tasks:
                for seed in suite.seeds:
                    key = content_key(
                        {"model": model.key, "task": task.fingerprint,
                         "strategy": strategy.config(), "seed": seed, "version": __version__}
                    )
                    cells.append(Cell(key, model, task, strategy, seed))
    if not cells:
        raise IncompatibleError(
            "no model supports any listed strategy", where=f"{suite.source}: strategies",
            fix="add a frozen strategy such as probe",
        )
    plan = Plan(suite, models, tasks, strategies, cells, skipped, analyses)
    for i, analysis in enumerate(analyses):
        analysis.check(plan, where=f"{suite.source}: analyses[{i}]")
    plan.criteria = resolve_criteria(plan)
    return plan
