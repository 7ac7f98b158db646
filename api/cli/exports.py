"""``gridhouse export LAYER --out FILE``: a layer to GeoPackage, GeoJSON, CSV or XLSX.

The operator acts as an administrator (``cli:<os user>``, like every CLI job), or as a named
account with ``--as NAME``: then the export holds only what that account may read (an officer's
grids, a police division) and the audit row names it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import cli_actor, console, session_scope
from gis.access.scope import Scope
from gis.audit.service import outcome_of, record_audit
from gis.crs import parse_crs
from gis.errors import InvalidInput
from gis.exports.formats import ExportFormat, ExportLayer
from gis.people.periods import today_in_china
from gis.people.registry import load_people_cipher
from gis.settings import get_settings
from gis.users.queries import select_user


def export(
    layer: Annotated[
        ExportLayer, typer.Argument(help="buildings, houses, grids, divisions or people")
    ],
    out: Annotated[Path, typer.Option("--out", help="The file to write (must not exist)")],
    file_format: Annotated[
        ExportFormat | None,
        typer.Option("--format", help="gpkg, geojson, csv or xlsx (default: from --out)"),
    ] = None,
    crs: Annotated[
        str | None,
        typer.Option(help="EPSG:n, GCJ02 or BD09 (default EPSG:4326 for geojson, else 4490)"),
    ] = None,
    grid: Annotated[str | None, typer.Option(help="Only this live grid (15 digits)")] = None,
    division: Annotated[
        str | None, typer.Option(help="Only under this division (6, 9 or 12 digits)")
    ] = None,
    as_user: Annotated[
        str | None, typer.Option("--as", help="Export what this account may read, in its name")
    ] = None,
) -> None:
    """Export a layer as the caller may read it (people: administrators only); audited."""
    from gis.exports.service import export_layer  # local: keeps `gridhouse --help` fast

    cipher = load_people_cipher(get_settings()) if layer is ExportLayer.PEOPLE else None
    operator = cli_actor()
    scope = Scope.system(operator.name or "cli")
    if as_user is not None:
        with session_scope() as session:
            user = select_user(session, name=as_user)
            if user is None or user.is_disabled:
                raise InvalidInput(f"no active account {as_user!r}", field="--as")
            scope = Scope.for_user(user)
    chosen: ExportFormat | str = file_format or "format unknown"
    try:  # a refused export is audited too, a bad --format or --crs included
        chosen = file_format or ExportFormat.from_path(out)
        named = ExportFormat.named_by(out)
        if file_format is not None and named is not None and named is not file_format:
            raise InvalidInput(
                f"{out.name} names a {named.value} file but --format is {file_format.value}: a "
                f"reader would open it as the wrong kind; name the file .{file_format.value}",
                field="--format",
            )
        target = parse_crs(crs, field="--crs") if crs is not None else None
        with session_scope() as session:
            result = export_layer(
                session, layer=layer, out=out, file_format=chosen, scope=scope,
                actor=scope.actor if as_user else operator, crs=target, grid_code=grid,
                division_code=division, today=today_in_china(), cipher=cipher,
            )  # fmt: skip
    except Exception as error:
        # the export's own row went with its transaction: the attempt is recorded on its own
        with session_scope() as session:
            record_audit(
                session, actor=scope.actor if as_user else operator, action=f"export.{layer}",
                target_codes=[code for code in (grid, division) if code],
                purpose=f"export to {out.name} ({chosen})", row_count=0,
                outcome=outcome_of(error),
            )  # fmt: skip
        raise
    console.print(f"exported {result.rows:,} {result.layer} to {result.path} ({result.crs_label})")
