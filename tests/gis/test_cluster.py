"""The embedded cluster's idempotency: start twice, stale pid file, restart after a stop."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from gis import cluster
from gis.errors import EnvironmentProblem


@pytest.fixture(scope="module")
def small_cluster() -> Iterator[cluster.Cluster]:
    data_dir = Path(tempfile.mkdtemp(prefix="gridhouse-cluster-test-"))
    data_dir.chmod(0o755)
    own = cluster.Cluster(
        data_dir=data_dir, port=cluster.free_port(), shared_buffers="32MB", durable=False
    )
    yield own
    cluster.destroy(own)


def _select_one(url: str) -> int:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        row = conn.execute("SELECT 1").fetchone()
    assert row is not None
    return int(row[0])


def test_start_is_idempotent(small_cluster: cluster.Cluster) -> None:
    assert cluster.status(small_cluster) is cluster.ClusterState.ABSENT
    url = cluster.start(small_cluster)
    assert cluster.start(small_cluster) == url
    assert cluster.status(small_cluster) is cluster.ClusterState.RUNNING
    assert _select_one(url) == 1


def test_settings_suit_a_small_machine(small_cluster: cluster.Cluster) -> None:
    url = cluster.start(small_cluster).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        settings: dict[str, str] = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('max_parallel_workers_per_gather', 'jit', 'listen_addresses')"
            ).fetchall()
        )
    assert settings == {
        "max_parallel_workers_per_gather": "0",
        "jit": "off",
        "listen_addresses": "127.0.0.1",
    }


def test_start_after_a_crash_with_a_stale_pid_file(small_cluster: cluster.Cluster) -> None:
    url = cluster.start(small_cluster)
    cluster.stop(small_cluster)
    assert cluster.status(small_cluster) is cluster.ClusterState.STOPPED
    # as after a reboot: the pid file survives and names a live process that is not postgres
    pid_file = small_cluster.pgdata / "postmaster.pid"
    pid_file.write_text(f"{os.getpid()}\n{small_cluster.pgdata}\n")
    assert cluster.start(small_cluster) == url
    assert _select_one(url) == 1


def test_a_taken_port_is_named(small_cluster: cluster.Cluster) -> None:
    cluster.start(small_cluster)
    other = cluster.Cluster(
        data_dir=small_cluster.data_dir.parent / (small_cluster.data_dir.name + "-b"),
        port=small_cluster.port,
        shared_buffers="32MB",
        durable=False,
    )
    other.data_dir.mkdir(mode=0o755)
    try:
        with pytest.raises(EnvironmentProblem, match=f"port {small_cluster.port}") as error:
            cluster.start(other)
        assert error.value.field == "GRIDHOUSE_DB_PORT"
    finally:
        cluster.destroy(other)
