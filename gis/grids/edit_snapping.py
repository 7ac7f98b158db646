"""A drawn plan grid made exact: vertices a page rounded snapped back onto the outlines they came
from, and the crumbs an edit would leave of a neighbour given to the grid drawn.

A map page sends polygons rounded (Leaflet's ``toGeoJSON`` keeps 6 decimals unless told, ~0.1 m):
a grid's own outline sent back unchanged reached outside its community by 38.9 m² and left
slivers against 13 grids, and a grid taking part of another left it in crumbs of 0.04 m²
(several parts: an error).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely

from gis.grids.measure import area_m2
from gis.grids.topology import polygonal_parts

SNAP_DEG = 1e-6
"""About 0.1 m: farther than rounding to 6 decimals moves a vertex (at most 7.1e-7°), nearer
than a planner means to move one."""
CRUMB_M2 = 1.0
"""A part of a neighbour smaller than this, beside the grid drawn, is a crumb of the drawing's
rounding, not a piece of grid: it goes to the grid drawn."""


def snapped_to_outlines(new: Any, outlines: Sequence[Any], *, old: Any = None) -> Any:
    """``new`` with each vertex within :data:`SNAP_DEG` of a vertex of ``outlines`` (the plan's
    grids and the communities around it) moved onto it; ``new`` as it was when that would
    leave it invalid or in several parts.

    Vertex to vertex, not GEOS's snap (which also moves vertices onto segments). The demo's
    grids have vertices closer together than the tolerance (0.08 µ° apart), so of the vertices
    near one the one that rounds to it is taken, and among those the one following, in ``old``
    (the grid's outline before), the vertex taken before: the outline sent back unchanged comes
    back exactly."""
    shapes = np.array([g for g in outlines if g is not None and not shapely.is_empty(g)])
    if not len(shapes):
        return new
    reference = np.unique(shapely.get_coordinates(shapes), axis=0)
    tree = shapely.STRtree(np.asarray(shapely.points(reference)))
    old_ring = _ring(old)
    where_in_ring: dict[tuple[float, float], int] = {
        (float(x), float(y)): i for i, (x, y) in enumerate(old_ring)
    }

    def onto_reference(coords: Any) -> Any:
        decimals = _decimals(coords)
        moved = np.array(coords, dtype=float)
        after: int | None = None
        for i, vertex in enumerate(moved):
            near = tree.query(shapely.points(vertex), predicate="dwithin", distance=SNAP_DEG)
            if not len(near):
                after = None
                continue
            candidates = reference[near]
            if decimals is not None:
                rounding = np.abs(np.round(candidates, decimals) - vertex).max(axis=1) < 1e-12
                candidates = candidates[rounding] if rounding.any() else candidates
            chosen = candidates[np.argmin(np.hypot(*(candidates - vertex).T))]
            if after is not None and len(candidates) > 1:
                following = old_ring[(after + 1) % len(old_ring)]
                if any((c == following).all() for c in candidates):
                    chosen = following
            moved[i] = chosen
            after = where_in_ring.get((float(chosen[0]), float(chosen[1])))
        return moved

    parts = polygonal_parts(new)
    if len(parts) != 1:
        return new
    polygon = parts[0]  # a MultiPolygon of one part is taken as its polygon
    rings = [shapely.get_exterior_ring(polygon), *shapely.get_parts(shapely.get_rings(polygon))[1:]]
    snapped_rings = []
    for each in rings:
        coords = onto_reference(shapely.get_coordinates(each)[:-1])
        snapped_rings.append(np.vstack([coords, coords[:1]]))  # closed on its first vertex
    try:
        snapped = shapely.remove_repeated_points(
            shapely.polygons(snapped_rings[0], holes=snapped_rings[1:] or None)
        )
    except shapely.errors.GEOSException:  # a ring snapped down to fewer than 4 points
        return new
    if not shapely.is_valid(snapped) or shapely.is_empty(snapped):
        return new
    return snapped


def _ring(geom: Any) -> Any:
    """The exterior ring's vertices of a polygon, without the closing one (none without)."""
    parts = polygonal_parts(geom)
    if len(parts) != 1:
        return np.empty((0, 2))
    return shapely.get_coordinates(shapely.get_exterior_ring(parts[0]))[:-1]


def _decimals(coords: Any) -> int | None:
    """The fewest decimals (6 to 9) every coordinate is written with; None: more (not rounded
    by a page)."""
    for decimals in range(6, 10):
        if (np.abs(np.round(coords, decimals) - coords) < 1e-12).all():
            return decimals
    return None


def without_crumbs(neighbour: Any, drawn: Any) -> tuple[Any, list[Any]]:
    """``neighbour`` without its parts under :data:`CRUMB_M2` that touch ``drawn`` (when a
    larger part remains), and those crumbs."""
    parts = polygonal_parts(neighbour)
    if len(parts) < 2:
        return neighbour, []
    areas = [area_m2(part) for part in parts]
    if max(areas) < CRUMB_M2:
        return neighbour, []
    near = shapely.buffer(drawn, SNAP_DEG)
    crumbs = [
        part
        for part, area in zip(parts, areas, strict=True)
        if area < CRUMB_M2 and shapely.intersects(part, near)
    ]
    if not crumbs:
        return neighbour, []
    kept = [part for part in parts if not any(part is crumb for crumb in crumbs)]
    return shapely.union_all(np.array(kept, dtype=object)), crumbs
