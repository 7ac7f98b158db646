"""``gridhouse db start|stop|status|url|install`` and ``gridhouse migrate``."""

from __future__ import annotations

import typer

from api.cli.common import console
from gis import cluster, schema
from gis.db import database_url, embedded_cluster
from gis.errors import EnvironmentProblem
from gis.settings import get_settings

app = typer.Typer(help="The embedded PostgreSQL + PostGIS cluster.", no_args_is_help=True)


def _embedded() -> cluster.Cluster:
    settings = get_settings()
    if settings.database_url:
        raise EnvironmentProblem(
            "it is set: gridhouse uses that server, not an embedded cluster",
            field="GRIDHOUSE_DATABASE_URL",
        )
    return embedded_cluster(settings)


@app.command()
def install() -> None:
    """Install Debian's PostgreSQL 15 and PostGIS packages when they are missing."""
    cluster.install_postgis()
    console.print("PostgreSQL 15 and PostGIS are installed")


@app.command()
def start() -> None:
    """Create (first time) and start the embedded cluster; nothing happens if it runs."""
    embedded = _embedded()
    cluster.start(embedded)
    console.print(f"running on 127.0.0.1:{embedded.port} (data in {embedded.pgdata})")


@app.command()
def stop() -> None:
    """Stop the embedded cluster if it runs."""
    cluster.stop(_embedded())
    console.print("stopped")


@app.command()
def status() -> None:
    """Print running, stopped or absent; exit 0 only when running."""
    state = cluster.status(_embedded())
    console.print(state.value)
    if state is not cluster.ClusterState.RUNNING:
        raise typer.Exit(3)


@app.command()
def url() -> None:
    """Print the database URL (GRIDHOUSE_DATABASE_URL, else the embedded cluster's)."""
    settings = get_settings()
    print(database_url(settings, start_embedded=False).replace("+psycopg", ""))


def migrate() -> None:
    """Migrate the database to the newest schema (Alembic upgrade head)."""
    settings = get_settings()
    schema.upgrade(database_url(settings))
    console.print("schema is at the newest revision")
    from api.cli.people import ensure_key  # local: keeps `gridhouse --help` fast

    ensure_key()
