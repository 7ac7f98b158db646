"""``gridhouse demo``: build the demo district from ../shared/data, then serve it."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import console, engine_scope
from api.cli.serve import serve
from gis import schema
from gis.db import database_url, make_session_factory
from gis.demo import build_demo
from gis.errors import EnvironmentProblem
from gis.settings import get_settings


def demo(
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build only, do not serve")] = False,
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
) -> None:
    """Build the demo district (idempotent): divisions, Nanshan communities and buildings."""
    settings = get_settings()
    data = settings.shared_data_dir
    if not (data / "divisions").is_dir():
        raise EnvironmentProblem(
            f"the shared data folder {data.resolve()} is missing; set GRIDHOUSE_SHARED_DATA_DIR",
            field="GRIDHOUSE_SHARED_DATA_DIR",
        )
    schema.upgrade(database_url(settings))
    with engine_scope() as engine:
        report = build_demo(
            make_session_factory(engine),
            data=data,
            rejects_dir=settings.data_dir / "rejects",
            on_progress=lambda step: console.print(f"demo: {step} …"),
        )
    console.print(f"divisions: {report.divisions_inserted:,} new")
    console.print(f"communities (demo-only boundaries): {len(report.communities)}")
    if report.buildings_skipped:
        console.print("buildings: already imported, kept")
    else:
        console.print(f"buildings: {report.buildings_imported:,} imported with new codes")
    console.print(f"houses: {report.houses_estimated:,} estimated (buildings without a house list)")
    console.print("demo district ready")
    if not no_serve:
        serve(host=host, port=port)
