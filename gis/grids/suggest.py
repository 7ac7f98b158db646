"""Suggesting grids for a community: blocks between roads (or H3 cells), grouped to balance
households, boundaries drawn around whole buildings.

The algorithm (pure shapely, no database):

1. **Blocks.** The community's outline and the road centrelines inside it are noded together and
   polygonized: the faces are the blocks between roads. Without roads the community is one block.
2. **Atoms.** A block holding more households than the band allows (1.25 × target) is cut by
   H3 hexagons sized to hold about a sixth of the target each (``gis.hexgrid``).
3. **Regions.** Atoms are grouped smallest first: the smallest group below the band (0.75 ×
   target) joins the neighbour it shares most boundary with (same block first) as long as the
   pair stays within 1.25 × target; a group below 35% of the target (a fragment) joins its
   smallest neighbour even past that. Groups never jump across parts of the community.
4. **Polygons.** Everything (outline, roads, hexagon edges, building outlines) is noded once and
   polygonized; each face goes to the group of the building it lies in, else of its atom, and the
   faces of a group are unioned. Buildings are never cut, shared edges are identical (the grids
   form an exact coverage), and a group split in pieces hands its minor pieces to the neighbour
   it shares most boundary with.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from gis import hexgrid
from gis.grids.measure import area_m2

BAND_LOW, BAND_HIGH, FRAGMENT = 0.75, 1.25, 0.35
ATOMS_PER_TARGET = 6


@dataclass(frozen=True)
class SuggestInput:
    """One community: its polygon, its buildings (footprints, points on surface, households
    each) and the road lines near it, all EPSG:4490."""

    community: Any
    footprints: npt.NDArray[Any]
    points: npt.NDArray[Any]
    households: npt.NDArray[np.float64]
    roads: npt.NDArray[Any]
    target_households: int = 400


def suggest_grids(data: SuggestInput) -> list[Any]:
    """Polygons tiling the community, in reading order (north→south rows, west→east)."""
    polygons: list[Any] = []
    tree = shapely.STRtree(data.points) if len(data.points) else None
    for part in shapely.get_parts(data.community):
        inside = np.zeros(0, dtype=np.int64)
        if tree is not None:
            inside = tree.query(part, predicate="covers")
        polygons.extend(_suggest_part(part, data, inside))
    return reading_order(polygons)


def reading_order(polygons: list[Any]) -> list[Any]:
    """Rows north→south (a row is a median polygon's height), west→east inside a row."""
    if not polygons:
        return []
    points = shapely.point_on_surface(np.array(polygons, dtype=object))
    bounds = shapely.bounds(np.array(polygons, dtype=object))
    row_height = float(np.median(bounds[:, 3] - bounds[:, 1])) or 1e-9
    top = float(bounds[:, 3].max())
    keys = [(math.floor((top - p.y) / row_height), p.x) for p in points.tolist()]
    return [polygons[i] for i in sorted(range(len(polygons)), key=lambda i: keys[i])]


def _suggest_part(part: Any, data: SuggestInput, members: npt.NDArray[np.int64]) -> list[Any]:
    target = data.target_households
    points = data.points[members]
    weights = data.households[members]
    road_lines = _clip_lines(data.roads, part)
    blocks = _faces([shapely.boundary(part), *road_lines], part)
    block_of = _locate(points, blocks)
    block_weight = np.bincount(block_of, weights=weights, minlength=len(blocks))
    cut_lines = []
    for index in np.flatnonzero(block_weight > BAND_HIGH * target):
        cut_lines.extend(_hexagon_edges(blocks[index], block_weight[index], target))
    atom_lines = [shapely.boundary(part), *road_lines, *cut_lines]
    atoms = _faces(atom_lines, part) if cut_lines else blocks
    atom_block = _locate(shapely.point_on_surface(np.array(atoms, dtype=object)), blocks)
    atom_of = _locate(points, atoms)
    atom_weight = np.bincount(atom_of, weights=weights, minlength=len(atoms)).astype(np.float64)
    group_of_atom = _regionalize(atoms, atom_weight, atom_block, target)
    footprints = shapely.intersection(data.footprints[members], part)
    outline_lines = [shapely.boundary(f) for f in footprints if not shapely.is_empty(f)]
    faces = _faces([*atom_lines, *outline_lines], part)
    face_points = shapely.point_on_surface(np.array(faces, dtype=object))
    face_group = group_of_atom[_locate(face_points, atoms)]
    if len(footprints):
        fp_tree = shapely.STRtree(footprints)
        face_index, building_index = fp_tree.query(face_points, predicate="within")
        building_group = group_of_atom[atom_of]
        face_group[face_index] = building_group[building_index]
    return _dissolve(faces, face_group)


def _clip_lines(roads: npt.NDArray[Any], part: Any) -> list[Any]:
    if len(roads) == 0:
        return []
    near = roads[shapely.intersects(roads, part)]
    clipped = shapely.intersection(near, part)
    return [line for line in clipped if not shapely.is_empty(line)]


def _faces(lines: list[Any], part: Any) -> list[Any]:
    """The faces of the noded lines that lie inside ``part``."""
    noded = shapely.node(shapely.union_all(lines))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    if len(faces) == 0:
        return [part]
    inside = shapely.covers(part, shapely.point_on_surface(faces))
    # the point on surface of a sliver can fall on its outline, a hair outside: measure those
    doubtful = np.flatnonzero(~inside)
    shares = shapely.area(shapely.intersection(faces[doubtful], part)) / np.maximum(
        shapely.area(faces[doubtful]), 1e-30
    )
    inside[doubtful[shares > 0.5]] = True
    return list(faces[inside])


def _locate(points: Any, polygons: list[Any]) -> npt.NDArray[np.int64]:
    """Index of the polygon holding each point (the nearest when none does)."""
    points = np.asarray(points, dtype=object)
    result = np.zeros(len(points), dtype=np.int64)
    if len(points) == 0:
        return result
    tree = shapely.STRtree(np.array(polygons, dtype=object))
    found = np.zeros(len(points), dtype=bool)
    point_index, polygon_index = tree.query(points, predicate="intersects")
    result[point_index[::-1]] = polygon_index[::-1]  # the first match wins
    found[point_index] = True
    if not found.all():
        missing = np.flatnonzero(~found)
        nearest = tree.query_nearest(points[missing], all_matches=False)
        result[missing[nearest[0]]] = nearest[1]
    return result


def _hexagon_edges(block: Any, households: float, target: int) -> list[Any]:
    """Hexagon outlines inside a block, sized for about target / 6 households a hexagon."""
    cells_wanted = max(2.0, households * ATOMS_PER_TARGET / target)
    resolution = hexgrid.resolution_for_area(area_m2(block) / cells_wanted)
    hexagons = hexgrid.cells_covering(block, resolution)
    edges = shapely.intersection(shapely.boundary(np.array(hexagons, dtype=object)), block)
    return [edge for edge in edges if not shapely.is_empty(edge)]


def _adjacency(polygons: list[Any]) -> dict[int, dict[int, float]]:
    """Shared boundary length between polygons that share an edge (degrees, for ranking)."""
    geoms = np.array(polygons, dtype=object)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    shared: dict[int, dict[int, float]] = defaultdict(dict)
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i < j:
            length = float(
                shapely.length(shapely.intersection(geoms[i].boundary, geoms[j].boundary))
            )
            if length > 0:
                shared[i][j] = shared[j][i] = length
    return shared


def _regionalize(
    atoms: list[Any], weights: npt.NDArray[np.float64], blocks: npt.NDArray[np.int64], target: int
) -> npt.NDArray[np.int64]:
    """Group atoms (see the module docstring, step 3); returns the group of each atom."""
    shared = _adjacency(atoms)
    group = np.arange(len(atoms))
    members = {i: {i} for i in range(len(atoms))}
    weight = {i: float(weights[i]) for i in range(len(atoms))}
    block = {i: int(blocks[i]) for i in range(len(atoms))}  # a group's main block
    neighbours = {i: dict(shared.get(i, {})) for i in range(len(atoms))}
    done: set[int] = set()
    while True:
        open_groups = [g for g in members if g not in done and weight[g] < BAND_LOW * target]
        if not open_groups:
            break
        small = min(open_groups, key=lambda g: (weight[g], len(members[g]), g))
        options = neighbours[small]
        if not options:
            done.add(small)
            continue
        fits = [n for n in options if weight[small] + weight[n] <= BAND_HIGH * target]
        if fits:
            other = min(fits, key=lambda n: (block[n] != block[small], -options[n], weight[n]))
        elif weight[small] < FRAGMENT * target:
            other = min(options, key=lambda n: (weight[n], -options[n]))
        else:
            done.add(small)
            continue
        keep, gone = (other, small) if weight[other] >= weight[small] else (small, other)
        members[keep] |= members.pop(gone)
        weight[keep] += weight.pop(gone)
        block.pop(gone)
        done.discard(gone)
        for n, length in neighbours.pop(gone).items():
            if n == keep:
                continue
            neighbours[n].pop(gone, None)
            neighbours[n][keep] = neighbours[n].get(keep, 0.0) + length
            neighbours[keep][n] = neighbours[keep].get(n, 0.0) + length
        neighbours[keep].pop(gone, None)
        done.discard(keep)
    for g, atoms_of in members.items():
        for atom in atoms_of:
            group[atom] = g
    return group


def _dissolve(faces: list[Any], face_group: npt.NDArray[np.int64]) -> list[Any]:
    """Union the faces of each group; minor pieces of a split group go to the neighbouring
    group that shares most boundary with them."""
    geoms = np.array(faces, dtype=object)
    shared = _adjacency(faces)
    for _ in range(10):
        moved = False
        for g in np.unique(face_group).tolist():
            index = np.flatnonzero(face_group == g)
            pieces = _connected(index, shared)
            if len(pieces) <= 1:
                continue
            pieces.sort(key=lambda piece: -sum(float(shapely.area(geoms[i])) for i in piece))
            for piece in pieces[1:]:
                border: dict[int, float] = defaultdict(float)
                for i in piece:
                    for j, length in shared.get(i, {}).items():
                        if face_group[j] != g:
                            border[int(face_group[j])] += length
                if border:
                    face_group[list(piece)] = max(border, key=lambda k: border[k])
                    moved = True
        if not moved:
            break
    result = []
    for g in np.unique(face_group).tolist():
        union = shapely.coverage_union_all(geoms[face_group == g])
        parts = [p for p in shapely.get_parts(union) if shapely.get_type_id(p) == 3]
        result.extend(parts)
    return result


def _connected(index: npt.NDArray[np.int64], shared: dict[int, dict[int, float]]) -> list[set[int]]:
    """Connected components of the faces ``index`` (by shared edges)."""
    remaining = set(index.tolist())
    components = []
    while remaining:
        start = remaining.pop()
        component = {start}
        stack = [start]
        while stack:
            current = stack.pop()
            for neighbour in shared.get(current, {}):
                if neighbour in remaining:
                    remaining.remove(neighbour)
                    component.add(neighbour)
                    stack.append(neighbour)
        components.append(component)
    return components
