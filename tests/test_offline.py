"""A whole run never leaves the machine: every connect() goes to a local socket, and the
telemetry switches are set on import (without overriding what the user chose)."""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from tests.conftest import CLI

SUITE = {
    "name": "offline",
    "models": [
        "all-MiniLM-L6-v2",
        {"source": "paraphrase-MiniLM-L3-v2-onnx", "tokenizer": "all-MiniLM-L6-v2"},
    ],
    "tasks": [{"name": "spam", "bundled": "sms-spam", "max_train": 200, "max_test": 100}],
    "strategies": [
        "probe",
        {"name": "kshot", "samples_per_label": 4, "n_experiments": 2},
        {"name": "finetune", "max_steps": 3, "batch_size": 8},
    ],
    "seeds": [0],
    "shortlist": 1,
    "bootstrap": {"n_resamples": 200},
    # every analysis that loads data, spawns a process or reaches into a model
    "analyses": [
        {"name": "robustness", "perturbations": ["typos", "swap_names"], "max_items": 20},
        {"name": "calibration", "temperature": True},
        "counterfactual",
        {"name": "attribution", "n_items": 4, "n_steps": 4, "fractions": [0.5]},
        {"name": "compression", "strategies": ["probe"], "models": ["all-MiniLM-L6-v2"],
         "magnitude": [0.0, 0.5], "int8": True},
        {"name": "cost", "n_texts": 5, "warmup": 1},
    ],
    "criteria": ["accuracy >= 0.5 on every task"],
}

# conftest.py forces these for the in-process tests; a user's shell has none of them.
OFFLINE_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE",
                "ADAPTEVAL_ALLOW_DOWNLOAD")

CONNECT = re.compile(r"connect\(\d+, \{sa_family=(AF_\w+)(.*?)\}")
IPV4 = re.compile(r'sin_addr=inet_addr\("([^"]+)"\)')
IPV6 = re.compile(r'inet_pton\(AF_INET6, "([^"]+)"')
METADATA = ipaddress.ip_address("169.254.169.254")


def _user_env() -> dict[str, str]:
    env = dict(os.environ)
    for key in OFFLINE_VARS:
        env.pop(key, None)
    return env


def _strace() -> str:
    found = shutil.which("strace")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("strace is required in CI (`make test` installs it)")
        pytest.skip("strace is not installed (apt-get install strace); CI runs this test")
    return found


def check_connects(trace: str) -> dict[str, int]:
    """Count connect() calls per address family; fail on any non-loopback inet address."""
    counts: dict[str, int] = {}
    bad: list[str] = []
    for line in trace.splitlines():
        m = CONNECT.search(line)
        if not m:
            continue
        family, rest = m.group(1), m.group(2)
        counts[family] = counts.get(family, 0) + 1
        if family in ("AF_UNIX", "AF_LOCAL", "AF_UNSPEC", "AF_NETLINK"):
            continue
        if family == "AF_INET":
            addr = IPV4.search(rest)
        elif family == "AF_INET6":
            addr = IPV6.search(rest)
        else:
            bad.append(line)
            continue
        if addr is None:
            bad.append(line)
            continue
        ip = ipaddress.ip_address(addr.group(1))
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip == METADATA:
            bad.append(f"cloud metadata endpoint: {line}")
        elif not ip.is_loopback:
            bad.append(line)
    assert not bad, "adapteval connected outside the machine:\n" + "\n".join(bad)
    return counts


def test_check_connects_parses_strace_lines():
    ok = (
        '101 connect(3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1\n'
        '101 connect(4, {sa_family=AF_INET, sin_port=htons(5000), '
        'sin_addr=inet_addr("127.0.0.1")}, 16) = 0\n'
        '101 connect(5, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), '
        'inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0\n'
    )
    assert check_connects(ok) == {"AF_UNIX": 1, "AF_INET": 1, "AF_INET6": 1}
    for addr in ("169.254.169.254", "18.164.174.118"):
        line = (f'7 connect(4, {{sa_family=AF_INET, sin_port=htons(443), '
                f'sin_addr=inet_addr("{addr}")}}, 16) = -1 ENETUNREACH\n')
        with pytest.raises(AssertionError, match=re.escape(addr)):
            check_connects(line)
    v6 = ('7 connect(4, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), '
          'inet_pton(AF_INET6, "2600:1f18::1", &sin6_addr), sin6_scope_id=0}, 28) = -1\n')
    with pytest.raises(AssertionError, match="2600:1f18::1"):
        check_connects(v6)


@pytest.mark.slow
def test_a_whole_run_makes_no_network_connection(workdir):
    strace = _strace()
    (workdir / "suite.yaml").write_text(yaml.safe_dump(SUITE, sort_keys=False))
    trace_file = workdir / "connect.trace"
    proc = subprocess.run(  # `check` runs the suite, then judges it
        [strace, "-f", "-e", "trace=connect", "-o", str(trace_file), *CLI, "check", "suite.yaml",
         "-q"],
        capture_output=True, text=True, env=_user_env(), cwd=workdir, timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert trace_file.is_file() and trace_file.stat().st_size > 0, "strace recorded nothing"
    trace = trace_file.read_text()
    assert "+++ exited with 0 +++" in trace, trace[-2000:]
    counts = check_connects(trace)
    print(f"connect() calls by family: {counts or 'none'}")


RAY_SUITE = {
    "name": "offline-ray",
    "models": ["all-MiniLM-L6-v2"],
    "baselines": ["tfidf"],
    "tasks": [{"name": "spam", "bundled": "sms-spam", "max_train": 120, "max_test": 60}],
    "strategies": ["probe", {"name": "kshot", "samples_per_label": 4, "n_experiments": 2}],
    "seeds": [0],
    "executor": {"name": "ray", "num_cpus": 2},
    "bootstrap": {"n_resamples": 200},
}


@pytest.mark.slow
def test_a_whole_ray_run_connects_only_to_loopback(workdir):
    """Ray's own processes (GCS, raylet, workers, agents) are traced too: they talk over
    loopback TCP and unix sockets, and never reach the cloud metadata address."""
    strace = _strace()
    (workdir / "suite.yaml").write_text(yaml.safe_dump(RAY_SUITE, sort_keys=False))
    trace_file = workdir / "connect.trace"
    proc = subprocess.run(
        [strace, "-f", "-e", "trace=connect", "-o", str(trace_file), *CLI, "run", "suite.yaml",
         "-q", "--executor", "ray"],
        capture_output=True, text=True, env={**_user_env(), "ADAPTEVAL_THREADS": "1"},
        cwd=workdir, timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "4 cells: 4 run" in proc.stderr, proc.stderr[-2000:]
    trace = trace_file.read_text()
    assert "+++ exited with 0 +++" in trace, trace[-2000:]
    pids = {line.split()[0] for line in trace.splitlines() if line[:1].isdigit()}
    assert len(pids) > 5, "Ray's processes were not traced"
    counts = check_connects(trace)
    assert counts.get("AF_INET", 0) + counts.get("AF_INET6", 0) > 0, "Ray made no loopback TCP"
    print(f"connect() calls by family under Ray: {counts}")


@pytest.mark.slow
def test_telemetry_is_off_by_default_in_a_fresh_process():
    keys = ["HF_HUB_DISABLE_TELEMETRY", "DO_NOT_TRACK", "MLFLOW_DISABLE_TELEMETRY",
            "RAY_USAGE_STATS_ENABLED", "ORT_DISABLE_TELEMETRY"]
    env = _user_env()
    for key in keys:
        env.pop(key, None)
    code = f"import adapteval, os; print([os.environ.get(k) for k in {keys!r}])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True).stdout
    assert out.strip() == str(["1", "true", "true", "0", "1"])


@pytest.mark.slow
def test_telemetry_defaults_keep_the_users_choice():
    env = _user_env()
    env.update(HF_HUB_DISABLE_TELEMETRY="0", DO_NOT_TRACK="1", RAY_USAGE_STATS_ENABLED="1")
    env.pop("MLFLOW_DISABLE_TELEMETRY", None)
    code = ("import adapteval, os; print([os.environ.get(k) for k in ('HF_HUB_DISABLE_TELEMETRY', "
            "'DO_NOT_TRACK', 'RAY_USAGE_STATS_ENABLED', 'MLFLOW_DISABLE_TELEMETRY')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True).stdout
    assert out.strip() == str(["0", "1", "1", "true"])


@pytest.mark.slow
def test_a_two_node_ray_cluster_connects_only_to_loopback(tmp_path):
    """A cluster of two nodes (``tests/execution/ray_nodes.py``) and a driver joining it
    with ``--address``, every process of both traced: nodes, workers and driver talk over
    loopback and unix sockets only."""
    from tests.execution.test_ray_cluster import two_nodes

    strace = _strace()
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(
        {**RAY_SUITE, "name": "offline-two-nodes", "executor": "local"}, sort_keys=False))
    cluster_trace, run_trace = tmp_path / "cluster.trace", tmp_path / "run.trace"
    with two_nodes([strace, "-f", "-e", "trace=connect", "-o", str(cluster_trace)]) as (addr, env):
        proc = subprocess.run(
            [strace, "-f", "-e", "trace=connect", "-o", str(run_trace), *CLI, "run",
             "suite.yaml", "-q", "--executor", "ray", "--address", addr],
            capture_output=True, text=True, cwd=tmp_path, timeout=900,
            env={**{k: v for k, v in env.items() if k not in OFFLINE_VARS},
                 "ADAPTEVAL_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "4 cells: 4 run" in proc.stderr, proc.stderr[-2000:]
    for trace_file in (cluster_trace, run_trace):
        trace = trace_file.read_text()
        assert "+++ exited with 0 +++" in trace, trace[-2000:]
        counts = check_connects(trace)
        assert counts.get("AF_INET", 0) + counts.get("AF_INET6", 0) > 0, trace_file.name
        print(f"connect() calls by family in {trace_file.stem}: {counts}")
