"""Importing grids from a file (GeoPackage, Shapefile, GeoJSON, FlatGeobuf): the file's grids
become the live grids of the communities they lie in, from ``valid_from`` on.

Each grid goes to the community polygon holding its point on surface. A code in the file
(column ``code``) is kept when it is a well-formed 15-digit code of that community that is live
or was never issued; otherwise a new code is issued and the reason reported. A live grid of those
communities missing from the file is retired. The file must pass every hard topology rule, or
nothing is stored (the problems are reported with their locations).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from sqlalchemy.orm import Session

from gis.audit.schemas import Actor
from gis.audit.service import record_audit
from gis.buildings import queries as batch_queries
from gis.buildings.models import ImportKind, ImportStatus
from gis.codes import parse_grid_code
from gis.crs import SourceCrs, transform_geometries
from gis.errors import InvalidGeometry, InvalidInput, TopologyViolation
from gis.geometry import check_polygons
from gis.grids import area_queries, queries
from gis.grids.schemas import GridShape, Tolerances
from gis.grids.switch import NewGrid, SwitchResult, as_polygon, switch_grids
from gis.grids.validation import validate_shapes
from gis.vector_files import choose_layer, read_frame, source_crs

CODE_FIELDS = ("code", "grid_code", "网格编码")
NAME_FIELDS = ("name", "grid_name", "网格名称")
MAX_NAME_CHARS = 100
"""A grid name's longest length: ``grids.name`` is VARCHAR(100)."""


@dataclass
class GridImportResult:
    """What an import did: the switch, and the codes of the file that were not kept."""

    read: int
    batch_id: int
    switch: SwitchResult
    not_kept: list[str] = field(default_factory=list)


@dataclass
class GridFile:
    """The grids of a file in EPSG:4490, with the codes and names it gives."""

    geoms: list[Any]
    codes: list[str | None]
    names: list[str | None]
    crs: SourceCrs


def read_grid_file(path: Path, *, layer: str | None, crs: SourceCrs | None) -> GridFile:
    """Read, check and convert a grid file; any bad row refuses the whole file."""
    layer = choose_layer(path, layer, preferred="grids")
    frame = read_frame(path, layer=layer)
    source = source_crs(path, crs, frame.crs)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    check = check_polygons(geoms, repair=False, is_geographic=source.is_geographic)
    for index in np.flatnonzero(check.accepted):
        if len(shapely.get_parts(geoms[index])) != 1:
            check.refuse(int(index), "a grid is one polygon, this one has several parts")
    if check.reasons:
        rows = sorted(check.reasons.items())
        listed = "; ".join(f"row {i + 1}: {reason}" for i, reason in rows[:5])
        more = f" (and {len(rows) - 5} more)" if len(rows) > 5 else ""
        raise InvalidGeometry(f"{len(rows)} grid(s) refused: {listed}{more}", field="FILE")
    converted = transform_geometries(geoms, source)
    polygons = [as_polygon(g) for g in converted]
    for row, polygon in enumerate(polygons, start=1):
        if not shapely.is_valid(polygon):
            raise InvalidGeometry(
                f"row {row} is invalid after conversion to EPSG:4490", field="FILE"
            )
    names = _column(frame, NAME_FIELDS)
    for row, name in enumerate(names, start=1):
        if name is not None and len(name) > MAX_NAME_CHARS:
            raise InvalidInput(
                f"row {row}: the name has {len(name):,} characters, at most {MAX_NAME_CHARS}",
                field="name",
            )
        if name is not None and "\x00" in name:
            raise InvalidInput(f"row {row}: the name contains a NUL byte", field="name")
    return GridFile(polygons, _column(frame, CODE_FIELDS), names, source)


def _column(frame: Any, names: tuple[str, ...]) -> list[str | None]:
    for name in names:
        if name in frame.columns:
            return [None if v is None or v != v else str(v).strip() or None for v in frame[name]]
    return [None] * len(frame)


def _communities(session: Session, geoms: list[Any]) -> list[str | None]:
    """The community polygon holding each grid's point on surface."""
    points = shapely.point_on_surface(np.array(geoms, dtype=object))
    area: Any = shapely.buffer(shapely.envelope(shapely.multipoints(points)), 1e-6)
    found = area_queries.select_communities_meeting(session, wkb=shapely.to_wkb(area))
    result: list[str | None] = [None] * len(geoms)
    if found:
        codes = list(found)
        tree = shapely.STRtree(shapely.from_wkb([found[c] for c in codes]))
        point_index, polygon_index = tree.query(points, predicate="within")
        for p, c in zip(point_index.tolist(), polygon_index.tolist(), strict=True):
            result[p] = codes[c]
    return result


def import_grids(
    session: Session,
    *,
    path: Path,
    valid_from: date,
    actor: Actor,
    layer: str | None = None,
    crs: SourceCrs | None = None,
    tolerances: Tolerances | None = None,
) -> GridImportResult:
    """Make the file's grids the live grids of their communities from ``valid_from``."""
    grid_file = read_grid_file(path, layer=layer, crs=crs)
    if not grid_file.geoms:
        raise InvalidInput(f"{path.name} holds no grid", field="FILE")
    communities = _communities(session, grid_file.geoms)
    lost = [i + 1 for i, c in enumerate(communities) if c is None]
    if lost:
        raise InvalidGeometry(
            f"row(s) {', '.join(map(str, lost[:10]))} lie in no community "
            "polygon (load the division boundaries first)",
            field="FILE",
        )
    covered = sorted({c for c in communities if c is not None})
    live = {
        row.code for row in queries.select_grid_rows(session, communities=covered, open_only=True)
    }
    wanted = [c for c in grid_file.codes if c]
    issued = queries.code_was_issued(session, codes=[c for c in wanted if len(c) == 15])
    seen: set[str] = set()
    not_kept: list[str] = []
    grids: list[NewGrid] = []
    for index, (geom, text_code, name) in enumerate(
        zip(grid_file.geoms, grid_file.codes, grid_file.names, strict=True)
    ):
        community = str(communities[index])
        code = _kept_code(text_code, community, live, issued, seen, not_kept, row=index + 1)
        grids.append(NewGrid(code=code, community_code=community, geom=geom, name=name))
    shapes = [
        GridShape(g.code or f"row {i + 1}", g.community_code, g.geom) for i, g in enumerate(grids)
    ]
    report = validate_shapes(session, grids=shapes, communities=covered, tolerances=tolerances)
    if not report.ok:
        first = report.errors[0]
        raise TopologyViolation(
            f"{path.name} breaks {len(report.errors)} hard rule(s), the first: {first.message} "
            f"at {first.location}",
            problems=report.feature_collection(),
        )
    batch_id = batch_queries.insert_import_batch(session, kind=ImportKind.GRIDS, source=str(path))
    switch = switch_grids(
        session, communities=covered, grids=grids, effective=valid_from, batch_id=batch_id
    )
    counts = {
        "read": len(grids),
        "added": len(switch.added),
        "changed": len(switch.changed),
        "unchanged": len(switch.unchanged),
        "retired": len(switch.retired),
    }
    batch_queries.finish_import_batch(
        session, batch_id=batch_id, status=ImportStatus.DONE, counts=counts
    )
    record_audit(
        session,
        actor=actor,
        action="grids.import",
        target_codes=[*switch.added, *switch.changed, *switch.retired],
        row_count=len(grids),
    )
    return GridImportResult(read=len(grids), batch_id=batch_id, switch=switch, not_kept=not_kept)


def _kept_code(
    text_code: str | None,
    community: str,
    live: set[str],
    issued: set[str],
    seen: set[str],
    not_kept: list[str],
    *,
    row: int,
) -> str | None:
    """The file's code when it can be kept, else None (and the reason in ``not_kept``)."""
    if text_code is None:
        return None
    try:
        code = parse_grid_code(text_code)
    except InvalidInput as error:
        not_kept.append(f"row {row}: {text_code!r} not kept ({error.message})")
        return None
    reason = None
    if code[:12] != community:
        reason = f"the grid lies in community {community}"
    elif code in seen:
        reason = "the file has it twice"
    elif code in issued and code not in live:
        reason = "it was retired, and retired codes are never reused"
    if reason is not None:
        not_kept.append(f"row {row}: {code} not kept ({reason}); a new code is issued")
        return None
    seen.add(code)
    return code
