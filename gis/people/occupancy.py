"""Who lived where on a date: occupants of a house, a building, a radius, a polygon or a grid.

Every query is scoped (the caller's buildings only) and bounded (OWASP API4): a radius of at most
:data:`MAX_RADIUS_M`, polygons of at most :data:`MAX_POLYGON_VERTICES` vertices and
:data:`MAX_POLYGON_AREA_M2`, pages of at most 1,000 people. Coordinates name their CRS (DESIGN
§4); GeoJSON without one is RFC 7946 longitude/latitude (EPSG:4326).
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.buildings import service as buildings_service
from gis.codes import parse_code
from gis.crs import (
    STORAGE_SRID,
    SourceCrs,
    out_of_china,
    parse_crs,
    transform_geometries,
    transform_xy,
)
from gis.errors import InvalidGeometry, InvalidInput, NotFound
from gis.people import occupancy_queries as sql
from gis.people import queries
from gis.people.periods import checked_date

MIN_RADIUS_M = 1.0  # below a metre the query circle is a point (and the audit row's is invalid)
MAX_RADIUS_M = 1000.0
MAX_POLYGON_VERTICES = 1000
MAX_POLYGON_AREA_M2 = 10_000_000.0  # 10 km²: a few communities; whole districts go by grid
MAX_PAGE = 1000
GEOD = Geod(ellps="GRS80")  # the CGCS2000 ellipsoid differs from GRS80 by 0.1 mm in b
_CURSOR = re.compile(
    r"([0-9]{24}[0-9X]):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
)
_GRID_CODE = re.compile(r"[0-9]{15}")


@dataclass(frozen=True)
class OccupantResult:
    """A page of occupants and what the audit row records about the query."""

    page: sql.OccupantPage
    query_geom: BaseGeometry | None
    target_codes: list[str]


def parse_cursor(after: str | None) -> tuple[str, uuid.UUID] | None:
    """The ``next`` of a previous page: ``<house code>:<person uid>``."""
    if after is None or after == "":
        return None
    match = _CURSOR.fullmatch(after)
    if match is None:
        raise InvalidInput(
            "not a cursor of this list: pass the `next` of the previous page", field="after"
        )
    return match.group(1), uuid.UUID(match.group(2))


def _checked_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    return limit


def _page(
    session: Session,
    *,
    area: sql.Area,
    scope: Scope,
    at: date,
    limit: int,
    after: str | None,
    house_uid: uuid.UUID | None = None,
) -> sql.OccupantPage:
    return sql.select_occupant_page(
        session, area=area, scope=scope, at=checked_date(at, field="at"),
        limit=_checked_limit(limit), after=parse_cursor(after), house_uid=house_uid,
    )  # fmt: skip


def house_occupants(
    session: Session,
    *,
    scope: Scope,
    code: str,
    at: date,
    limit: int = 100,
    after: str | None = None,
) -> OccupantResult:
    """The people whose residence in this house covered ``at``."""
    scope.require_personal()
    parsed = parse_code(code)
    house = queries.select_house_in_scope(session, code=parsed.code, scope=scope)
    if house is None:
        raise NotFound(f"no house has the code {parsed.code}", field="code")
    area = sql.building_area(house.building_uid)
    page = _page(
        session, area=area, scope=scope, at=at, limit=limit, after=after, house_uid=house.uid
    )
    return OccupantResult(page=page, query_geom=None, target_codes=[house.code])


def building_occupants(
    session: Session,
    *,
    scope: Scope,
    code: str,
    at: date,
    limit: int = 100,
    after: str | None = None,
) -> OccupantResult:
    """The people whose residence in a house of this building covered ``at``."""
    scope.require_personal()
    building = buildings_service.get_building(session, code=code, scope=scope)
    area = sql.building_area(building.uid)
    page = _page(session, area=area, scope=scope, at=at, limit=limit, after=after)
    return OccupantResult(page=page, query_geom=None, target_codes=[building.code])


def checked_point(lon: float, lat: float, crs: SourceCrs) -> tuple[float, float]:
    """(lon, lat) in EPSG:4490 from a geographic CRS; NaN, out-of-range, swapped and
    out-of-China coordinates refused."""
    if not crs.is_geographic:
        raise InvalidInput(f"{crs.label} is projected: lon/lat need a geographic CRS", field="crs")
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise InvalidInput("lon and lat must be finite numbers", field="lon")
    lons, lats = np.array([lon]), np.array([lat])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90) or out_of_china(lons, lats)[0]:
        if not out_of_china(lats, lons)[0]:
            raise InvalidInput("lon and lat look swapped (lon is east, lat north)", field="lon")
        raise InvalidInput("the point is outside China", field="lon")
    x, y = transform_xy(lons, lats, crs)
    return float(x[0]), float(y[0])


@lru_cache(maxsize=4)
def _unit_circle(segments: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    azimuths = np.radians(np.linspace(0.0, 360.0, segments, endpoint=False))
    return np.sin(azimuths), np.cos(azimuths)


def circle(lon: float, lat: float, radius_m: float, *, segments: int = 32) -> Polygon:
    """The circle around a point on the CGCS2000 ellipsoid, as a polygon (for the audit row's
    query area).

    Offsets from the ellipsoid's radii of curvature at the point: within 0.15 m of the
    geodesic circle at :data:`MAX_RADIUS_M` (0.12 m at 53.5° N, China's north) and 2 mm at
    100 m, checked against ``Geod.fwd``; ~0.05 ms, where ``Geod.fwd`` cost 0.3–0.5 ms on every
    radius query (issue 5 item 8).
    """
    phi = math.radians(lat)
    w = 1.0 - GEOD.es * math.sin(phi) ** 2
    meridian = GEOD.a * (1.0 - GEOD.es) / w**1.5  # metres a radian of latitude
    normal = GEOD.a / math.sqrt(w)  # … and along the parallel, over cos(latitude)
    east, north = _unit_circle(segments)
    lons = lon + np.degrees(radius_m * east / (normal * math.cos(phi)))
    lats = lat + np.degrees(radius_m * north / meridian)
    return cast(Polygon, shapely.polygons(np.column_stack((lons, lats))))


def radius_occupants(
    session: Session,
    *,
    scope: Scope,
    lon: float,
    lat: float,
    radius_m: float,
    crs: str | None,
    at: date,
    limit: int = 100,
    after: str | None = None,
) -> OccupantResult:
    """The people of houses in buildings whose footprint lies within ``radius_m`` of a point."""
    scope.require_personal()
    if crs is None or not crs.strip():
        raise InvalidInput(
            "name the CRS of lon/lat: EPSG:4326, EPSG:4490, GCJ02 or BD09", field="crs"
        )
    if not (math.isfinite(radius_m) and MIN_RADIUS_M <= radius_m <= MAX_RADIUS_M):
        raise InvalidInput(
            f"radius_m must be between {MIN_RADIUS_M:g} and {MAX_RADIUS_M:g} metres",
            field="radius_m",
        )
    x, y = checked_point(lon, lat, parse_crs(crs))
    page = _page(
        session,
        area=sql.radius_area(x, y, radius_m),
        scope=scope,
        at=at,
        limit=limit,
        after=after,
    )
    return OccupantResult(
        page=page, query_geom=circle(x, y, radius_m), target_codes=page.building_codes
    )


def checked_polygon(geojson: dict[str, Any], crs: SourceCrs) -> Polygon | MultiPolygon:
    """A GeoJSON (Multi)Polygon → a valid shapely geometry in EPSG:4490, within the limits."""
    if geojson.get("type") not in {"Polygon", "MultiPolygon"}:
        raise InvalidGeometry("a GeoJSON Polygon or MultiPolygon is required", field="polygon")
    try:
        geometry = shape(geojson)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError):
        # OverflowError: a JSON integer too large for a float (Python's json reads any length)
        raise InvalidGeometry("not a valid GeoJSON polygon", field="polygon") from None
    except shapely.errors.GEOSException as error:  # a ring not closed (a NaN never equals)
        raise InvalidGeometry(f"not a valid GeoJSON polygon: {error}", field="polygon") from None
    vertices = int(shapely.get_num_coordinates(geometry))
    if vertices > MAX_POLYGON_VERTICES:
        raise InvalidGeometry(
            f"{vertices} vertices: at most {MAX_POLYGON_VERTICES}", field="polygon"
        )
    coords = shapely.get_coordinates(geometry)
    if geometry.is_empty or not np.isfinite(coords).all():
        raise InvalidGeometry("the polygon is empty or has non-finite coordinates", field="polygon")
    if crs.is_geographic and out_of_china(coords[:, 0], coords[:, 1]).any():
        raise InvalidGeometry(
            "the polygon reaches outside China (lon/lat swapped?)", field="polygon"
        )
    if not geometry.is_valid:
        reason = shapely.is_valid_reason(geometry)
        raise InvalidGeometry(f"the polygon is invalid: {reason}", field="polygon")
    stored = transform_geometries(np.array([geometry]), crs, STORAGE_SRID)[0]
    stored_coords = shapely.get_coordinates(stored)
    if not np.isfinite(stored_coords).all() or (
        out_of_china(stored_coords[:, 0], stored_coords[:, 1]).any()
    ):
        # projected input is checked here, where it has become lon/lat (UTM's 0,0 lies at sea)
        raise InvalidGeometry(
            f"the polygon reaches outside China once converted from {crs.label} to EPSG:4490",
            field="polygon",
        )
    if not stored.is_valid or stored.is_empty:
        raise InvalidGeometry("the polygon is invalid once converted to EPSG:4490", field="polygon")
    area_m2 = abs(GEOD.geometry_area_perimeter(stored)[0])
    if area_m2 > MAX_POLYGON_AREA_M2:
        raise InvalidGeometry(
            f"the polygon covers {area_m2 / 1e6:.1f} km²: at most {MAX_POLYGON_AREA_M2 / 1e6:g}",
            field="polygon",
        )
    assert isinstance(stored, Polygon | MultiPolygon)
    return stored


def polygon_occupants(
    session: Session,
    *,
    scope: Scope,
    polygon: dict[str, Any],
    crs: str | None,
    at: date,
    limit: int = 100,
    after: str | None = None,
) -> OccupantResult:
    """The people of houses in buildings whose footprint intersects the polygon."""
    scope.require_personal()
    area = checked_polygon(polygon, parse_crs(crs or "EPSG:4326"))
    wkb = bytes(shapely.to_wkb(area))
    page = _page(session, area=sql.polygon_area(wkb), scope=scope, at=at, limit=limit, after=after)
    return OccupantResult(page=page, query_geom=area, target_codes=page.building_codes)


def grid_occupants(
    session: Session,
    *,
    scope: Scope,
    code: str,
    at: date,
    limit: int = 100,
    after: str | None = None,
) -> OccupantResult:
    """The people of houses in buildings assigned to the grid (its version valid on ``at``)."""
    scope.require_personal()
    if not _GRID_CODE.fullmatch(code):
        raise InvalidInput("a grid code has 15 digits", field="grid")
    grid = sql.select_grid_in_scope(
        session, code=code, on=checked_date(at, field="at"), scope=scope
    )
    if grid is None:
        raise NotFound(f"no grid {code} on {at}", field="grid")
    page = _page(
        session, area=sql.grid_area(code, at), scope=scope, at=at, limit=limit, after=after
    )
    return OccupantResult(page=page, query_geom=None, target_codes=[code, *page.building_codes])
