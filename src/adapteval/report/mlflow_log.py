"""MLflow tracking: every cell a run (params: model, task, strategy, seed, strategy config,
fingerprints; metrics: scores with CIs, the training curve by step, analysis numbers),
and the report file as an artifact of a ``report`` run.

The default store is a SQLite file beside the results (``sqlite:///<output_dir>/mlflow.db``)
with artifacts in ``<output_dir>/mlflow-artifacts``: nothing leaves the machine, and
MLflow's telemetry is off (``MLFLOW_DISABLE_TELEMETRY``, set when adapteval is imported).
Cells are tagged with their content key, so logging the same results twice adds no run.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from adapteval._version import __version__
from adapteval.core.errors import ConfigError
from adapteval.report.tensorboard import CURVE_TAGS, analysis_scalars
from adapteval.results import Results

KEY_TAG = "adapteval.cell_key"
KIND_TAG = "adapteval.kind"


def default_uri(output_dir: str | Path) -> str:
    return f"sqlite:///{Path(output_dir).resolve() / 'mlflow.db'}"


def _client(uri: str):
    import logging

    logging.getLogger("mlflow").setLevel(logging.WARNING)  # no schema-migration chatter
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise ConfigError("MLflow logging needs the mlflow package", where="--mlflow",
                          fix="pip install 'adapteval[mlflow]'") from None
    return MlflowClient(tracking_uri=uri)


def experiment_id(client: Any, name: str, artifacts: Path | None) -> str:
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    location = artifacts.resolve().as_uri() if artifacts is not None else None
    return client.create_experiment(name, artifact_location=location)


def logged_runs(client: Any, exp: str) -> dict[str, Any]:
    """Cell key -> its run already in the experiment."""
    runs, token = {}, None
    while True:
        page = client.search_runs([exp], max_results=1000, page_token=token)
        runs.update({r.data.tags[KEY_TAG]: r for r in page if KEY_TAG in r.data.tags})
        token = page.token
        if not token:
            return runs


def cell_params(results: Results, row) -> dict[str, str]:
    lab = results.labels[row.key]
    params = {"model": lab.model, "task": lab.task, "strategy": lab.strategy,
              "seed": str(lab.seed), "model_fingerprint": row.model_fingerprint,
              "task_fingerprint": row.task_fingerprint, "adapteval_version": row.version}
    params.update({f"strategy.{k}": str(v) for k, v in row.strategy_config.items()})
    return params


def log_to_mlflow(results: Results, uri: str, *, experiment: str | None = None,
                  report: str | Path | None = None, artifacts: Path | None = None) -> dict[str, Any]:
    """Log every cell not yet in the experiment, and ``report`` as an artifact; returns
    the experiment id and how many runs were added."""
    from mlflow.entities import Metric, Param, RunTag

    client = _client(uri)
    name = experiment or "adapteval: " + ", ".join(sorted({r.suite for r in results.rows}))
    exp = experiment_id(client, name, artifacts)
    done = logged_runs(client, exp)
    scores = results.to_pandas() if len(results) else None
    by_cell: dict[str, list] = {}
    for a in results.analyses:
        by_cell.setdefault(a.cell_key, []).append(a)
    stamp = int(time.time() * 1000)
    added = 0
    for row in results.rows:
        analysis = [Metric(f"{a.name}.{k}", v, stamp, 0) for a in by_cell.get(row.key, [])
                    for k, v in analysis_scalars(a.name, a.result).items()]
        if row.key in done:  # logged before: add only analyses stored since
            run = done[row.key]
            new = [m for m in analysis if m.key not in run.data.metrics]
            if new:
                client.log_batch(run.info.run_id, metrics=new)
            continue
        lab = results.labels[row.key]
        run = client.create_run(exp, run_name=f"{lab.model} · {lab.task} · {lab.strategy} · "
                                f"seed {lab.seed}", tags={KEY_TAG: row.key, KIND_TAG: "cell"})
        mine = list(scores[scores["key"] == row.key].itertuples())
        metrics = [Metric(f"{r.metric}{suffix}", float(getattr(r, col)), stamp, 0)
                   for r in mine
                   for suffix, col in (("", "value"), ("_ci_low", "ci_low"),
                                       ("_ci_high", "ci_high"))
                   if math.isfinite(getattr(r, col))]  # no value: a tag says why
        tags = [RunTag("suite", row.suite)] + [
            RunTag(f"undefined.{r.metric}", r.undefined.get("value") or r.undefined["ci"])
            for r in mine if r.undefined]
        for p in row.info.get("curve") or []:
            metrics += [Metric(field, float(p[field]), stamp, int(p["step"]))
                        for field in CURVE_TAGS if isinstance(p.get(field), int | float)]
        metrics += analysis
        params = [Param(k, v) for k, v in cell_params(results, row).items()]
        for i in range(0, max(len(metrics), 1), 900):  # MLflow caps one batch at 1000 items
            client.log_batch(run.info.run_id, metrics=metrics[i:i + 900],
                             params=params if i == 0 else [], tags=tags)
        client.set_terminated(run.info.run_id)
        added += 1
    report_run = None
    if report is not None:
        run = client.create_run(exp, run_name="report", tags={KIND_TAG: "report",
                                                              "adapteval.version": __version__})
        client.log_artifact(run.info.run_id, str(report))
        client.set_terminated(run.info.run_id)
        report_run = run.info.run_id
    return {"experiment_id": exp, "experiment": name, "runs_added": added,
            "report_run": report_run}
