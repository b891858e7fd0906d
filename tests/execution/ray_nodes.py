"""A Ray cluster of two nodes (or ``--nodes N``) on this machine's loopback, one CPU
each, for tests and ``benchmarks/scale.py``.

    python -m tests.execution.ray_nodes FOLDER [--nodes N]

prints the cluster's address, runs until its standard input closes, then stops the
nodes. Run it with the environment of :func:`env`: everything stays on 127.0.0.1, under
FOLDER, with no dashboard and no usage stats.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def env(folder: Path) -> dict[str, str]:
    """The environment for the cluster (and for a driver joining it): HOME in ``folder``
    with a ``ray_bootstrap_config.yaml``, so Ray does not probe a cloud metadata address;
    node addresses kept on loopback; usage stats off, and the head's report that they are
    off (which a cluster not started by ``ray.init`` sends to usage-stats.ray.io) sent to
    a closed loopback port; Ray's session files under ``folder``; 120 s for the GCS server
    to start on a busy machine (Ray's default is 30 s); workers that import this tree's
    adapteval (and the tests' plugins)."""
    home = folder / "home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "ray_bootstrap_config.yaml").write_text("# a test cluster on loopback\n")
    path = [str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "HOME": str(home), "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
            "RAY_USAGE_STATS_ENABLED": "0", "RAY_USAGE_STATS_REPORT_URL": "http://127.0.0.1:9/",
            "RAY_TMPDIR": str(folder), "RAY_gcs_server_port_wait_time_s": "120",
            "PYTHONPATH": os.pathsep.join(p for p in path if p)}


def main() -> None:
    from ray.cluster_utils import Cluster

    folder = Path(sys.argv[1])
    nodes = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--nodes" else 2
    node = {"num_cpus": 1, "node_ip_address": "127.0.0.1",
            "object_store_memory": 100 * 1024**2}
    cluster = Cluster(initialize_head=True, head_node_args={
        **node, "include_dashboard": False, "temp_dir": str(folder / "ray")})
    for _ in range(nodes - 1):
        cluster.add_node(**node)
    print(cluster.address, flush=True)
    sys.stdin.read()
    cluster.shutdown()


if __name__ == "__main__":
    main()
