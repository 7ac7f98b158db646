"""Vector tiles for a caller: which layer, what the caller's role may see in it, and when a tile
is an H3 aggregate instead of features.

==========  ==========================================  =========================================
layer       features (zoom ≥ ``detail_zoom``)            below ``detail_zoom``
==========  ==========================================  =========================================
buildings   footprints: code, status, use, floors       H3 cells: count of buildings
grids       today's outlines: code, name, class, own    H3 cells: count of grids
roads       centrelines: highway, name (minor roads     (features at every zoom, fewer classes)
            from zoom 13)
floating    never features: always H3 cells             H3 cells: count of floating residents
events      open events as points: id, kind, status,    H3 cells: count of open events
            overdue (planners: always H3 cells)
==========  ==========================================  =========================================

Who sees what (DESIGN §8; a tile carries no name, ID number or phone for anyone):

* officers and police: buildings and floating residents of their scope (own grids, division);
  every grid outline and road, ``own`` marking the grids whose statistics they may see;
* planners: every footprint (no personal data: code, use, floors) and outline, and floating
  residents and open events as H3 counts with cells of fewer than 5 left out;
* events: officers those of their grids, police those of their jurisdiction (``gis/events``);
* admins: everything; auditors: no tiles (403).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Select, true
from sqlalchemy.orm import Session

from gis import hexgrid
from gis.access.masking import SMALL_COUNT_THRESHOLD
from gis.access.scope import Scope
from gis.clock import today_in_china
from gis.errors import InvalidInput, NotFound
from gis.events.move_queries import move_due_events
from gis.events.queries import events_clause
from gis.tiles import features, queries
from gis.users.models import Role

MAX_ZOOM = 22
HEXAGON_SUFFIX = "_h3"
"""Aggregate features of layer ``L`` are in the tile's layer ``L_h3`` (properties ``h3``, the
cell, and ``count``), so tiles of several layers can be concatenated without a name clash."""
MAJOR_ROADS = ("motorway", "trunk", "primary", "secondary", "tertiary")
TRUNK_ROADS = ("motorway", "trunk")
MINOR_ROADS_ZOOM = 13
MAJOR_ROADS_ZOOM = 9
SIMPLIFY_BELOW_ZOOM = 14
_MAJOR_AND_LINKS = tuple(sorted(MAJOR_ROADS + tuple(f"{road}_link" for road in MAJOR_ROADS)))
STATEMENT_CACHE_SIZE = 256  # layers × the distinct scopes (each officer's grids) × narrowed


class TileLayer(StrEnum):
    BUILDINGS = "buildings"
    GRIDS = "grids"
    ROADS = "roads"
    FLOATING = "floating"
    EVENTS = "events"


DETAIL_ZOOM: dict[TileLayer, int] = {
    TileLayer.BUILDINGS: 14,
    TileLayer.GRIDS: 10,
    TileLayer.ROADS: 0,
    TileLayer.FLOATING: MAX_ZOOM + 1,
    TileLayer.EVENTS: 14,
}
"""The zoom from which a layer's tiles hold features; below it, H3 counts (never a truncated
set of features)."""

TILE_ROLES = frozenset({Role.OFFICER, Role.POLICE, Role.PLANNER, Role.ADMIN})


@dataclass(frozen=True)
class Tile:
    """An encoded tile (possibly empty) and its strong ETag (a hash of the bytes)."""

    content: bytes
    etag: str


def parse_layer(name: str) -> TileLayer:
    """The layer called ``name`` (404 for any other name)."""
    try:
        return TileLayer(name)
    except ValueError:
        raise NotFound(f"no tile layer {name!r}", field="layer") from None


def parse_layers(names: str) -> tuple[TileLayer, ...]:
    """Layers joined by ``+`` (``roads+grids+buildings``), in drawing order, each once.

    One request for several layers keeps a map's tile requests within the per-user rate limit.

    >>> parse_layers("roads+grids+buildings+grids")
    (<TileLayer.ROADS: 'roads'>, <TileLayer.GRIDS: 'grids'>, <TileLayer.BUILDINGS: 'buildings'>)
    """
    return tuple(dict.fromkeys(parse_layer(name) for name in names.split("+")))


def stores_counts(layers: Sequence[TileLayer]) -> bool:
    """Whether a tile of ``layers`` may store buildings' counts it made again (the floating
    residents' layer): it must then run in a transaction, which holds the rows it recounts
    until they are stored (``gis.grids.building_counts``)."""
    return TileLayer.FLOATING in layers


def check_tile(z: int, x: int, y: int) -> None:
    """Refuse a zoom outside 0…22 or a column/row outside the zoom's 2^z × 2^z tiles."""
    if not 0 <= z <= MAX_ZOOM:
        raise InvalidInput(f"zoom must be between 0 and {MAX_ZOOM}", field="z")
    size = 2**z
    if not 0 <= x < size:
        raise InvalidInput(f"x must be between 0 and {size - 1} at zoom {z}", field="x")
    if not 0 <= y < size:
        raise InvalidInput(f"y must be between 0 and {size - 1} at zoom {z}", field="y")


def tile_center_lat(z: int, y: int) -> float:
    """Latitude of the middle of tile row ``y`` at zoom ``z``.

    >>> round(tile_center_lat(0, 0), 6), round(tile_center_lat(14, 7143), 3)
    (0.0, 22.441)
    """
    n = math.pi * (1 - 2 * (y + 0.5) / 2**z)
    return math.degrees(math.atan(math.sinh(n)))


def render_tile(
    session: Session, *, layers: Sequence[TileLayer], z: int, x: int, y: int, scope: Scope
) -> Tile:
    """The tile ``z/x/y`` of ``layers`` as ``scope`` may see it (the layers' tiles concatenated:
    an MVT tile is a sequence of layers)."""
    check_tile(z, x, y)
    scope.require_role(*TILE_ROLES)
    if TileLayer.EVENTS in layers:
        move_due_events(session)  # open events in today's grids (gis/events/move_queries.py)
    parts = []
    for layer in layers:
        aggregate_only = layer is TileLayer.EVENTS and scope.role is Role.PLANNER
        if z < DETAIL_ZOOM[layer] or aggregate_only:
            parts.append(_hexagon_tile(session, layer=layer, z=z, x=x, y=y, scope=scope))
        else:
            parts.append(_feature_tile(session, layer=layer, z=z, x=x, y=y, scope=scope))
    content = b"".join(parts)
    digest = hashlib.blake2b(content, digest_size=16).hexdigest()
    return Tile(content=content, etag=f'"{digest}"')


def buildings_clause(scope: Scope) -> ColumnElement[bool]:
    """Buildings a caller sees in tiles: planners every footprint (tiles hold no personal
    data), everyone else their scope."""
    return true() if scope.role is Role.PLANNER else scope.buildings_clause()


def _feature_tile(
    session: Session, *, layer: TileLayer, z: int, x: int, y: int, scope: Scope
) -> bytes:
    params: dict[str, object] = {}
    if layer is TileLayer.GRIDS and z < SIMPLIFY_BELOW_ZOOM:
        # below zoom 14 grid outlines (drawn around buildings) are simplified to about a pixel
        params["simplify_m"] = hexgrid.WEB_MERCATOR_WORLD_M / 2**z / 1024
    if layer is TileLayer.ROADS and z < MINOR_ROADS_ZOOM:
        params["highways"] = list(TRUNK_ROADS if z < MAJOR_ROADS_ZOOM else _MAJOR_AND_LINKS)
    # the user's name never reaches the SQL: one statement serves every user of a jurisdiction
    statement = _feature_statement(layer, replace(scope, user_name=""), bool(params))
    return features.encode_tile(session, statement, z=z, x=x, y=y, **params)


@lru_cache(maxsize=STATEMENT_CACHE_SIZE)
def _feature_statement(layer: TileLayer, scope: Scope, narrowed: bool) -> Select[Any]:
    """The statement of ``layer``'s feature tiles for callers of ``scope``, built once
    (``narrowed``: grid outlines simplified, or only some road classes)."""
    name = layer.value
    if layer is TileLayer.EVENTS:
        return features.event_tile_statement(where=events_clause(scope), layer=name)
    if layer is TileLayer.BUILDINGS:
        return features.building_tile_statement(where=buildings_clause(scope), layer=name)
    if layer is TileLayer.GRIDS:
        return features.grid_tile_statement(
            own=scope.grids_clause(), layer=name, simplified=narrowed
        )
    return features.road_tile_statement(layer=name, some_highways=narrowed)


def hexagon_lattice(z: int, y: int) -> tuple[int, float, float]:
    """The H3 resolution of row ``y``'s tiles at zoom ``z``, the margin points are fetched with
    (one cell diameter, as a fraction of the tile) and the lattice they are first counted on (an
    eighth of a cell edge, in degrees: Python then sees thousands of lattice points instead of
    every building).

    >>> resolution, margin, snap = hexagon_lattice(10, 446)
    >>> resolution, round(margin, 3), round(snap, 5)
    (6, 0.227, 0.00418)
    """
    lat = tile_center_lat(z, y)
    resolution = hexgrid.resolution_for_zoom(z, lat=lat)
    tile_width_deg = 360.0 / 2**z
    margin = hexgrid.cell_diameter_deg(resolution, lat=lat) / tile_width_deg
    snap_deg = max(hexgrid.edge_length_m(resolution) / 111_320.0 / 8, 1e-6)
    return resolution, margin, snap_deg


def _hexagon_tile(
    session: Session, *, layer: TileLayer, z: int, x: int, y: int, scope: Scope
) -> bytes:
    """Counts per H3 cell. Points are fetched from around the tile with a margin of one cell,
    so a cell cut by the tile edge holds the same count in every tile it appears in."""
    resolution, margin, snap_deg = hexagon_lattice(z, y)
    fetch: dict[TileLayer, Callable[[], list[queries.SnappedCount]]] = {
        TileLayer.BUILDINGS: lambda: queries.building_points(
            session, z=z, x=x, y=y, margin=margin, snap_deg=snap_deg,
            where=buildings_clause(scope),
        ),
        TileLayer.GRIDS: lambda: queries.grid_points(
            session, z=z, x=x, y=y, margin=margin, snap_deg=snap_deg
        ),
        TileLayer.FLOATING: lambda: queries.floating_points(
            session, z=z, x=x, y=y, margin=margin, snap_deg=snap_deg,
            where=buildings_clause(scope), on=today_in_china(),
        ),
        TileLayer.EVENTS: lambda: queries.event_points(
            session, z=z, x=x, y=y, margin=margin, snap_deg=snap_deg,
            where=true() if scope.role is Role.PLANNER else events_clause(scope),
        ),
    }  # fmt: skip
    points = fetch[layer]()
    counts = hexgrid.count_cells(
        [(lon, lat) for lon, lat, _ in points], [n for _, _, n in points], resolution=resolution
    )
    if layer in (TileLayer.FLOATING, TileLayer.EVENTS) and scope.role is Role.PLANNER:
        counts = hexgrid.drop_small(counts, threshold=SMALL_COUNT_THRESHOLD)
    cells = sorted(counts)
    return queries.hexagon_tile(
        session, z=z, x=x, y=y, layer=layer.value + HEXAGON_SUFFIX, cells=cells,
        counts=[counts[cell] for cell in cells], wkbs=hexgrid.cell_polygons_wkb(cells),
    )  # fmt: skip


def map_extent(session: Session, *, scope: Scope) -> queries.Bbox | None:
    """Where a caller's map opens: the extent of their grids (an officer's own, a police
    division's, every grid for planners and admins), else of all buildings (estimated)."""
    where = true() if scope.role in (Role.ADMIN, Role.PLANNER) else scope.grids_clause()
    return queries.grids_extent(session, where=where) or queries.estimated_buildings_extent(session)
