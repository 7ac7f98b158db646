"""``gridhouse buildings retire|confirm|changes|correct|split|merge``: a building's life after
import."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from api.cli.buildings import review_text
from api.cli.common import audit_cli, console, options_named, session_scope
from gis.buildings import service
from gis.buildings.models import ChangeKind, ImportChange
from gis.codes import group_code
from gis.crs import parse_crs, transform_geometries
from gis.errors import InvalidInput
from gis.private_files import check_new_file
from gis.table_files import check_file
from gis.vector_files import choose_layer, read_frame, source_crs

app = typer.Typer(
    help="Retire, correct, split, merge and confirm buildings; read a re-survey's changelog.",
    no_args_is_help=True,
)

ONE_CODE = {"code": "CODE", "reason": "--reason", "geometry": "--geometry", "parts": "--parts"}
"""The service's fields as this command line names them (errors said ``geometry: …``)."""
SEVERAL_CODES = {"code": "CODES", "codes": "CODES", "geometry": "--geometry"}

CrsOption = Annotated[
    str | None, typer.Option(help="CRS of the file (overrides what the file declares)")
]


def read_polygons(path: Path, crs: str | None, *, field: str) -> list[Any]:
    """Polygons of a file (GeoJSON, GeoPackage…) converted to EPSG:4490; a file that is not a
    readable vector file, or holds no feature, is refused naming ``field``."""
    try:
        check_file(path, field=field)
        layer = choose_layer(path, None, preferred="buildings")
    except InvalidInput as error:
        raise InvalidInput(error.message, field=field) from None
    frame = read_frame(path, layer=layer, field=field)
    if len(frame) == 0:
        raise InvalidInput(f"{path.name} holds no footprint", field=field)
    source = source_crs(path, parse_crs(crs, field="--crs") if crs is not None else None, frame.crs)
    return list(transform_geometries(np.asarray(frame.geometry.values), source))


def read_polygon(path: Path, crs: str | None, *, field: str) -> Any:
    """The one polygon of a file, as :func:`read_polygons`; a file of several is refused (the
    others were ignored)."""
    (geom, *rest) = read_polygons(path, crs, field=field)
    if rest:
        raise InvalidInput(
            f"the file must hold exactly one footprint ({path.name} holds {len(rest) + 1})",
            field=field,
        )
    return geom


@app.command()
def retire(
    code: str,
    reason: Annotated[str, typer.Option(help="demolished, error or removed")] = "demolished",
) -> None:
    """Retire a building: the code stays on record and is never issued again."""
    with session_scope() as session, options_named(ONE_CODE):
        building = service.retire_building(session, code=code, reason=reason)
        audit_cli(session, "buildings.retire", target_codes=[building.code], row_count=1)
        console.print(f"{group_code(building.code)} retired ({reason})")


@app.command()
def confirm(
    codes: Annotated[list[str] | None, typer.Argument(help="Building codes")] = None,
    batch: Annotated[
        int | None,
        typer.Option(help="Every provisional building of this import batch (a re-survey's)"),
    ] = None,
) -> None:
    """Confirm re-survey outcomes: provisional → active, pending_removal → retired; one code,
    several, or every provisional building of a re-survey's batch."""
    if not codes and batch is None:
        raise InvalidInput("name building codes or a --batch", field="CODES")
    with session_scope() as session, options_named(SEVERAL_CODES):
        for code in codes or []:
            building = service.confirm_building(session, code=code)
            console.print(f"{group_code(building.code)} is now {building.status.value}")
        confirmed = list(codes or [])
        if batch is not None:
            activated = service.confirm_provisional_of_batch(session, batch_id=batch)
            console.print(f"{len(activated):,} provisional buildings of batch {batch} are active")
            confirmed += activated
        audit_cli(session, "buildings.confirm", target_codes=confirmed[:100],
                  row_count=len(confirmed))  # fmt: skip


@app.command()
def changes(
    batch: Annotated[int, typer.Argument(help="The re-survey's import batch number", min=1)],
    change: Annotated[ChangeKind | None, typer.Option(help="Only these lines, e.g. review")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write every line to this new CSV file instead")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Lines printed without --out")] = 50,
) -> None:
    """A re-survey's changelog again: added, changed, unchanged, pending_removal and review
    lines (a review line: what it proposes, the codes and the file's rows, their overlap)."""
    if out is not None:
        check_new_file(out)
    with session_scope() as session:
        lines = service.resurvey_changes(session, batch_id=batch, change=change)
    if out is not None:
        with out.open("x", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["change", "code", "source_id", "detail"])
            for line in lines:
                detail = json.dumps(line.detail, ensure_ascii=False) if line.detail else ""
                writer.writerow([line.change.value, line.code or "", line.source_id or "", detail])
        console.print(f"{len(lines):,} lines of batch {batch} written to {out}")
        return
    for line in lines[:limit]:
        console.print(_change_line(line), markup=False, highlight=False)
    if len(lines) > limit:
        console.print(f"… {len(lines) - limit:,} more: --out FILE.csv writes them all")
    counts = Counter(line.change.value for line in lines)
    console.print(
        f"batch {batch}: "
        + (", ".join(f"{kind} {n:,}" for kind, n in sorted(counts.items())) or "no changelog lines")
    )


def _change_line(line: ImportChange) -> str:
    if line.change is not ChangeKind.REVIEW:
        return f"{line.change.value:<16}{line.code or '-':<26}{line.source_id or ''}"
    return review_text(line.detail)


@app.command()
def correct(
    code: str,
    geometry: Annotated[Path, typer.Option(help="File holding the corrected footprint")],
    crs: CrsOption = None,
) -> None:
    """Replace a footprint; the code stays, the version goes up, the old footprint is kept."""
    geom = read_polygon(geometry, crs, field="--geometry")
    with session_scope() as session, options_named(ONE_CODE):
        building = service.correct_geometry(session, code=code, geom=geom)
        audit_cli(session, "buildings.correct", target_codes=[building.code], row_count=1)
        console.print(f"{group_code(building.code)} corrected, now version {building.version}")


@app.command()
def split(
    code: str,
    parts: Annotated[Path, typer.Option(help="File holding the parts (two or more polygons)")],
    crs: CrsOption = None,
) -> None:
    """1 → n: retire the building and issue a code to each part (lineage recorded)."""
    geoms = read_polygons(parts, crs, field="--parts")
    # a part's errors name it (parts[1]): the option, and which feature of the file
    named = ONE_CODE | {f"parts[{i}]": f"--parts (feature {i + 1})" for i in range(len(geoms))}
    with session_scope() as session, options_named(named):
        children = service.split_building(session, code=code, parts=geoms)
        audit_cli(session, "buildings.split", target_codes=[code, *(c.code for c in children)],
                  row_count=len(children))  # fmt: skip
        for child in children:
            console.print(f"{group_code(code)} → {group_code(child.code)}")


@app.command()
def merge(
    codes: Annotated[list[str], typer.Argument(help="Two or more building codes")],
    geometry: Annotated[
        Path | None, typer.Option(help="Footprint of the merged building (default: the union)")
    ] = None,
    crs: CrsOption = None,
) -> None:
    """n → 1: retire the buildings and issue one code to the merged building (lineage recorded)."""
    geom = read_polygon(geometry, crs, field="--geometry") if geometry else None
    with session_scope() as session, options_named(SEVERAL_CODES):
        child = service.merge_buildings(session, codes=codes, geom=geom)
        audit_cli(session, "buildings.merge", target_codes=[*codes, child.code], row_count=1)
        console.print(f"{', '.join(map(group_code, codes))} → {group_code(child.code)}")
