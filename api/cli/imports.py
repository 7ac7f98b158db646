"""``gridhouse import …``: divisions now; buildings, houses, people and grids as they arrive."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import audit_cli, console, options_named, rejects_path, session_scope
from gis.crs import parse_crs
from gis.divisions import service as divisions
from gis.errors import InvalidInput

app = typer.Typer(help="Import real files into the database.", no_args_is_help=True)


@app.command("divisions")
def import_divisions(
    path: Annotated[Path, typer.Argument(help="Folder of provinces.csv … villages-*.csv")],
    boundaries: Annotated[
        Path | None, typer.Option(help="A file of division polygons with a 'code' column")
    ] = None,
    crs: Annotated[
        str | None, typer.Option(help="CRS of the boundaries file (overrides what it declares)")
    ] = None,
) -> None:
    """Load the province → village hierarchy; re-running changes nothing. A boundaries file is
    read and checked first: any bad input stores nothing."""
    boundary_file = None
    if crs is not None and boundaries is None:
        raise InvalidInput("it is the CRS of a --boundaries file, and none is given", field="--crs")
    with options_named({"boundaries": "--boundaries", "crs": "--crs"}):
        if boundaries is not None:
            source = parse_crs(crs, field="--crs") if crs is not None else None
            boundary_file = divisions.read_boundaries(boundaries, crs=source)
    attached = None
    with session_scope() as session:
        result = divisions.import_divisions(session, path=path)
        if boundary_file is not None:
            attached = divisions.store_boundaries(session, boundary_file)
        changed = result.inserted + result.updated
        audit_cli(session, "divisions.import", target_codes=[path.name], row_count=changed)
        if attached is not None and boundaries is not None:
            audit_cli(session, "divisions.boundaries", target_codes=[boundaries.name],
                      row_count=attached.updated)  # fmt: skip
    # said once all is stored: a refusal above prints only its reason
    levels = ", ".join(f"{count:,} {level}" for level, count in result.by_level.items())
    console.print(f"read {result.read:,} rows ({levels})")
    for folded in result.folded:
        console.print(f"  folded into its parent (same 12-digit code): {folded}")
    console.print(
        f"divisions: {result.inserted:,} inserted, {result.updated:,} updated, "
        f"{result.unchanged:,} unchanged"
    )
    if attached is not None:
        console.print(
            f"boundaries: {attached.read} read, {attached.updated} attached or changed, "
            f"{attached.unchanged} unchanged"
        )
        if attached.unmatched:
            console.print(f"  no such division: {', '.join(attached.unmatched)}")


@app.command("buildings")
def import_buildings(
    file: Annotated[
        Path, typer.Argument(help="GeoPackage, Shapefile, GeoJSON, FlatGeobuf or OSM PBF")
    ],
    layer: Annotated[str | None, typer.Option(help="Layer to read (default: the only one)")] = None,
    crs: Annotated[
        str | None, typer.Option(help="CRS of the file, overriding its own: EPSG:n, GCJ02 or BD09")
    ] = None,
    community: Annotated[
        str | None, typer.Option(help="Assign every building to this community code")
    ] = None,
    resurvey: Annotated[
        bool, typer.Option("--resurvey", help="Match footprints to existing codes")
    ] = False,
    repair: Annotated[
        bool, typer.Option("--repair", help="Repair invalid polygons instead of refusing them")
    ] = False,
    rejects: Annotated[Path | None, typer.Option(help="Where to write rejected rows (CSV)")] = None,
    batch_size: Annotated[int, typer.Option(min=100, max=1_000_000)] = 50_000,
) -> None:
    """Import building footprints and issue each a permanent 25-character code."""
    from api.cli.buildings import run_import  # local: keeps `gridhouse --help` fast

    run_import(
        file=file, layer=layer, crs=crs, community=community, resurvey=resurvey,
        repair=repair, rejects=rejects, batch_size=batch_size,
    )  # fmt: skip


@app.command("houses")
def import_houses(
    file: Annotated[
        Path,
        typer.Argument(help="CSV or XLSX: building_code, floor, room, use, area_m2, is_rented"),
    ],
    rejects: Annotated[Path | None, typer.Option(help="Where to write rejected rows (CSV)")] = None,
) -> None:
    """Add houses (units 00001…) to buildings from a list; bad rows go to a rejects file, and a
    house listed again (same building, floor and room) is not added twice."""
    from gis.houses.service import import_houses as add_houses

    if not file.exists():
        raise InvalidInput(f"{file} does not exist", field="FILE")
    rejects_file = rejects_path(rejects, source=file, kind="houses")
    with session_scope() as session:
        result = add_houses(session, path=file)
        audit_cli(session, "houses.import", target_codes=[file.name], row_count=result.imported)
    for line, reason in result.rejected[:20]:
        console.print(f"  rejected line {line}: {reason}")
    if result.rejected:
        with rejects_file.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["line", "reason", *result.headers])
            for line, reason in result.rejected:
                writer.writerow([line, reason, *result.raw.get(line, [])])
        console.print(f"  rejected rows with their reasons: {rejects_file}")
    console.print(
        f"read {result.read:,}, imported {result.imported:,}, already there "
        f"{result.already_there:,} (let or no longer let: {result.rented_changed:,}), "
        f"rejected {len(result.rejected):,}"
    )


@app.command("grids")
def import_grids(
    file: Annotated[Path, typer.Argument(help="GeoPackage, Shapefile, GeoJSON or FlatGeobuf")],
    layer: Annotated[str | None, typer.Option(help="Layer to read (default: the only one)")] = None,
    crs: Annotated[
        str | None, typer.Option(help="CRS of the file, overriding its own: EPSG:n, GCJ02 or BD09")
    ] = None,
    valid_from: Annotated[
        str | None, typer.Option(help="The date the grids take effect (default today)")
    ] = None,
) -> None:
    """Make a file's grids the live grids of their communities (codes kept when valid)."""
    from api.cli.grids import run_grid_import  # local: keeps `gridhouse --help` fast

    run_grid_import(file=file, layer=layer, crs=crs, valid_from=valid_from)


@app.command("roads")
def import_roads(
    file: Annotated[Path, typer.Argument(help="A file of road centrelines (lines)")],
    layer: Annotated[str | None, typer.Option(help="Layer to read (default: roads)")] = None,
    crs: Annotated[
        str | None, typer.Option(help="CRS of the file, overriding its own: EPSG:n, GCJ02 or BD09")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace the roads loaded from this file")
    ] = False,
    rejects: Annotated[Path | None, typer.Option(help="Where to write rejected rows (CSV)")] = None,
) -> None:
    """Load road centrelines (grid suggestions follow them); bad rows are rejected with their
    reasons, the others loaded."""
    from api.cli.grids import run_road_import

    run_road_import(file=file, layer=layer, crs=crs, replace=replace, rejects=rejects)


@app.command("events")
def import_events(
    file: Annotated[
        Path, typer.Argument(help="CSV, XLSX or GeoJSON in the template of docs/events.md")
    ],
    crs: Annotated[
        str | None,
        typer.Option(help="CRS of lon/lat (or overriding a GeoJSON's): EPSG:n, GCJ02 or BD09"),
    ] = None,
    rejects: Annotated[Path | None, typer.Option(help="Where to write rejected rows (CSV)")] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=100_000)] = 2000,
) -> None:
    """Import events (reported elsewhere); bad rows go to a rejects file with reasons, and rows
    whose source_id was imported before are skipped."""
    from api.cli.events import run_event_import  # local: keeps `gridhouse --help` fast

    run_event_import(file, crs=crs, rejects=rejects, batch_size=batch_size)


@app.command("people")
def import_people(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX in the template of docs/people.md")],
    rejects: Annotated[Path | None, typer.Option(help="Where to write rejected rows (CSV)")] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=100_000)] = 5000,
    holidays: Annotated[
        Path | None, typer.Option(help="Public holidays for declaration deadlines")
    ] = None,
) -> None:
    """Import residents and their residences; bad rows go to a rejects file with reasons."""
    from api.cli.people import run_people_import  # local: keeps `gridhouse --help` fast

    if not file.exists():
        raise InvalidInput(f"{file} does not exist", field="FILE")
    run_people_import(file, rejects=rejects, batch_size=batch_size, holidays=holidays)
