"""``gridhouse demo``: build the demo district from ../shared/data, then serve it."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import console, session_scope
from api.cli.serve import serve
from gis import schema
from gis.crs import parse_crs
from gis.db import database_url
from gis.divisions import service as divisions
from gis.errors import EnvironmentProblem
from gis.settings import get_settings


def demo(
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build only, do not serve")] = False,
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
) -> None:
    """Migrate, load divisions and Shenzhen's district boundaries; idempotent."""
    settings = get_settings()
    data = settings.shared_data_dir
    if not (data / "divisions").is_dir():
        raise EnvironmentProblem(
            f"the shared data folder {data.resolve()} is missing; set GRIDHOUSE_SHARED_DATA_DIR",
            field="GRIDHOUSE_SHARED_DATA_DIR",
        )
    schema.upgrade(database_url(settings))
    with session_scope() as session:
        result = divisions.import_divisions(session, path=data / "divisions")
        console.print(f"divisions: {result.inserted:,} new, {result.unchanged:,} unchanged")
        attached = divisions.attach_boundaries(
            session, path=data / "shenzhen-districts.geojson", crs=parse_crs("EPSG:4490")
        )
        console.print(
            f"district boundaries: {attached.updated} attached, {attached.unchanged} kept"
        )
    console.print("demo district ready")
    if not no_serve:
        serve(host=host, port=port)
