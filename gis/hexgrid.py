"""H3 cells: hexagons covering a polygon, points counted per hexagon, hexagons drawn (the only
module importing h3).

h3 takes and returns latitude before longitude; everything here speaks ``(lon, lat)`` like the
rest of gridhouse, so the order is swapped in this module and nowhere else. Coordinates are
EPSG:4490 (CGCS2000) degrees, used as WGS 84: the two agree within a metre, far below the size of
any cell drawn.

    >>> counts = count_cells([(113.9301, 22.4951), (113.9302, 22.4952)], [3, 4], resolution=9)
    >>> list(counts.values())
    [7]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import h3
import shapely

MIN_RESOLUTION = 4
MAX_RESOLUTION = 10
"""Cells finer than resolution 10 (edge ≈ 76 m) would draw single buildings, not aggregates."""

WEB_MERCATOR_WORLD_M = 40_075_016.685_578_49
TILE_PX = 256
MIN_CELL_PX = 24
"""A cell drawn on a tile is at least this many pixels wide (so it reads as an aggregate)."""


def resolution_for_area(area_m2: float) -> int:
    """The resolution whose average cell area is nearest ``area_m2`` (on a log scale), clamped
    to 0…15.

    >>> resolution_for_area(105_000), resolution_for_area(1e13), resolution_for_area(1.0)
    (9, 0, 15)
    """
    if not area_m2 > 0:
        raise ValueError(f"area_m2 must be positive, not {area_m2!r}")
    return min(
        range(16),
        key=lambda res: abs(math.log(float(h3.average_hexagon_area(res, unit="m^2")) / area_m2)),
    )


def cells_covering(polygon: shapely.Geometry, resolution: int) -> list[shapely.Polygon]:
    """The hexagons of ``resolution`` that together cover ``polygon`` (a ``(lon, lat)`` polygon
    or multipolygon): every cell that overlaps it, in cell order.

    >>> block = shapely.box(113.93, 22.49, 113.935, 22.495)
    >>> hexagons = cells_covering(block, 9)
    >>> shapely.union_all(hexagons).covers(block)
    True
    """
    cells: set[str] = set()
    for part in shapely.get_parts(polygon):
        outer = [(lat, lon) for lon, lat in part.exterior.coords]
        holes = [[(lat, lon) for lon, lat in ring.coords] for ring in part.interiors]
        shape = h3.LatLngPoly(outer, *holes)
        cells.update(h3.polygon_to_cells_experimental(shape, resolution, contain="overlap"))
    return [cell_polygon(cell) for cell in sorted(cells)]


def edge_length_m(resolution: int) -> float:
    """The average edge length of a cell, in metres.

    >>> round(edge_length_m(9))
    201
    """
    return float(h3.average_hexagon_edge_length(resolution, unit="m"))


def metres_per_pixel(zoom: int, *, lat: float) -> float:
    """Ground metres per pixel of a 256-pixel Web Mercator tile at ``zoom`` and latitude ``lat``."""
    return WEB_MERCATOR_WORLD_M * math.cos(math.radians(lat)) / (TILE_PX * 2.0**zoom)


def resolution_for_zoom(zoom: int, *, lat: float) -> int:
    """The finest resolution whose cells are at least :data:`MIN_CELL_PX` pixels wide at
    ``zoom``, clamped to :data:`MIN_RESOLUTION`…:data:`MAX_RESOLUTION`.

    >>> [resolution_for_zoom(z, lat=22.5) for z in (6, 10, 12, 13, 14, 16, 19)]
    [4, 6, 8, 8, 9, 10, 10]
    """
    px = metres_per_pixel(zoom, lat=lat)
    for resolution in range(MAX_RESOLUTION, MIN_RESOLUTION - 1, -1):
        if 2 * edge_length_m(resolution) / px >= MIN_CELL_PX:
            return resolution
    return MIN_RESOLUTION


def cell_diameter_deg(resolution: int, *, lat: float) -> float:
    """A generous width of one cell in degrees of longitude at ``lat`` (for margins)."""
    metres = 2.2 * edge_length_m(resolution)
    return metres / (111_320.0 * max(math.cos(math.radians(lat)), 0.01))


def count_cells(
    points: Sequence[tuple[float, float]], weights: Sequence[int], *, resolution: int
) -> dict[str, int]:
    """Sum ``weights`` per cell of ``resolution`` over ``(lon, lat)`` ``points``."""
    if len(points) != len(weights):
        raise ValueError("points and weights differ in length")
    if not MIN_RESOLUTION <= resolution <= 15:
        raise ValueError(f"resolution {resolution} is outside {MIN_RESOLUTION}…15")
    counts: dict[str, int] = {}
    for (lon, lat), weight in zip(points, weights, strict=True):
        cell = h3.latlng_to_cell(lat, lon, resolution)
        counts[cell] = counts.get(cell, 0) + int(weight)
    return counts


def cell_polygon(cell: str) -> shapely.Polygon:
    """The hexagon (or pentagon) of ``cell`` as a ``(lon, lat)`` polygon."""
    ring = [(lon, lat) for lat, lon in h3.cell_to_boundary(cell)]
    return shapely.Polygon(ring)


def cell_polygons_wkb(cells: Iterable[str]) -> list[bytes]:
    """WKB of each cell's polygon, in the order given (EPSG:4326 coordinates, no SRID)."""
    return [bytes(shapely.to_wkb(cell_polygon(cell))) for cell in cells]


def cell_of(lon: float, lat: float, *, resolution: int) -> str:
    """The cell of ``resolution`` holding the point ``(lon, lat)``."""
    return str(h3.latlng_to_cell(lat, lon, resolution))


def drop_small(counts: Mapping[str, int], *, threshold: int) -> dict[str, int]:
    """``counts`` without cells counting from 1 to ``threshold - 1`` (and without empty ones)."""
    return {cell: n for cell, n in counts.items() if n >= threshold}
