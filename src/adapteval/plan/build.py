"""From a validated suite to a plan: resolved models, loaded tasks and keyed cells.

Everything that can be wrong with the input is found here, before any model runs: an
unknown metric, strategy or model kind, bad strategy parameters, a missing model,
unreadable data, a model, strategy or analysis that does not accept a task's items.
"""

from __future__ import annotations

import json

from adapteval.analyses import ANALYSES, Analysis
from adapteval.core.errors import ConfigError, DataError, IncompatibleError
from adapteval.data.task import Task, load_task
from adapteval.metrics import METRICS, metrics_for
from adapteval.models.kinds import MODEL_KINDS, resolve_model
from adapteval.models.ref import ModelRef
from adapteval.plan.cells import Cell, Plan, cell_key
from adapteval.plan.criteria import resolve_criteria
from adapteval.plan.curves import check_curve, curve_cells, wrap
from adapteval.strategies import STRATEGIES, Strategy
from adapteval.suite.schema import Suite
from adapteval.suite.specs import ModelSpec
from adapteval.transferability import ESTIMATORS


def _check_rank(suite: Suite) -> None:
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


def _check_tasks(suite: Suite, tasks: list[Task]) -> None:
    """Two task names for the same data and settings would share every cell (cells are
    keyed by content), so one name would silently disappear: refuse it."""
    seen: dict[str, str] = {}
    for i, task in enumerate(tasks):
        if task.fingerprint in seen:
            raise ConfigError(
                f"task {task.name!r} holds the same data with the same settings as task "
                f"{seen[task.fingerprint]!r}", where=f"{suite.source}: tasks[{i}]",
                fix="list the data once (or change the data or its split settings)",
            )
        seen[task.fingerprint] = task.name


def _split_warnings(suite: Suite, tasks: list[Task]) -> list[str]:
    """Test items that also occur in train (per seed when the split is drawn)."""
    out = []
    for task in tasks:
        seeds = suite.seeds[:1] if task.has_given_split else suite.seeds
        counts = {seed: task.split_duplicates(seed) for seed in seeds}
        if any(counts.values()):
            worst = max(counts, key=counts.get)
            n_test = len(task.split(worst).test)
            where = "" if task.has_given_split else f" (seed {worst})"
            out.append(f"task {task.name!r}: {counts[worst]} of {n_test} test items are also in "
                       f"train{where}; scores may be optimistic")
    return out


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


def _check_modalities(suite: Suite, models: list[ModelRef], strategies: list[Strategy],
                      analyses: list[Analysis], tasks: list[Task]) -> list[str]:
    """Every model kind, strategy and analysis accepts the items of the tasks it meets.

    One that names its tasks must accept each of them; one that does not runs on the tasks
    whose items it accepts (a text encoder in a suite with image tasks skips those) and is
    refused only when it accepts none. Returns a line per such skip, for the plan."""
    users: list[tuple[str, str, frozenset[str], list[Task], bool]] = []
    for i, m in enumerate(models):
        mine = [t for t in tasks if m.spec.tasks is None or t.name in m.spec.tasks]
        users.append((f"model {m.label!r} ({m.kind})", f"models[{i}]",
                      MODEL_KINDS.get(m.kind).modalities, mine, m.spec.tasks is not None))
    for i, (s, spec) in enumerate(zip(strategies, suite.strategies, strict=True)):
        mine = [t for t in tasks if spec.tasks is None or t.name in spec.tasks]
        users.append((f"strategy {s.name!r}", f"strategies[{i}]", s.modalities, mine,
                      spec.tasks is not None))
    for i, a in enumerate(analyses):
        mine = [t for t in tasks if a.tasks is None or t.name in a.tasks]
        users.append((f"analysis {a.name!r}", f"analyses[{i}]", type(a).modalities, mine,
                      a.tasks is not None))
    skips: dict[tuple[str, str], list[str]] = {}
    for what, field_, accepted, met, named in users:
        refused = [t for t in met if t.modality not in accepted]
        if refused and (named or len(refused) == len(met)):
            task = refused[0]
            raise IncompatibleError(
                f"{what} does not accept the {task.modality} items of task {task.name!r}",
                where=f"{suite.source}: {field_}",
                fix=f"it accepts {', '.join(sorted(accepted)) or 'nothing'}; "
                    "drop it or the task",
            )
        if refused:
            takes = " or ".join(sorted(m for m in accepted if m != "text_pair"))
            where_ = ", ".join(t.name for t in refused)
            skips.setdefault((takes, where_), []).append(what.split(" ", 1)[1].split(" (")[0])
    return [f"{', '.join(n.strip(chr(39)) for n in names)} ({takes} only): not on {where_}"
            for (takes, where_), names in skips.items()]


def _strategies(suite: Suite) -> list[Strategy]:
    strategies = []
    models = [m.label for m in suite.models] + suite.baseline_names
    for i, s in enumerate(suite.strategies):
        where = f"{suite.source}: strategies[{i}]"
        strategy = STRATEGIES.get(s.name, where=where).from_params(s.params, where=where)
        strategies.append(wrap(strategy, s, where))
        if s.curve is not None:
            check_curve(strategies[-1], s.curve, where)
        for field_, what, listed, known in (("models", "model", s.models, models),
                                            ("tasks", "task", s.tasks,
                                             [t.name for t in suite.tasks])):
            for value in listed or []:
                if value not in known:
                    raise ConfigError(
                        f"strategy {s.name!r} names unknown {what} {value!r}",
                        where=f"{where}.{field_}", fix=f"use one of: {', '.join(known)}",
                    )
    names = [st.name for st in strategies]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(
            f"strategy {twice[0]!r} is listed twice", where=f"{suite.source}: strategies",
            fix="list each strategy once (one entry per strategy, with its parameters)",
        )
    return strategies


def _analyses(suite: Suite, strategy_names: list[str]) -> list[Analysis]:
    analyses = []
    for i, a in enumerate(suite.analyses):
        where = f"{suite.source}: analyses[{i}]"
        analyses.append(ANALYSES.get(a.name, where=where).from_spec(a, where=where))
        for field_, what, listed, known in (
            ("strategies", "strategy", a.strategies, strategy_names),
            ("tasks", "task", a.tasks, [t.name for t in suite.tasks]),
            ("models", "model", a.models, [m.label for m in suite.models] + suite.baseline_names),
            ("seeds", "seed", a.seeds, suite.seeds),
        ):
            for value in listed or []:
                if value not in known:
                    raise ConfigError(
                        f"analysis {a.name!r} names unknown {what} {value!r}",
                        where=f"{where}.{field_}",
                        fix=f"use one of: {', '.join(str(k) for k in known)}",
                    )
    configs = [json.dumps(a.config(), sort_keys=True) for a in analyses]
    for i, c in enumerate(configs):
        if configs.index(c) != i:
            raise ConfigError(
                f"analysis {analyses[i].name!r} is listed twice with the same parameters",
                where=f"{suite.source}: analyses[{i}]", fix="list it once",
            )
    return analyses


def _baselines(suite: Suite, tasks: list[Task] | None) -> list[ModelSpec]:
    """The baselines to add: those listed (before the tasks are read: ``tasks`` None), or
    by default majority on every task and each other baseline on the tasks of its
    modality (tfidf on text, pixels on images), none the suite lists as a model."""
    if (suite.baselines is None) != (tasks is not None):
        return []
    out = []
    for b in suite.baseline_names:
        if any((m.kind == b) or (m.kind == "auto" and m.source == b) for m in suite.models):
            continue
        if tasks is None:
            out.append(ModelSpec(source=b))
            continue
        mine = [t.name for t in tasks if t.modality in MODEL_KINDS.get(b).modalities]
        if mine:
            out.append(ModelSpec(source=b, tasks=None if len(mine) == len(tasks) else mine))
    return out


def _models(suite: Suite, tasks: list[Task] | None = None,
            known: list[ModelRef] | None = None) -> list[ModelRef]:
    """``suite``'s models resolved, with the listed baselines; given ``tasks``, the
    default baselines (checked against ``known``, the models resolved before)."""
    specs = list(suite.models) if tasks is None else []
    for i, m in enumerate(specs):
        for value in m.tasks or []:
            if value not in [t.name for t in suite.tasks]:
                raise ConfigError(
                    f"model {m.label!r} names unknown task {value!r}",
                    where=f"{suite.source}: models[{i}].tasks",
                    fix=f"use one of: {', '.join(t.name for t in suite.tasks)}",
                )
    specs += _baselines(suite, tasks)
    known = known or []
    start = len(known)
    models = [*known, *(
        resolve_model(m, suite.base_dir, where=f"{suite.source}: models[{start + i}] ({m.label})")
        for i, m in enumerate(specs))]
    seen: dict[str, str] = {}
    for i, m in enumerate(models):
        if m.key in seen:
            raise ConfigError(
                f"model {m.label!r} is the same model with the same settings as {seen[m.key]!r}",
                where=f"{suite.source}: models[{i}]", fix="list each model once",
            )
        seen[m.key] = m.label
    return models


def build_plan(suite: Suite) -> Plan:
    strategies = _strategies(suite)
    analyses = _analyses(suite, [st.name for st in strategies])
    _check_rank(suite)
    for i, name in enumerate(suite.metrics or []):
        METRICS.get(name, where=f"{suite.source}: metrics[{i}]")
    models = _models(suite)
    tasks = [
        load_task(t, suite.base_dir, where=f"{suite.source}: tasks[{i}] ({t.name})")
        for i, t in enumerate(suite.tasks)
    ]
    models = _models(suite, tasks, models)
    _check_tasks(suite, tasks)
    _check_metrics(suite, tasks)
    modality_skips = _check_modalities(suite, models, strategies, analyses, tasks)
    _check_splits(suite, tasks)

    cells, skipped, notes = [], [], []
    for model in models:
        kind = MODEL_KINDS.get(model.kind)
        for strategy, spec in zip(strategies, suite.strategies, strict=True):
            if spec.models is not None and model.label not in spec.models:
                continue
            if not strategy.supports(kind):
                if spec.models is not None:
                    raise IncompatibleError(
                        f"strategy {strategy.name!r} does not apply to {model.label} "
                        f"({model.kind} model)", where=f"{suite.source}: strategies",
                        fix=f"take {model.label!r} out of the strategy's models",
                    )
                skipped.append(f"{strategy.name} does not apply to {model.label} ({model.kind})")
                continue
            for task in tasks:
                if spec.tasks is not None and task.name not in spec.tasks:
                    continue
                if model.spec.tasks is not None and task.name not in model.spec.tasks:
                    continue
                if task.modality not in kind.modalities & strategy.modalities:
                    continue  # a text model or strategy beside image tasks (or the reverse)
                for seed in suite.seeds:
                    cells.append(Cell(cell_key(model, task, strategy, seed), model, task,
                                      strategy, seed))
                    if spec.curve is not None:
                        cells += curve_cells(model, task, strategy, spec.curve, seed, notes)
    checked = set()
    for c in cells:
        if (c.strategy.name, c.task.name) not in checked:
            checked.add((c.strategy.name, c.task.name))
            c.strategy.check_task(c.task)
    if not cells:
        raise IncompatibleError(
            "no model supports any listed strategy", where=f"{suite.source}: strategies",
            fix="add a frozen strategy such as probe",
        )
    plan = Plan(suite, models, tasks, strategies, cells, skipped + modality_skips, analyses)
    for i, analysis in enumerate(analyses):
        analysis.check(plan, where=f"{suite.source}: analyses[{i}]")
    plan.criteria = resolve_criteria(plan)
    plan.warnings = _split_warnings(suite, tasks) + notes
    return plan
