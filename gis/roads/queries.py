"""SQL of roads: loading centrelines, reading those near an area."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from gis.crs import STORAGE_SRID
from gis.roads.models import Road

IGNORED_CLASSES = (
    *("footway", "path", "steps", "cycleway", "pedestrian", "corridor", "bridleway"),
    *("track", "proposed", "construction", "platform", "elevator", "abandoned", "raceway"),
)
"""OSM ``highway`` classes that do not bound a block of buildings (paths through it)."""


def insert_roads(session: Session, *, rows: Sequence[dict[str, Any]]) -> int:
    """Rows carry ``highway``, ``name``, ``source`` and ``wkb`` (a line in EPSG:4490)."""
    for row in rows:
        geom = func.ST_Multi(func.ST_GeomFromWKB(row["wkb"], STORAGE_SRID))
        values = {k: v for k, v in row.items() if k != "wkb"}
        session.execute(insert(Road).values(**values, geom=geom))
    return len(rows)


def delete_roads(session: Session, *, source: str) -> int:
    result = session.execute(delete(Road).where(Road.source == source))
    return int(result.rowcount)  # type: ignore[attr-defined]


def count_roads(session: Session, *, source: str | None = None) -> int:
    statement = select(func.count()).select_from(Road)
    if source is not None:
        statement = statement.where(Road.source == source)
    return int(session.scalar(statement) or 0)


def select_road_lines(session: Session, *, wkb: bytes) -> list[bytes]:
    """Centrelines of block-bounding roads meeting an area (WKB, EPSG:4490)."""
    area = func.ST_GeomFromWKB(wkb, STORAGE_SRID)
    statement = select(func.ST_AsBinary(Road.geom)).where(
        Road.geom.op("&&")(area),
        func.ST_Intersects(Road.geom, area),
        func.coalesce(Road.highway, "road").not_in(IGNORED_CLASSES),
    )
    return [bytes(wkb) for wkb in session.scalars(statement)]
