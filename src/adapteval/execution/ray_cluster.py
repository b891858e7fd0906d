"""The Ray executor: one actor per model group, results written back by the driver.

Each model's cells go to one actor (declared ``num_cpus``, and one GPU when the cluster
has any), which loads the model once, embeds what the plan's cells of that model need in
the same single pass as the local executor (so the numbers are the same), and runs the cells one call each.
The driver waits on the calls with ``ray.wait`` and stores each cell the moment it
comes back; a killed driver loses only the cells in flight.

Without an address a private single-node cluster is started for the run, bound to
127.0.0.1, without dashboard or usage stats, and with ``HOME`` pointing at a scratch
folder holding a ``ray_bootstrap_config.yaml``: Ray's processes take that file as the
sign of a managed cluster and skip their request to the cloud metadata address.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from adapteval.core.env import apply_defaults, silence_libraries
from adapteval.core.errors import AdaptEvalError
from adapteval.core.progress import Reporter
from adapteval.execution.cells import ModelSession
from adapteval.execution.executors import Claim, Event, cores
from adapteval.features import EmbeddingCache
from adapteval.plan import Plan
from adapteval.suite.specs import ExecutorSpec

WAIT_S = 1.0
OBJECT_STORE_BYTES = 256 * 1024**2
QUIET_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_DISABLE_DOCKER_CPU_WARNING": "1",
             "RAY_record_ref_creation_sites": "0"}


class ModelActor:
    """Holds one loaded model; ``run`` does one cell (and its analyses) per call."""

    def __init__(self, plan: Plan, cache_path: str, threads: int, cell_keys: list[str]) -> None:
        os.environ["ADAPTEVAL_THREADS"] = str(threads)
        import torch

        torch.set_num_threads(threads)
        apply_defaults()
        silence_libraries()
        self.plan = plan
        self.cells = {c.key: c for c in plan.cells}
        self.jobs = {j.key: j for js in plan.jobs().values() for j in js}
        self.keys = cell_keys
        self.session = ModelSession(plan, self.cells[cell_keys[0]].model,
                                    EmbeddingCache(cache_path), Reporter())
        self.prepared = False

    def run(self, key: str, job_keys: list[str], stored: Any) -> list[Any]:
        if not self.prepared:  # what the plan's cells need, as the local executor does
            self.session.prepare([(self.cells[k], [], None) for k in self.keys])
            self.prepared = True
        item = (self.cells[key], [self.jobs[j] for j in job_keys], stored)
        return list(self.session.run(item))


@contextlib.contextmanager
def _private_home(folder: Path) -> Iterator[None]:
    """HOME (and the quiet switches) for the Ray processes started inside the block."""
    home = folder / "home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "ray_bootstrap_config.yaml").write_text(
        "# adapteval: a private local cluster; no cloud provider to detect\n"
    )
    saved = {k: os.environ.get(k) for k in ("HOME", "PYTHONPATH", *QUIET_ENV)}
    os.environ["HOME"] = str(home)
    # the driver's import path, so workers unpickle user-registered strategies/analyses
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p and Path(p).is_dir())
    for k, v in QUIET_ENV.items():
        os.environ.setdefault(k, v)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class RayExecutor:
    """Model groups as Ray actors on a private local cluster or at ``address``."""

    def __init__(self, spec: ExecutorSpec) -> None:
        self.spec = spec
        self.scratch: Path | None = None
        self.started = False

    def _start(self) -> None:
        import ray

        if self.started:
            return
        if self.spec.address not in (None, "local"):
            ray.init(address=self.spec.address, log_to_driver=False,
                     runtime_env={"env_vars": dict(QUIET_ENV)})
        else:
            self.scratch = Path(tempfile.mkdtemp(prefix="adapteval-ray-"))
            with _private_home(self.scratch):
                ray.init(
                    address="local", num_cpus=self.spec.num_cpus or cores(), num_gpus=None,
                    include_dashboard=False, _node_ip_address="127.0.0.1",
                    _temp_dir=str(self.scratch / "r"), object_store_memory=OBJECT_STORE_BYTES,
                    log_to_driver=False, configure_logging=False,
                )
        self.started = True

    def run(self, plan: Plan, groups: list[list[Any]], claim: Claim, cache_path: Path,
            reporter: Reporter) -> Iterator[Event]:
        import ray

        self._start()
        gpus = ray.cluster_resources().get("GPU", 0) >= 1
        actor_cls = ray.remote(ModelActor)
        plan_ref = ray.put(plan)
        calls: dict[Any, tuple[str, Any]] = {}
        left: dict[Any, int] = {}
        for group in groups:
            mine = claim(group)
            if not mine:
                continue
            pretrained = mine[0][0].model.pretrained
            actor = actor_cls.options(num_cpus=1, num_gpus=1 if gpus and pretrained else 0).remote(
                plan_ref, str(cache_path), 1, [c.key for c, _, _ in mine]
            )
            for cell, jobs, stored in mine:
                ref = actor.run.remote(cell.key, [j.key for j in jobs], stored)
                calls[ref] = (cell.key, actor)
            left[actor] = len(mine)
        while calls:
            done, _ = ray.wait(list(calls), num_returns=1, timeout=WAIT_S)
            for ref in done:
                key, actor = calls.pop(ref)
                for row in self._get(ref):
                    yield key, row
                yield key, None
                left[actor] -= 1
                if not left[actor]:
                    ray.kill(actor)  # free its CPU for the next model's actor

    @staticmethod
    def _get(ref: Any) -> list[Any]:
        """The call's rows; a user-fixable error raised in the actor is raised as itself."""
        import ray

        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, AdaptEvalError):
                raise cause from None
            raise

    def close(self) -> None:
        import ray

        if self.started:
            ray.shutdown()
            self.started = False
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None
