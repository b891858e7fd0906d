"""Executors: where the cells of a plan run.

Every executor takes the plan's pending cells grouped by model and yields
``(cell key, row)`` pairs (``row`` None once a cell and its analyses are done); the
driver (``adapteval.execution.driver.run_plan``) writes them to the store as they
arrive. An executor claims work in the store right before it starts it and runs only
what the claim grants, so runs sharing a store split the work.

- ``local`` (default): in this process, one model group after another.
- ``local`` with ``workers: N``: N spawned processes with torch threads = cores // N,
  each handed one cell at a time (``adapteval.execution.schedule``: the model it holds
  first), so N cells run side by side without their threads fighting over the cores.
- ``ray``: the same schedule over Ray actors (``--threads`` CPUs each, a GPU for models
  placed on CUDA); see ``adapteval.execution.ray_cluster``.

This module holds the contract, the in-process executor and the executor options; the
pool and Ray executors build on it, and the driver picks one (``executor_for``).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from adapteval.core.errors import ConfigError
from adapteval.core.progress import Reporter
from adapteval.execution.cells import run_group
from adapteval.features import EmbeddingCache
from adapteval.plan import Plan
from adapteval.suite.specs import ExecutorSpec

CONNECT_S = 5.0  # how long a cluster address may take to answer
Claim = Callable[[list[Any]], list[Any]]
Event = tuple[str, Any]


class Executor(Protocol):
    def run(self, plan: Plan, groups: list[list[Any]], claim: Claim, cache_path: Path,
            reporter: Reporter) -> Iterator[Event]: ...

    def close(self) -> None: ...


class InProcess:
    """Groups one after another in this process (the default)."""

    def run(self, plan: Plan, groups: list[list[Any]], claim: Claim, cache_path: Path,
            reporter: Reporter) -> Iterator[Event]:
        cache = EmbeddingCache(cache_path)
        try:
            for group in groups:
                mine = claim(group)
                if mine:
                    yield from run_group(plan, mine, cache, reporter)
        finally:
            cache.close()

    def close(self) -> None:
        pass


def cores() -> int:
    """CPUs this process may use (the affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def reachable(address: str) -> None:
    """A ``HOST:PORT`` or ``ray://HOST:PORT`` address answers, or one ConfigError line
    (Ray itself would retry for minutes, then fail with a long trace)."""
    if address == "auto":
        return
    host, port = address.removeprefix("ray://").rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_S).close()
    except OSError as exc:
        raise ConfigError(
            f"no Ray cluster answers at this address ({exc.strerror or exc})",
            where="executor address", value=address,
            fix="start the cluster first (ray start --head on the head node) and pass the "
                "head's HOST:PORT (6379 by default), or leave out --address for a private "
                "local cluster") from None


def on_loopback(address: str) -> bool:
    """Whether a Ray address (``HOST:PORT``, ``ray://HOST:PORT``) names this machine's
    loopback interface."""
    import ipaddress

    host = address.removeprefix("ray://").rsplit(":", 1)[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve(spec: ExecutorSpec | None, overrides: dict[str, Any] | None = None, *,
            where: str = "command line") -> ExecutorSpec:
    """The suite's executor with command-line options on top (they win). A different
    executor name on the command line drops the suite's options for the other one."""
    from pydantic import ValidationError

    base = spec or ExecutorSpec()
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    data = base.model_dump(exclude_defaults=True)
    if "name" in given and given["name"] != base.name:
        data = {}
    data.update(given)
    try:
        out = ExecutorSpec.model_validate(data)
    except ValidationError as err:
        e = err.errors(include_url=False)[0]
        field = "".join(f" {p}" for p in e["loc"])
        msg = e["msg"][0].lower() + e["msg"][1:]
        msg = msg.removeprefix("value error, ")
        value = e.get("input")
        raise ConfigError(f"executor{field}: {msg}", where=where,
                          value=None if isinstance(value, dict) else value,
                          fix="executors: local (with workers) or ray (with address, num_cpus); "
                              "see `adapteval run --help`") from None
    if out.name == "ray":
        if out.address in (None, "local") or on_loopback(out.address):
            # A private cluster, or one on this machine's loopback: Ray then keeps
            # 127.0.0.1 as the node address instead of swapping it for the outward one
            # (found by a UDP connect to a public resolver), which a loopback cluster
            # does not listen on. Read when ray is imported, so set it first.
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        try:
            import ray  # noqa: F401
        except ImportError:
            raise ConfigError("the ray executor needs Ray, which is not installed",
                              where=where, value="ray",
                              fix="pip install 'adapteval[ray]', or use the local executor "
                                  "(--workers N)") from None
        if out.address not in (None, "local"):
            reachable(out.address)
    return out

