"""The Ray executor: cells as calls to Ray actors, results written back by the driver.

The cluster gets as many actors as it has room for: each declares ``--threads`` CPUs
(default 1) and, when it runs models placed on CUDA, one GPU. The driver hands each free
actor one cell at a time (:mod:`adapteval.execution.schedule`): cells of the model it
already holds first, so a model is loaded once per actor and reused, and a second actor
joins a model only once its features are in the shared cache. The driver waits on the
calls with ``ray.wait`` and stores each cell the moment it comes back; a killed driver
loses only the cells in flight.

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

from adapteval.core.env import apply_defaults, silence_libraries, threads
from adapteval.core.errors import AdaptEvalError, ConfigError
from adapteval.core.progress import Reporter
from adapteval.execution.cells import CellWorker
from adapteval.execution.executors import Claim, Event, cores
from adapteval.execution.schedule import Schedule
from adapteval.features import EmbeddingCache
from adapteval.plan import Plan
from adapteval.suite.specs import ExecutorSpec

WAIT_S = 1.0
OBJECT_STORE_BYTES = 256 * 1024**2
QUIET_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_DISABLE_DOCKER_CPU_WARNING": "1",
             "RAY_record_ref_creation_sites": "0"}
# Ray gives its GCS server 30 s to start, which a busy machine can exceed
START_ENV = {"RAY_gcs_server_port_wait_time_s": "120"}


class CellActor:
    """One worker on the cluster: runs the cells the driver hands it, one call each,
    keeping the last model it loaded (:class:`adapteval.execution.cells.CellWorker`)."""

    def __init__(self, plan: Plan, cache_path: str, threads: int) -> None:
        os.environ["ADAPTEVAL_THREADS"] = str(threads)
        import torch

        torch.set_num_threads(threads)
        apply_defaults()
        silence_libraries()
        self.worker = CellWorker(plan, EmbeddingCache(cache_path), Reporter())

    def run(self, key: str, job_keys: list[str], stored: Any) -> list[Any]:
        return list(self.worker.run(key, job_keys, stored))


def ray_environ() -> dict[str, str]:
    """The variables ``ray.init`` may set in the driver's environment and leave there
    after ``ray.shutdown`` (``RAY_AUTH_MODE=token``, ``PYTHONBREAKPOINT``...)."""
    return {k: v for k, v in os.environ.items() if k.startswith("RAY_") or k == "PYTHONBREAKPOINT"}


def restore_ray_environ(saved: dict[str, str]) -> None:
    """Put those variables back as they were before the run: a Ray cluster the user (or
    a test) starts later from this process must not inherit a token mode it never set up."""
    for k in [k for k in os.environ if k.startswith("RAY_") or k == "PYTHONBREAKPOINT"]:
        if k not in saved:
            del os.environ[k]
    os.environ.update(saved)


@contextlib.contextmanager
def _private_home(folder: Path) -> Iterator[None]:
    """HOME (and the quiet switches) for the Ray processes started inside the block."""
    home = folder / "home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "ray_bootstrap_config.yaml").write_text(
        "# adapteval: a private local cluster; no cloud provider to detect\n"
    )
    saved = {k: os.environ.get(k) for k in ("HOME", "PYTHONPATH", *QUIET_ENV, *START_ENV)}
    os.environ["HOME"] = str(home)
    # the driver's import path, so workers unpickle user-registered strategies/analyses
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p and Path(p).is_dir())
    for k, v in {**QUIET_ENV, **START_ENV}.items():
        os.environ.setdefault(k, v)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class _Actors:
    """The cluster's workers: as many actors as the cluster's nodes have room for
    (``threads`` CPUs each, at most a node's CPUs, and one GPU for those running models
    placed on CUDA), each keeping the model it last ran. An actor with nothing left of
    its kind is killed, and its room given to an actor of the other kind if that kind
    has work waiting."""

    def __init__(self, sched: Schedule, plan_ref: Any, cache_path: str, threads: int) -> None:
        import ray

        self.sched, self.plan_ref, self.cache_path, self.threads = (sched, plan_ref,
                                                                    cache_path, threads)
        self.cls = ray.remote(CellActor)
        nodes = [n["Resources"] for n in ray.nodes() if n.get("Alive")]
        # an actor fits on one node: never ask for more CPUs than the biggest node has
        self.cpus = max(1, min(threads, int(max((r.get("CPU", 0) for r in nodes), default=1))))
        self.cpu_slots = max(1, sum(int(r.get("CPU", 0) // self.cpus) for r in nodes))
        self.gpu_slots = sum(min(int(r.get("GPU", 0)), int(r.get("CPU", 0) // self.cpus))
                             for r in nodes)
        if sched.left("gpu") and not self.gpu_slots:
            raise ConfigError(
                "a model placed on CUDA needs a GPU, and the Ray cluster has none",
                where="executor",
                value=f"{sum(int(r.get('CPU', 0)) for r in nodes)} CPUs, 0 GPUs",
                fix="start the cluster's nodes with GPUs (ray start --num-gpus N), "
                    "or set device: cpu on the model")
        self.kind: dict[Any, str] = {}
        self.holds: dict[Any, str | None] = {}

    def _want(self, kind: str) -> int:
        """How many more actors of ``kind`` to start now."""
        live = sum(k == kind for k in self.kind.values())
        room = self.cpu_slots - len(self.kind)  # every actor takes CPUs
        if kind == "gpu":
            room = min(room, self.gpu_slots - live)
        return max(0, min(room, self.sched.left(kind) - live))

    def _new(self, kind: str) -> Any:
        actor = self.cls.options(num_cpus=self.cpus, num_gpus=1 if kind == "gpu" else 0,
                                 max_concurrency=1).remote(self.plan_ref, self.cache_path,
                                                           self.threads)
        self.kind[actor], self.holds[actor] = kind, None
        return actor

    def start(self) -> list[Any]:
        fresh = [self._new("gpu") for _ in range(self._want("gpu"))]
        return fresh + [self._new("cpu") for _ in range(max(self._want("cpu"),
                                                               min(1, self.sched.left("cpu"))))]

    def next_for(self, actor: Any) -> Any:
        item = self.sched.next(self.holds[actor], self.kind[actor])
        if item is not None:
            self.holds[actor] = item[0].model.label
        return item

    def retire(self, actor: Any) -> list[Any]:
        """Kill an actor with nothing left to do; the actors started in its room."""
        import ray

        ray.kill(actor)
        del self.kind[actor], self.holds[actor]
        return [self._new(k) for k in ("gpu", "cpu") for _ in range(self._want(k))]

    def close(self) -> None:
        import ray

        for actor in list(self.kind):
            ray.kill(actor)
        self.kind.clear()
        self.holds.clear()


class RayExecutor:
    """Cells as calls to Ray actors on a private local cluster or at ``address``."""

    def __init__(self, spec: ExecutorSpec) -> None:
        self.spec = spec
        self.scratch: Path | None = None
        self.started = False
        self.environ: dict[str, str] | None = None

    def _start(self) -> None:
        import ray

        if self.started:
            return
        self.environ = ray_environ()
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
        sched = Schedule(groups, claim)
        pool = _Actors(sched, ray.put(plan), str(cache_path), threads() or 1)
        calls: dict[Any, tuple[str, Any]] = {}  # call -> (cell key, actor)
        waiting: list[Any] = []  # free actors with nothing they may start yet

        def hand_out(actor: Any) -> None:
            item = pool.next_for(actor)
            if item is not None:
                ref = actor.run.remote(item[0].key, [j.key for j in item[1]], item[2])
                calls[ref] = (item[0].key, actor)
            elif sched.left(pool.kind[actor]) and sched.running(pool.kind[actor]):
                waiting.append(actor)  # a model's features are being embedded: wait for them
            else:
                for fresh in pool.retire(actor):
                    hand_out(fresh)

        try:
            for actor in pool.start():
                hand_out(actor)
            while calls:
                done, _ = ray.wait(list(calls), num_returns=1, timeout=WAIT_S)
                for ref in done:
                    key, actor = calls.pop(ref)
                    rows = self._get(ref)
                    sched.done(key)
                    parked, waiting[:] = [actor, *waiting], []
                    for free in parked:  # hand out work before writing the rows
                        hand_out(free)
                    for row in rows:
                        yield key, row
                    yield key, None
        finally:
            pool.close()

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
        if self.environ is not None:
            restore_ray_environ(self.environ)
            self.environ = None
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None
