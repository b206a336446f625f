"""The smoke test of `make cluster` (deploy/cluster.py): a cluster of two nodes on unusual ports and
its own var dir starts, HAProxy sends requests to both nodes, and `down` leaves nothing running.
Without HAProxy, Redis or PostgreSQL's server binaries it is skipped; in CI (REQUIRE_SERVICES=1)
that is a failure."""

from __future__ import annotations

import random
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.cluster import ROOT, Cluster, ClusterConfig, all_pids, http_get, missing_binaries, pid_alive, port_open
from tests.conftest import REQUIRE_SERVICES

# collectstatic takes half a minute: kept between runs (deploy.cluster skips it when nothing changed).
STATIC_ROOT = ROOT / "var" / "cluster-smoke-static"


def free_ports() -> dict[str, int]:
    """Ports of the smoke cluster, none of them listening now (the nodes' two consecutive)."""
    for _ in range(50):
        base = random.randrange(20000, 30000, 10)
        ports = {"port": base, "stats_port": base + 1, "node_port": base + 2, "pg_port": base + 5}
        ports |= {"replica_port": base + 6, "redis_port": base + 7}
        if not any(port_open(p) for p in range(base, base + 8)):
            return ports
    raise AssertionError("no free block of ports between 20000 and 30000")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    missing = missing_binaries()
    if missing:
        message = f"the cluster needs {', '.join(missing)} (make system-deps)"
        if REQUIRE_SERVICES:
            pytest.fail(message + "; required in CI")
        pytest.skip(message)
    # Not pytest's tmp_path: it is 0700 under root, and PostgreSQL runs as the postgres user.
    var_dir = Path(tempfile.mkdtemp(prefix="sout-cluster-"))
    var_dir.chmod(0o755)
    cfg = ClusterConfig(
        nodes=2,
        node_workers=1,
        celery_workers=1,
        worker_concurrency=1,
        var_dir=var_dir,
        static_root=STATIC_ROOT,
        **free_ports(),
    )
    cluster = Cluster(cfg)
    try:
        yield cluster
    finally:
        cluster.down(clean=True)  # also when the test failed half-way
        shutil.rmtree(var_dir, ignore_errors=True)


def test_cluster_serves_from_both_nodes_through_haproxy_and_stops_clean(cluster: Cluster) -> None:
    cluster.up(demo=False)

    served_by = set()
    for _ in range(20):
        status, headers, _body = http_get(f"{cluster.base_url}/health/")
        assert status == 200
        served_by.add(headers["x-served-by"])
        if len(served_by) == 2:
            break
    assert served_by == {"node1", "node2"}
    status, headers, body = http_get(f"{cluster.base_url}/registry/", timeout=10)
    assert status == 200, body[:500]
    assert headers["x-served-by"] in {"node1", "node2"}

    pids = [*all_pids(cluster.load_state())]
    postmasters = [pg.postmaster_pid() for pg in (cluster.primary, cluster.replica)]
    assert len(pids) >= 6 and all(postmasters)  # nodes, worker (and its pool), beat, Redis, HAProxy

    cluster.down()

    assert [pid for pid in [*pids, *postmasters] if pid and pid_alive(pid)] == []
    assert [port for port in cluster.cfg.ports() if port_open(port)] == []
    assert not cluster.cfg.state_path.exists()


@pytest.mark.parametrize(("cores", "nodes", "expected"), [(2, 2, 1), (8, 2, 4), (8, 3, 2), (2, 4, 1), (None, 2, 1)])
def test_nodes_on_one_machine_share_its_cores(
    monkeypatch: pytest.MonkeyPatch, cores: int | None, nodes: int, expected: int
) -> None:
    """Without --node-workers the nodes run one uvicorn process per core of the machine in all, at
    least one each; a number given is kept."""
    monkeypatch.setattr("deploy.cluster.os.cpu_count", lambda: cores)
    assert ClusterConfig(nodes=nodes).node_workers == expected
    assert ClusterConfig(nodes=nodes, node_workers=3).node_workers == 3
