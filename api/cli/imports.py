"""``gridhouse import …``: divisions now; buildings, houses, people and grids as they arrive."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import console, session_scope
from gis.crs import parse_crs
from gis.divisions import service as divisions

app = typer.Typer(help="Import real files into the database.", no_args_is_help=True)


@app.command("divisions")
def import_divisions(
    path: Annotated[Path, typer.Argument(help="Folder of provinces.csv … villages-*.csv")],
    boundaries: Annotated[
        Path | None, typer.Option(help="A file of division polygons with a 'code' column")
    ] = None,
    crs: Annotated[
        str | None, typer.Option(help="CRS of the boundaries file when it declares none")
    ] = None,
) -> None:
    """Load the province → village hierarchy; re-running changes nothing."""
    with session_scope() as session:
        result = divisions.import_divisions(session, path=path)
        levels = ", ".join(f"{count:,} {level}" for level, count in result.by_level.items())
        console.print(f"read {result.read:,} rows ({levels})")
        for folded in result.folded:
            console.print(f"  folded into its parent (same 12-digit code): {folded}")
        console.print(
            f"divisions: {result.inserted:,} inserted, {result.updated:,} updated, "
            f"{result.unchanged:,} unchanged"
        )
        if boundaries is not None:
            attached = divisions.attach_boundaries(
                session, path=boundaries, crs=parse_crs(crs, field="--crs") if crs else None
            )
            console.print(
                f"boundaries: {attached.read} read, {attached.updated} attached or changed, "
                f"{attached.unchanged} unchanged"
            )
            if attached.unmatched:
                console.print(f"  no such division: {', '.join(attached.unmatched)}")
