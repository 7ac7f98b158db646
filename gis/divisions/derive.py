"""Deriving stand-in community polygons from road centrelines, for data that has none.

Real community boundaries are not published with the demo data, so the demo groups buildings
into the blocks that major roads cut out, evens the groups out (merging small blocks into their
nearest neighbour, splitting big ones at the median where no road divides them), and turns the
groups into polygons that tile the area (Voronoi cells of building points, dissolved per group).
These polygons are demo-only: they follow roads where the data has them, not legal boundaries.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

MAJOR_ROADS = ("trunk", "primary", "secondary", "tertiary")
ROAD_HALF_WIDTH_DEG = 0.0002  # about 20 m: closes small gaps where road lines do not meet


def derive_communities(
    roads: npt.NDArray[Any], *, points: npt.NDArray[Any], extent: Any, count: int
) -> list[Any]:
    """``count`` polygons tiling ``extent``, each holding a similar number of ``points``,
    with boundaries along ``roads`` where roads separate the points; ordered west→east,
    north→south by centroid."""
    coords = shapely.get_coordinates(points)
    groups = _road_groups(roads, points=points, extent=extent)
    groups = _balance(groups, coords=coords, count=count)
    labels = np.empty(len(coords), dtype=np.int64)
    for label, members in enumerate(groups):
        labels[members] = label
    polygons = _dissolve_voronoi(coords, labels, extent=extent, count=len(groups))
    return sorted(polygons, key=_reading_order)


def _road_groups(roads: npt.NDArray[Any], *, points: npt.NDArray[Any], extent: Any) -> list[Any]:
    corridors = shapely.union_all(shapely.buffer(roads, ROAD_HALF_WIDTH_DEG))
    pieces = list(shapely.get_parts(shapely.difference(extent, corridors)))
    tree = shapely.STRtree(pieces)
    point_index, piece_index = tree.query_nearest(points, return_distance=False, all_matches=False)
    label = np.empty(len(points), dtype=np.int64)
    label[point_index] = piece_index
    return [np.flatnonzero(label == piece) for piece in np.unique(label)]


def _balance(groups: list[Any], *, coords: npt.NDArray[Any], count: int) -> list[Any]:
    """Merge tiny groups into the nearest one, split the biggest at its median, until ``count``
    groups remain and none is under a third of the mean."""
    groups = [g for g in groups if g.size]
    for _ in range(10 * (len(groups) + count)):
        sizes = np.array([g.size for g in groups])
        floor = len(coords) / count / 3
        if len(groups) > 1 and (len(groups) > count or sizes.min() < floor):
            groups = _merge_smallest(groups, coords=coords)
        elif len(groups) < count:
            groups = _split_largest(groups, coords=coords)
        else:
            break
    return groups


def _merge_smallest(groups: list[Any], *, coords: npt.NDArray[Any]) -> list[Any]:
    sizes = [g.size for g in groups]
    smallest = int(np.argmin(sizes))
    centres = np.array([coords[g].mean(axis=0) for g in groups])
    distance = np.hypot(*(centres - centres[smallest]).T)
    distance[smallest] = np.inf
    nearest = int(np.argmin(distance))
    merged = np.concatenate([groups[smallest], groups[nearest]])
    return [g for i, g in enumerate(groups) if i not in (smallest, nearest)] + [merged]


def _split_largest(groups: list[Any], *, coords: npt.NDArray[Any]) -> list[Any]:
    largest = int(np.argmax([g.size for g in groups]))
    members = groups[largest]
    spread = np.ptp(coords[members], axis=0)
    axis = int(np.argmax(spread))
    order = members[np.argsort(coords[members, axis], kind="stable")]
    half = order.size // 2
    return [g for i, g in enumerate(groups) if i != largest] + [order[:half], order[half:]]


def _dissolve_voronoi(
    coords: npt.NDArray[Any], labels: npt.NDArray[np.int64], *, extent: Any, count: int
) -> list[Any]:
    unique, first = np.unique(np.round(coords, 7), axis=0, return_index=True)
    sites = np.asarray(shapely.points(unique))
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(sites), extend_to=extent)
    )
    owner = shapely.STRtree(sites).query(cells, predicate="contains")
    cell_label = np.full(len(cells), -1)
    cell_label[owner[0]] = labels[first[owner[1]]]
    polygons = []
    for label in range(count):
        dissolved = shapely.union_all(cells[cell_label == label])
        polygons.append(shapely.intersection(dissolved, extent))
    return polygons


def _reading_order(polygon: Any) -> tuple[float, float]:
    centroid = shapely.centroid(polygon)
    return (round(-centroid.y, 2), centroid.x)
