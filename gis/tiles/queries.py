"""SQL of vector tiles: features clipped and encoded by ``ST_AsMVT``, and snapped point counts.

Every query finds its rows with ``geom && <tile envelope in EPSG:4490>``: the Web Mercator
envelope (``ST_TileEnvelope``) is transformed to storage once per query, with integer SRIDs only
(a text CRS costs ~1,000× per row, DESIGN §11), so the GiST index on ``geom`` does the work. The
rows are transformed to EPSG:3857 only after that filter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Float,
    Integer,
    LargeBinary,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.orm import Session

from gis.buildings.models import Building, BuildingStatus
from gis.crs import STORAGE_SRID, WEB_MERCATOR_SRID
from gis.db import execute_for_driver
from gis.events.models import Event
from gis.grids.models import Grid
from gis.houses.models import House
from gis.people.models import Person, PersonCategory, Residence
from gis.roads.models import Road

EXTENT = 4096
"""Tile coordinate space of every layer (the MVT default)."""
BUFFER = 64
"""Pixels (of :data:`EXTENT`) drawn beyond the tile edge, so outlines meet across tiles."""
WORLD_HALF_M = 20_037_508.342789244
"""Half the width of the Web Mercator world, the bounds ``ST_TileEnvelope`` divides."""

Bbox = tuple[float, float, float, float]
SnappedCount = tuple[float, float, int]
"""``(lon, lat, count)``: points counted on a fine lattice, the lattice point's centre."""


def _bounds(z: int, x: int, y: int, *, margin: float = 0.0) -> Any:
    """A one-row CTE: the tile in EPSG:3857 (``env``) and, with ``margin`` (a fraction of the
    tile) around it, in storage EPSG:4490 (``env_storage``), transformed once."""
    zxy = (cast(z, Integer), cast(x, Integer), cast(y, Integer))
    world = func.ST_MakeEnvelope(
        -WORLD_HALF_M, -WORLD_HALF_M, WORLD_HALF_M, WORLD_HALF_M, WEB_MERCATOR_SRID
    )
    with_margin = func.ST_TileEnvelope(*zxy, world, cast(margin, Float))
    return select(
        func.ST_TileEnvelope(*zxy).label("env"),
        func.ST_Transform(with_margin, STORAGE_SRID).label("env_storage"),
    ).cte("tile_bounds")


def _mvt_geom(geom: Any, bounds: Any, *, simplified: bool = False) -> Any:
    mercator = func.ST_Transform(geom, WEB_MERCATOR_SRID)
    if simplified:
        mercator = func.ST_Simplify(mercator, bindparam("simplify_m", type_=Float), true())
    return func.ST_AsMVTGeom(mercator, bounds.c.env, EXTENT, BUFFER, true()).label("geom")


def _tile_bounds() -> Any:
    """A one-row CTE: the tile ``:z/:x/:y`` in EPSG:3857 (``env``) and in storage EPSG:4490
    (``env_storage``), transformed once."""
    zxy = (
        bindparam("z", type_=Integer),
        bindparam("x", type_=Integer),
        bindparam("y", type_=Integer),
    )
    return select(
        func.ST_TileEnvelope(*zxy).label("env"),
        func.ST_Transform(func.ST_TileEnvelope(*zxy), STORAGE_SRID).label("env_storage"),
    ).cte("tile_bounds")


def _encoded(features: Any, *, layer: str) -> Select[Any]:
    """``ST_AsMVT`` over the rows of ``features`` (a select with a ``geom`` column)."""
    rows = features.subquery("features")
    return select(
        func.coalesce(
            func.ST_AsMVT(rows.table_valued(), layer, EXTENT, "geom", type_=LargeBinary),
            cast(b"", LargeBinary),
        )
    ).where(rows.c.geom.is_not(None))


def encode_tile(
    session: Session, statement: Select[Any], *, z: int, x: int, y: int, **params: Any
) -> bytes:
    """Run a kept tile statement (``*_tile_statement``) for ``z/x/y``: its SQL goes to the
    driver as it is (building the statement and its cache key for every tile cost ~3 ms, the
    bare ``ST_AsMVT`` of a z17 tile ~2.6 ms)."""
    row = execute_for_driver(session, statement, {"z": z, "x": x, "y": y, **params}).one()
    return bytes(row[0] or b"")


def _today() -> Any:
    return func.current_date()


def current_grid_clause(grid: Any = Grid) -> ColumnElement[bool]:
    """The version of a grid valid today (``valid_from <= today < valid_to``)."""
    return and_(grid.valid_from <= _today(), or_(grid.valid_to.is_(None), grid.valid_to > _today()))


def building_tile_statement(*, where: ColumnElement[bool], layer: str) -> Select[Any]:
    """Footprints of the live buildings ``where`` admits: code, use, floors, status
    (parameters ``z``, ``x``, ``y``)."""
    bounds = _tile_bounds()
    features = (
        select(
            _mvt_geom(Building.geom, bounds),
            Building.code.label("code"),
            cast(Building.status, Text).label("status"),
            Building.use.label("use"),
            Building.floors.label("floors"),
        )
        .select_from(Building)
        .join(bounds, true())
        .where(
            Building.geom.op("&&")(bounds.c.env_storage),
            # a constant in the SQL: an enum parameter would need SQLAlchemy's conversion
            Building.status != literal_column(f"'{BuildingStatus.RETIRED.value}'"),
            where,
        )
    )
    return _encoded(features, layer=layer)


def grid_tile_statement(
    *, own: ColumnElement[bool], layer: str, simplified: bool = False
) -> Select[Any]:
    """Outlines of today's grid versions: code, name, class, community, and ``own`` (whether
    the caller may see the grid's personal statistics: an officer's own grids); with
    ``simplified``, simplified by the parameter ``simplify_m`` metres (Web Mercator)."""
    bounds = _tile_bounds()
    features = (
        select(
            _mvt_geom(Grid.geom, bounds, simplified=simplified),
            Grid.code.label("code"),
            Grid.name.label("name"),
            func.coalesce(cast(Grid.grid_class, Text), "unclassified").label("class"),
            Grid.community_code.label("community_code"),
            own.label("own"),
        )
        .select_from(Grid)
        .join(bounds, true())
        .where(Grid.geom.op("&&")(bounds.c.env_storage), current_grid_clause())
    )
    return _encoded(features, layer=layer)


def road_tile_statement(*, layer: str, some_highways: bool = False) -> Select[Any]:
    """Road centrelines (``highway`` class and name); with ``some_highways`` only the classes
    of the parameter ``highways``."""
    bounds = _tile_bounds()
    conditions: list[Any] = [Road.geom.op("&&")(bounds.c.env_storage)]
    if some_highways:
        conditions.append(Road.highway.in_(bindparam("highways", expanding=True)))
    features = (
        select(
            _mvt_geom(Road.geom, bounds),
            func.coalesce(Road.highway, "road").label("highway"),
            Road.name.label("name"),
        )
        .select_from(Road)
        .join(bounds, true())
        .where(*conditions)
    )
    return _encoded(features, layer=layer)


def _snapped(
    session: Session, *, point: Any, weight: Any, statement: Any, snap_deg: float
) -> list[SnappedCount]:
    """Sum ``weight`` over the rows of ``statement`` per cell of a ``snap_deg`` lattice."""
    ix = func.floor(func.ST_X(point) / snap_deg).label("ix")
    iy = func.floor(func.ST_Y(point) / snap_deg).label("iy")
    points = statement.add_columns(ix, iy, weight.label("weight")).subquery("points")
    grouped = select(points.c.ix, points.c.iy, func.sum(points.c.weight)).group_by(
        points.c.ix, points.c.iy
    )
    return [
        ((float(i) + 0.5) * snap_deg, (float(j) + 0.5) * snap_deg, int(n))
        for i, j, n in session.execute(grouped)
    ]


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
    bounds = _bounds(z, x, y, margin=margin)
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
) -> list[SnappedCount]:
    """Floating residents living today (primary residences) in buildings ``where`` admits
    around the tile, counted at their building's point on surface."""
    bounds = _bounds(z, x, y, margin=margin)
    per_building = (
        select(Building.geom.label("geom"), func.count().label("residents"))
        .select_from(Building)
        .join(bounds, true())
        .join(House, House.building_uid == Building.uid)
        .join(Residence, Residence.house_uid == House.uid)
        .join(Person, Person.uid == Residence.person_uid)
        .where(
            Building.geom.op("&&")(bounds.c.env_storage),
            Building.status != BuildingStatus.RETIRED,
            Residence.is_primary,
            Residence.period.op("@>")(cast(_today(), Date)),
            Person.category == PersonCategory.FLOATING,
            where,
        )
        .group_by(Building.uid)
        .subquery("per_building")
    )
    point = func.ST_PointOnSurface(per_building.c.geom)
    statement = select().select_from(per_building)
    return _snapped(
        session, point=point, weight=per_building.c.residents, statement=statement,
        snap_deg=snap_deg,
    )  # fmt: skip


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


def event_tile_statement(*, where: ColumnElement[bool], layer: str) -> Select[Any]:
    """Open events ``where`` admits, as points: number, kind, status and ``overdue`` (no title
    or note: those may name people)."""
    bounds = _tile_bounds()
    features = (
        select(
            _mvt_geom(Event.geom, bounds),
            Event.id.label("id"),
            cast(Event.kind, Text).label("kind"),
            cast(Event.status, Text).label("status"),
            (Event.due_at < func.now()).label("overdue"),
        )
        .select_from(Event)
        .join(bounds, true())
        .where(Event.geom.op("&&")(bounds.c.env_storage), Event.closed_at.is_(None), where)
    )
    return _encoded(features, layer=layer)


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
