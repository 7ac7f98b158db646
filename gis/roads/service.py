"""Loading road centrelines from a file (GeoPackage, Shapefile, GeoJSON, FlatGeobuf): each line
checked as building footprints are (coordinates in range and near the division boundaries once
in EPSG:4490, attributes that fit their columns); a bad row is a :class:`Rejection` with its
reason, the others are stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from sqlalchemy import String
from sqlalchemy.orm import Session

from gis.buildings.checks import Rejection
from gis.buildings.reading import source_ids
from gis.crs import SourceCrs, transform_geometries
from gis.divisions.queries import select_boundary_extent
from gis.errors import Conflict, InvalidInput
from gis.geometry import GeometryCheck, check_lines
from gis.roads import queries
from gis.roads.models import Road
from gis.vector_files import choose_layer, read_features
from gis.vector_files import source_crs as crs_of

BEYOND_BOUNDARIES_DEG = 0.1
"""How far (~10 km) beyond the box of the stored division boundaries a road may reach: roads run
on past a jurisdiction's edge, but one farther out was read in a wrong CRS or is elsewhere."""
TEXT_COLUMNS = ("highway", "name")


@dataclass
class RoadImportResult:
    read: int
    imported: int
    replaced: int
    source: str
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.rejections)


def import_roads(
    session: Session,
    *,
    path: Path,
    layer: str | None = None,
    crs: SourceCrs | None = None,
    replace: bool = False,
) -> RoadImportResult:
    """Load the lines of a file as roads (``highway`` and ``name`` columns when present); rows
    that are no road (see :func:`check_roads`) are rejected with their reason.

    The file's name is the source: loading it again is refused unless ``replace``, which
    swaps the roads of that source.
    """
    layer = choose_layer(path, layer, preferred="roads")
    features = read_features(path, layer=layer)
    source_crs = crs_of(path, crs, features.crs)
    source = f"{path.name}:{layer}"
    replaced = 0
    if queries.count_roads(session, source=source):
        if not replace:
            raise Conflict(f"roads from {source} are already loaded; use --replace", field="FILE")
        replaced = queries.delete_roads(session, source=source)
    texts = {column: _texts(features.columns, column, len(features)) for column in TEXT_COLUMNS}
    check = check_roads(session, features.geoms, crs=source_crs, wkb=features.wkb, texts=texts)
    keep = np.flatnonzero(check.accepted).tolist()
    rows = [
        {
            "highway": texts["highway"][i],
            "name": texts["name"][i],
            "source": source,
            "wkb": bytes(shapely.to_wkb(check.geoms[i])),
        }
        for i in keep
    ]
    imported = queries.insert_roads(session, rows=rows)
    session.flush()
    ids = source_ids(features.columns, len(features))
    return RoadImportResult(
        read=len(features),
        imported=imported,
        replaced=replaced,
        source=source,
        rejections=[
            Rejection(i + 1, ids[i], reason) for i, reason in sorted(check.reasons.items())
        ],
    )


def check_roads(
    session: Session,
    geoms: npt.NDArray[Any],
    *,
    crs: SourceCrs,
    wkb: list[bytes | None] | None = None,
    texts: dict[str, list[str | None]] | None = None,
) -> GeometryCheck:
    """Check lines in ``crs`` and convert the good ones to EPSG:4490 (MultiLineStrings).

    Refused: what :func:`~gis.geometry.check_lines` refuses; a line that does not convert; one
    reaching farther than :data:`BEYOND_BOUNDARIES_DEG` beyond the box of the stored division
    boundaries (elsewhere, or a wrong CRS: footprints are held to their community polygons the
    same way); a ``texts`` value longer than its column or holding a NUL character.
    """
    check = check_lines(geoms, is_geographic=crs.is_geographic, wkb=wkb)
    index = np.flatnonzero(check.accepted)
    if index.size:
        with np.errstate(invalid="ignore"):
            converted = transform_geometries(check.geoms[index], crs)
        finite = np.array(
            [bool(np.isfinite(shapely.get_coordinates(g)).all()) for g in converted], dtype=bool
        )
        for i in index[~finite].tolist():
            check.refuse(i, f"the line does not convert from {crs.label} to EPSG:4490")
        check.geoms[index] = converted
        _check_place(session, check)
    for column, values in (texts or {}).items():
        limit = _length_of(column)
        for i, value in enumerate(values):
            if value is not None and len(value) > limit:
                check.refuse(i, f"{column} is longer than {limit} characters")
            elif value is not None and "\x00" in value:
                check.refuse(i, f"{column} holds a NUL character")
    return check


def _check_place(session: Session, check: GeometryCheck) -> None:
    """Refuse the accepted lines (EPSG:4490) reaching beyond the division boundaries."""
    index = np.flatnonzero(check.accepted)
    if index.size == 0:
        return
    extent = select_boundary_extent(session)
    if extent is None:
        raise InvalidInput(
            "no division has a boundary to check the roads against: import them first "
            "(gridhouse import divisions PATH --boundaries FILE)",
            field="FILE",
        )
    margin = BEYOND_BOUNDARIES_DEG
    bounds = shapely.bounds(check.geoms[index])
    beyond = (
        (bounds[:, 0] < extent[0] - margin)
        | (bounds[:, 1] < extent[1] - margin)
        | (bounds[:, 2] > extent[2] + margin)
        | (bounds[:, 3] > extent[3] + margin)
    )
    for i in index[beyond].tolist():
        check.refuse(
            i,
            "the road reaches more than ~10 km beyond the division boundaries "
            "(wrong file or --crs?)",
        )


def _length_of(column: str) -> int:
    kind = Road.__table__.c[column].type
    assert isinstance(kind, String)
    assert kind.length is not None
    return kind.length


def _texts(columns: dict[str, list[Any]], column: str, count: int) -> list[str | None]:
    if column not in columns:
        return [None] * count
    return [None if v is None or v != v else str(v) for v in columns[column]]
