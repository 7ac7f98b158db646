"""``gridhouse demo``: build the demo district from ../shared/data, then serve it."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import console, engine_scope
from api.cli.serve import serve
from gis import schema
from gis.db import database_url, make_session_factory
from gis.demo import build_demo
from gis.demo_users import DEMO_PASSWORD
from gis.errors import EnvironmentProblem
from gis.people.registry import people_key_path
from gis.settings import get_settings


def demo(
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build only, do not serve")] = False,
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
) -> None:
    """Build the demo district (idempotent): divisions, Nanshan communities, buildings and grids."""
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
            people_key=people_key_path(settings),
        )
    console.print(f"divisions: {report.divisions_inserted:,} new")
    console.print(f"communities (demo-only boundaries): {len(report.communities)}")
    if report.buildings_skipped:
        console.print("buildings: already imported, kept")
    else:
        console.print(f"buildings: {report.buildings_imported:,} imported with new codes")
    console.print(f"houses: {report.houses_estimated:,} estimated (buildings without a house list)")
    grids = report.grids
    if grids is not None and grids.skipped:
        console.print("grids: already published, kept")
    elif grids is not None:
        classes = ", ".join(f"{n} {cls}" for cls, n in sorted(grids.by_class.items()))
        console.print(
            f"grids: {grids.published} suggested along {grids.roads_loaded or 'the loaded'} roads "
            f"and published (plan {grids.plan_id}), classified: {classes}; households are "
            "estimated from the houses until residents are registered"
        )
    created = [user.name for user in report.users if user.created]
    if created:
        console.print(f"demo users: {', '.join(created)} (password: {DEMO_PASSWORD})")
    residents = report.residents
    if residents is not None and residents.skipped:
        console.print("residents: already there, kept")
    elif residents is not None:
        console.print(
            f"residents: {residents.people:,} generated (fictitious) in {residents.houses:,} "
            f"houses, {residents.residences:,} residences, {residents.declarations:,} "
            f"declarations, in {residents.seconds:.0f} s"
        )
    if report.classes_with_residents is not None:
        classes = ", ".join(f"{n} {c}" for c, n in sorted(report.classes_with_residents.items()))
        console.print(f"grids classified again with the residents: {classes}")
    console.print("demo district ready")
    if not no_serve:
        serve(host=host, port=port)
