"""Measuring grid polygons in metres: areas, perimeters, Polsby-Popper, a readable location.

Grids are stored in EPSG:4490 degrees. Their areas and perimeters are taken on a local
equirectangular plane around the geometry's own centre (x scaled by cos(latitude)): over a grid
or a community (a few km) that is within 0.1% of the geodesic value, and it is vectorised, so
checking thousands of topology pieces against a tolerance costs nothing. It is a measurement,
never a stored conversion (those live in ``gis.crs``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

METRES_PER_DEG_LAT = 110_574.0
METRES_PER_DEG_LON_EQUATOR = 111_320.0


def _scale(latitude: float) -> tuple[float, float]:
    return METRES_PER_DEG_LON_EQUATOR * math.cos(math.radians(latitude)), METRES_PER_DEG_LAT


def area_m2(geom: Any) -> float:
    """Area in m² of a geometry in degrees.

    >>> round(area_m2(shapely.box(113.9, 22.5, 113.901, 22.501)))
    11372
    """
    if geom is None or shapely.is_empty(geom):
        return 0.0
    sx, sy = _scale(shapely.centroid(geom).y)
    return float(shapely.area(geom)) * sx * sy


def areas_m2(geoms: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """Areas in m² of many geometries (each scaled at its own latitude)."""
    geoms = np.asarray(geoms, dtype=object)
    if geoms.size == 0:
        return np.zeros(0)
    bounds = shapely.bounds(geoms)
    latitude = np.nan_to_num((bounds[:, 1] + bounds[:, 3]) / 2)
    scale = METRES_PER_DEG_LON_EQUATOR * np.cos(np.radians(latitude)) * METRES_PER_DEG_LAT
    return np.asarray(shapely.area(geoms) * scale, dtype=np.float64)


def to_local_metres(geom: Any) -> Any:
    """The geometry on a local plane in metres (origin at its centroid)."""
    centre = shapely.centroid(geom)
    sx, sy = _scale(centre.y)
    x0, y0 = centre.x, centre.y
    return shapely.transform(
        geom, lambda xy: np.column_stack([(xy[:, 0] - x0) * sx, (xy[:, 1] - y0) * sy])
    )


def polsby_popper(geom: Any) -> float:
    """Compactness 4πA/P² in (0, 1]: 1 for a disc, about 0.785 for a square.

    >>> round(polsby_popper(shapely.box(113.9, 22.5, 113.901, 22.5009)), 2)
    0.79
    """
    if geom is None or shapely.is_empty(geom):
        return 0.0
    local = to_local_metres(geom)
    perimeter = float(shapely.length(shapely.boundary(local)))
    if perimeter == 0:
        return 0.0
    return 4 * math.pi * float(shapely.area(local)) / perimeter**2


def where(geom: Any) -> str:
    """A location to print: ``lon,lat`` of a point inside the geometry (6 decimals ≈ 0.1 m)."""
    point = shapely.point_on_surface(geom) if not shapely.is_empty(geom) else None
    if point is None or shapely.is_empty(point):
        return "?"
    return f"{point.x:.6f},{point.y:.6f}"
