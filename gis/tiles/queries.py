"""SQL of vector tiles: snapped point counts and H3 hexagons encoded by ``ST_AsMVT``, the
tiles' bounds, and extents (the features of detail zooms are in ``gis.tiles.features``).

Every query finds its rows with ``geom && <tile envelope in EPSG:4490>``: the Web Mercator
envelope (``ST_TileEnvelope``) is transformed to storage once per query, with integer SRIDs only
(a text CRS costs ~1,000× per row, DESIGN §11), so the GiST index on ``geom`` does the work. The
rows are transformed to EPSG:3857 only after that filter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Text,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.orm import Session

from gis.buildings.models import Building, BuildingStatus
from gis.crs import STORAGE_SRID, WEB_MERCATOR_SRID
from gis.events.models import Event
from gis.grids import building_counts
from gis.grids.models import BuildingCounts, Grid

EXTENT = 4096
"""Tile coordinate space of every layer (the MVT default)."""
BUFFER = 64
"""Pixels (of :data:`EXTENT`) drawn beyond the tile edge, so outlines meet across tiles."""
WORLD_HALF_M = 20_037_508.342789244
"""Half the width of the Web Mercator world, the bounds ``ST_TileEnvelope`` divides."""

Bbox = tuple[float, float, float, float]
SnappedCount = tuple[float, float, int]
"""``(lon, lat, count)``: points counted on a fine lattice, the lattice point's centre."""


def tile_bounds(z: Any, x: Any, y: Any, *, margin: Any = None) -> Any:
    """A one-row CTE: the tile ``z/x/y`` in EPSG:3857 (``env``) and, with ``margin`` (a
    fraction of the tile) around it, in storage EPSG:4490 (``env_storage``), transformed once.
    ``z``, ``x``, ``y`` and ``margin`` are SQL expressions: values, or parameters of a kept
    statement (``gis.tiles.features``)."""
    storage = func.ST_TileEnvelope(z, x, y)
    if margin is not None:
        world = func.ST_MakeEnvelope(
            -WORLD_HALF_M, -WORLD_HALF_M, WORLD_HALF_M, WORLD_HALF_M, WEB_MERCATOR_SRID
        )
        storage = func.ST_TileEnvelope(z, x, y, world, margin)
    return select(
        func.ST_TileEnvelope(z, x, y).label("env"),
        func.ST_Transform(storage, STORAGE_SRID).label("env_storage"),
    ).cte("tile_bounds")


def _around(z: int, x: int, y: int, margin: float) -> Any:
    """:func:`tile_bounds` of the tile with ``margin`` around it, for one query."""
    zxy = (cast(z, Integer), cast(x, Integer), cast(y, Integer))
    return tile_bounds(*zxy, margin=cast(margin, Float))


def _today() -> Any:
    return func.current_date()


def current_grid_clause(grid: Any = Grid) -> ColumnElement[bool]:
    """The version of a grid valid today (``valid_from <= today < valid_to``)."""
    return and_(grid.valid_from <= _today(), or_(grid.valid_to.is_(None), grid.valid_to > _today()))


def _snapped(
    session: Session, *, point: Any, weight: Any, statement: Any, snap_deg: float
) -> list[SnappedCount]:
    """Sum ``weight`` over the rows of ``statement`` per cell of a ``snap_deg`` lattice."""
    points, _ = _lattice_sums(
        session, point=point, weight=weight, statement=statement, snap_deg=snap_deg
    )
    return points


def _lattice_sums(
    session: Session,
    *,
    point: Any,
    weight: Any,
    statement: Any,
    snap_deg: float,
    flag_missing: bool = False,
) -> tuple[list[SnappedCount], bool]:
    """:func:`_snapped`, and with ``flag_missing`` whether some row's ``weight`` was NULL (left
    out of its cell's sum; a cell of such rows only is left out)."""
    ix = func.floor(func.ST_X(point) / snap_deg).label("ix")
    iy = func.floor(func.ST_Y(point) / snap_deg).label("iy")
    points = statement.add_columns(ix, iy, weight.label("weight")).subquery("points")
    missing = func.bool_or(points.c.weight.is_(None)) if flag_missing else false()
    grouped = select(points.c.ix, points.c.iy, func.sum(points.c.weight), missing).group_by(
        points.c.ix, points.c.iy
    )
    rows = session.execute(grouped).all()
    sums = [
        ((float(i) + 0.5) * snap_deg, (float(j) + 0.5) * snap_deg, int(n))
        for i, j, n, _ in rows
        if n is not None
    ]
    return sums, any(flagged for *_, flagged in rows)


def _counted_around(
    session: Session,
    *,
    geom: Any,
    point: Any,
    filters: Sequence[ColumnElement[bool]],
    z: int,
    x: int,
    y: int,
    margin: float,
    snap_deg: float,
) -> list[SnappedCount]:
    """Rows whose ``geom`` meets the tile (with ``margin``) and passes ``filters``, counted at
    ``point`` on the ``snap_deg`` lattice."""
    bounds = _around(z, x, y, margin)
    statement = (
        select()
        .select_from(geom.class_)
        .join(bounds, true())
        .where(geom.op("&&")(bounds.c.env_storage), *filters)
    )
    return _snapped(session, point=point, weight=literal(1), statement=statement, snap_deg=snap_deg)


def building_points(
    session: Session,
    *,
    z: int,
    x: int,
    y: int,
    margin: float,
    snap_deg: float,
    where: ColumnElement[bool],
) -> list[SnappedCount]:
    """Live buildings ``where`` admits around the tile, counted by point on surface."""
    return _counted_around(
        session, geom=Building.geom, point=func.ST_PointOnSurface(Building.geom),
        filters=(Building.status != BuildingStatus.RETIRED, where),
        z=z, x=x, y=y, margin=margin, snap_deg=snap_deg,
    )  # fmt: skip


def grid_points(
    session: Session, *, z: int, x: int, y: int, margin: float, snap_deg: float
) -> list[SnappedCount]:
    """Today's grid versions around the tile, counted by point on surface."""
    return _counted_around(
        session, geom=Grid.geom, point=func.ST_PointOnSurface(Grid.geom),
        filters=(current_grid_clause(),), z=z, x=x, y=y, margin=margin, snap_deg=snap_deg,
    )  # fmt: skip


def floating_points(
    session: Session,
    *,
    z: int,
    x: int,
    y: int,
    margin: float,
    snap_deg: float,
    where: ColumnElement[bool],
    on: date,
) -> list[SnappedCount]:
    """Floating residents living on ``on`` (primary residences, active houses) in buildings
    ``where`` admits around the tile, counted at their building's point on surface.

    From the buildings' kept counts (``gis.grids.building_counts``): one short row a building
    instead of their houses, residences and people. Rows that are not current on ``on`` are
    counted again and stored first (the caller's transaction holds them until it ends), those a
    writer holds are counted on the spot. A row a writer made stale after that is found by
    asking again, and the tile counted once more with it.
    """
    bounds = _around(z, x, y, margin)
    in_tile = (
        Building.geom.op("&&")(bounds.c.env_storage),
        Building.status != BuildingStatus.RETIRED,
        where,
    )
    # joined by key alone, the currency tested after: a join on it would be planned from the
    # statistics of the rows' generations, stale right after many rows were counted again
    current = func.coalesce(building_counts.current_on(on), false())
    not_current = (
        select(func.string_agg(cast(Building.uid, Text), ","))
        .select_from(Building)
        .join(bounds, true())
        .outerjoin(BuildingCounts, BuildingCounts.building_uid == Building.uid)
        .where(*in_tile, not_(current))
    )
    stale = _uids(session.scalar(not_current))
    on_the_spot = building_counts.store_current(session, stale=sorted(stale), on=on)
    while True:
        spot = building_counts.counted_on_the_spot(on_the_spot, on=on)
        # NULL for a building whose row a writer made stale since ``not_current`` was asked
        residents = case(
            (current, BuildingCounts.counts[building_counts.FLOATING_PRIMARY]),
            else_=spot.c.counts[building_counts.FLOATING_PRIMARY],
        )
        statement = (
            select()
            .select_from(Building)
            .join(bounds, true())
            .outerjoin(BuildingCounts, BuildingCounts.building_uid == Building.uid)
            .outerjoin(spot, spot.c.building_uid == Building.uid)
            .where(*in_tile, or_(residents.is_(None), residents > 0))
        )
        points, missing = _lattice_sums(
            session, point=func.ST_PointOnSurface(Building.geom), weight=residents,
            statement=statement, snap_deg=snap_deg, flag_missing=True,
        )  # fmt: skip
        if not missing:
            return points
        on_the_spot = sorted(set(on_the_spot) | _uids(session.scalar(not_current)))


def _uids(joined: str | None) -> set[str]:
    return set(joined.split(",")) if joined else set()


_HEXAGON_TILE = text(
    """
    SELECT coalesce(ST_AsMVT(features, :layer, :extent, 'geom'), ''::bytea)
    FROM (
        SELECT ST_AsMVTGeom(
                   ST_Transform(ST_GeomFromWKB(cell.wkb, 4326), 3857),
                   ST_TileEnvelope(CAST(:z AS integer), CAST(:x AS integer), CAST(:y AS integer)),
                   :extent, :buffer, true
               ) AS geom,
               cell.h3 AS h3,
               cell.n AS count
        FROM unnest(CAST(:cells AS text[]), CAST(:counts AS integer[]), CAST(:wkbs AS bytea[]))
             AS cell(h3, n, wkb)
    ) AS features
    WHERE features.geom IS NOT NULL
    """
)


def hexagon_tile(
    session: Session,
    *,
    z: int,
    x: int,
    y: int,
    layer: str,
    cells: Sequence[str],
    counts: Sequence[int],
    wkbs: Sequence[bytes],
) -> bytes:
    """Hexagons (WKB in EPSG:4326) with their cell id and count, clipped and encoded."""
    if not cells:
        return b""
    result = session.scalar(
        _HEXAGON_TILE,
        {
            "layer": layer, "extent": EXTENT, "buffer": BUFFER, "z": z, "x": x, "y": y,
            "cells": list(cells), "counts": list(counts), "wkbs": list(wkbs),
        },
    )  # fmt: skip
    return bytes(result or b"")


def grids_extent(session: Session, *, where: ColumnElement[bool]) -> Bbox | None:
    """``(min_lon, min_lat, max_lon, max_lat)`` of today's grids ``where`` admits, or None."""
    extent = (
        select(func.ST_Extent(Grid.geom).label("box"))
        .where(current_grid_clause(), where)
        .subquery("extent")
    )
    row = session.execute(
        select(
            func.ST_XMin(extent.c.box), func.ST_YMin(extent.c.box),
            func.ST_XMax(extent.c.box), func.ST_YMax(extent.c.box),
        )
    ).one()  # fmt: skip
    return None if row[0] is None else (float(row[0]), float(row[1]), float(row[2]), float(row[3]))


_ESTIMATED_BUILDINGS_EXTENT = text(
    """
    SELECT ST_XMin(box), ST_YMin(box), ST_XMax(box), ST_YMax(box)
    FROM (SELECT ST_EstimatedExtent('buildings', 'geom') AS box) AS extent
    """
)


def estimated_buildings_extent(session: Session) -> Bbox | None:
    """The planner's estimate of where buildings are (from table statistics; None without)."""
    row = session.execute(_ESTIMATED_BUILDINGS_EXTENT).one_or_none()
    if row is None or row[0] is None:
        return None
    return (float(row[0]), float(row[1]), float(row[2]), float(row[3]))


def event_points(
    session: Session,
    *,
    z: int,
    x: int,
    y: int,
    margin: float,
    snap_deg: float,
    where: ColumnElement[bool],
) -> list[SnappedCount]:
    """Open events ``where`` admits around the tile, counted."""
    return _counted_around(
        session, geom=Event.geom, point=Event.geom, filters=(Event.closed_at.is_(None), where),
        z=z, x=x, y=y, margin=margin, snap_deg=snap_deg,
    )  # fmt: skip
