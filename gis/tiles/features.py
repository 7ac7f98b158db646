"""Kept statements of feature tiles: footprints, grid outlines, roads and open events clipped
and encoded by ``ST_AsMVT``, built once per layer, jurisdiction and zoom band
(``gis.tiles.service``) with ``z``, ``x``, ``y`` as parameters, and run with their SQL handed to
the driver as it is (:func:`encode_tile`).

Every statement finds its rows with ``geom && <tile envelope in EPSG:4490>``
(:func:`~gis.tiles.queries.tile_bounds`), so the GiST index on ``geom`` does the work; the rows
are transformed to EPSG:3857 only after that filter.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    LargeBinary,
    Select,
    Text,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy.orm import Session

from gis.buildings.models import Building, BuildingStatus
from gis.crs import WEB_MERCATOR_SRID
from gis.driver_sql import one_row_for_driver
from gis.events.models import Event
from gis.grids.models import Grid
from gis.roads.models import Road
from gis.tiles.queries import BUFFER, EXTENT, current_grid_clause, tile_bounds


def _mvt_geom(geom: Any, bounds: Any, *, simplified: bool = False) -> Any:
    mercator = func.ST_Transform(geom, WEB_MERCATOR_SRID)
    if simplified:
        mercator = func.ST_Simplify(mercator, bindparam("simplify_m", type_=Float), true())
    return func.ST_AsMVTGeom(mercator, bounds.c.env, EXTENT, BUFFER, true()).label("geom")


def _tile_bounds() -> Any:
    """:func:`~gis.tiles.queries.tile_bounds` of the parameters ``:z``, ``:x``, ``:y``."""
    zxy = (bindparam(name, type_=Integer) for name in ("z", "x", "y"))
    return tile_bounds(*zxy)


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
    row = one_row_for_driver(session, statement, {"z": z, "x": x, "y": y, **params})
    return bytes(row[0] or b"")


def _layer(
    model: Any,
    columns: list[Any],
    *,
    where: list[Any],
    layer: str,
    simplified: bool = False,
) -> Select[Any]:
    """The encoded tile of ``model``'s rows whose ``geom`` meets the tile and ``where`` admits:
    each its clipped geometry and ``columns``."""
    bounds = _tile_bounds()
    features = (
        select(_mvt_geom(model.geom, bounds, simplified=simplified), *columns)
        .select_from(model)
        .join(bounds, true())
        .where(model.geom.op("&&")(bounds.c.env_storage), *where)
    )
    return _encoded(features, layer=layer)


def building_tile_statement(*, where: ColumnElement[bool], layer: str) -> Select[Any]:
    """Footprints of the live buildings ``where`` admits: code, use, floors, status
    (parameters ``z``, ``x``, ``y``)."""
    columns = [
        Building.code.label("code"),
        cast(Building.status, Text).label("status"),
        Building.use.label("use"),
        Building.floors.label("floors"),
    ]
    # the status a constant in the SQL: an enum parameter would need SQLAlchemy's conversion
    live = Building.status != literal_column(f"'{BuildingStatus.RETIRED.value}'")
    return _layer(Building, columns, where=[live, where], layer=layer)


def grid_tile_statement(
    *, own: ColumnElement[bool], layer: str, simplified: bool = False
) -> Select[Any]:
    """Outlines of today's grid versions: code, name, class, community, and ``own`` (whether
    the caller may see the grid's personal statistics: an officer's own grids); with
    ``simplified``, simplified by the parameter ``simplify_m`` metres (Web Mercator)."""
    columns = [
        Grid.code.label("code"),
        Grid.name.label("name"),
        func.coalesce(cast(Grid.grid_class, Text), "unclassified").label("class"),
        Grid.community_code.label("community_code"),
        own.label("own"),
    ]
    return _layer(Grid, columns, where=[current_grid_clause()], layer=layer, simplified=simplified)


def road_tile_statement(*, layer: str, some_highways: bool = False) -> Select[Any]:
    """Road centrelines (``highway`` class and name); with ``some_highways`` only the classes
    of the parameter ``highways``."""
    columns = [func.coalesce(Road.highway, "road").label("highway"), Road.name.label("name")]
    where = [Road.highway.in_(bindparam("highways", expanding=True))] if some_highways else []
    return _layer(Road, columns, where=where, layer=layer)


def event_tile_statement(*, where: ColumnElement[bool], layer: str) -> Select[Any]:
    """Open events ``where`` admits, as points: number, kind, status and ``overdue`` (no title
    or note: those may name people)."""
    columns = [
        Event.id.label("id"),
        cast(Event.kind, Text).label("kind"),
        cast(Event.status, Text).label("status"),
        (Event.due_at < func.now()).label("overdue"),
    ]
    return _layer(Event, columns, where=[Event.closed_at.is_(None), where], layer=layer)
