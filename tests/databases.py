"""Databases of their own on the test cluster, for tests whose work must really commit (several
connections, a server process, migrations up and down) outside the rolled-back test session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from gis import cluster, schema


def admin_url(pg_cluster: cluster.Cluster) -> str:
    """The cluster's maintenance database, as psycopg takes it."""
    return pg_cluster.url("postgres").replace("postgresql+psycopg://", "postgresql://")


@contextmanager
def own_database(pg_cluster: cluster.Cluster, name: str, *, migrate: bool = True) -> Iterator[str]:
    """A new database ``name`` (one left by an interrupted run is dropped first), migrated to the
    newest schema unless ``migrate`` is false; its URL, then it is dropped, connections and all."""
    admin = admin_url(pg_cluster)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    url = pg_cluster.url(name)
    try:
        if migrate:
            schema.upgrade(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
