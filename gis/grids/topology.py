"""The hard topology rules of grids, checked with shapely (GEOS 3.14 coverage functions).

Rules (DESIGN §6): every grid is a valid single polygon; grids of a community do not overlap and
leave no gap inside it; every grid lies inside its one community. Gaps and parts outside the
community smaller than :attr:`Tolerances.sliver_m2` are reported as slivers (warnings, with their
area); pieces below :attr:`Tolerances.noise_m2` are floating-point noise. The building rule
(every building in exactly one grid) needs the database: see ``gis.grids.validation``.

>>> a, b = shapely.box(0, 0, 0.01, 0.01), shapely.box(0.01, 0, 0.02, 0.01)
>>> community = shapely.MultiPolygon([shapely.box(0, 0, 0.02, 0.01)])
>>> grids = [GridShape("a", "c", a), GridShape("b", "c", b)]
>>> check_grids(grids, communities={"c": community}).ok
True
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import shapely

from gis.grids.measure import area_m2, areas_m2
from gis.grids.schemas import GridShape, Problem, ProblemKind, Severity, Tolerances, TopologyReport

_POLYGONAL = (3, 6)
Neighbours = Callable[[Any, str], list[str]]
"""``(piece, own community) → codes`` of the other communities a piece lies in."""
_REASON_POINT = re.compile(r"\[\s*([-0-9.eE+]+)\s+([-0-9.eE+]+)\s*\]")


def polygonal_parts(geom: Any) -> list[Any]:
    """The non-empty polygons of any geometry (collections from overlays included)."""
    if geom is None or shapely.is_empty(geom):
        return []
    return [
        part
        for part in shapely.get_parts(geom)
        if shapely.get_type_id(part) == 3 and not shapely.is_empty(part)
    ]


def check_shapes(grids: Sequence[GridShape], *, tolerances: Tolerances) -> list[Problem]:
    """Rule 1: each grid a valid, single, non-empty polygon."""
    problems: list[Problem] = []
    for grid in grids:
        geom = grid.geom
        if geom is None or shapely.is_empty(geom) or shapely.get_type_id(geom) not in _POLYGONAL:
            problems.append(
                Problem(
                    ProblemKind.INVALID,
                    Severity.ERROR,
                    f"grid {grid.ref} is not a polygon",
                    geom=geom if geom is not None else shapely.Point(0, 0),
                    community_code=grid.community_code,
                    grids=(grid.ref,),
                )
            )
            continue
        if not shapely.is_valid(geom):
            reason = shapely.is_valid_reason(geom)
            match = _REASON_POINT.search(reason)
            spot = shapely.Point(float(match[1]), float(match[2])) if match else geom
            problems.append(
                Problem(
                    ProblemKind.INVALID,
                    Severity.ERROR,
                    f"grid {grid.ref} is not a valid polygon ({reason})",
                    geom=spot,
                    community_code=grid.community_code,
                    grids=(grid.ref,),
                )
            )
            continue
        parts = polygonal_parts(geom)
        if len(parts) > 1:
            areas = areas_m2(np.array(parts, dtype=object))
            order = np.argsort(-areas)
            minor = shapely.multipolygons([parts[i] for i in order[1:]])
            problems.append(
                Problem(
                    ProblemKind.MULTIPART,
                    Severity.ERROR,
                    f"grid {grid.ref} has {len(parts)} separate parts "
                    f"(a grid is one contiguous polygon)",
                    geom=minor,
                    community_code=grid.community_code,
                    grids=(grid.ref,),
                    area_m2=float(areas[order[1:]].sum()),
                )
            )
    return problems


def check_grids(
    grids: Sequence[GridShape],
    *,
    communities: Mapping[str, Any | None],
    tolerances: Tolerances | None = None,
    only_communities: Iterable[str] | None = None,
    neighbours: Neighbours | None = None,
) -> TopologyReport:
    """Check every rule that needs no database: shapes, overlaps, gaps, community containment.

    ``communities`` maps each community code to its polygon (None when it has no boundary).
    ``only_communities`` limits the overlap/gap/containment checks to those communities.
    ``neighbours(piece)`` names the other communities a piece outside its own lies in (default:
    those of ``communities`` it overlaps).
    """
    tolerances = tolerances or Tolerances()
    report = TopologyReport(problems=check_shapes(grids, tolerances=tolerances))
    broken = {p.grids[0] for p in report.problems if p.kind is ProblemKind.INVALID}
    by_community: dict[str, list[GridShape]] = defaultdict(list)
    for grid in grids:
        if grid.ref not in broken:
            by_community[grid.community_code].append(grid)
    wanted = set(only_communities) if only_communities is not None else set(by_community)
    for code in sorted(wanted):
        community = communities.get(code)
        members = by_community.get(code, [])
        if community is None:
            for grid in members:
                report.problems.append(
                    Problem(
                        ProblemKind.NO_COMMUNITY,
                        Severity.ERROR,
                        f"grid {grid.ref}: community {code} has no boundary to check against",
                        geom=shapely.point_on_surface(grid.geom),
                        community_code=code,
                        grids=(grid.ref,),
                    )
                )
            continue
        name = neighbours or (lambda piece, own: _reached(piece, communities, own=own))
        report.problems.extend(
            check_community(code, community, members, name, tolerances=tolerances)
        )
    return report


def check_community(
    code: str,
    community: Any,
    grids: Sequence[GridShape],
    neighbours: Neighbours,
    *,
    tolerances: Tolerances,
) -> list[Problem]:
    """Overlaps between the grids of one community, gaps inside it, and parts outside it."""
    problems: list[Problem] = []
    geoms = np.array([grid.geom for grid in grids], dtype=object)
    if len(geoms) == 0:
        problems.append(
            Problem(
                ProblemKind.GAP,
                Severity.ERROR,
                f"community {code} has no grid",
                geom=community,
                community_code=code,
                area_m2=area_m2(community),
            )
        )
        return problems
    is_coverage = bool(shapely.coverage_is_valid(geoms))
    if not is_coverage:
        problems.extend(overlaps_among(code, grids, tolerances=tolerances))
    union = shapely.coverage_union_all(geoms) if is_coverage else shapely.union_all(geoms)
    problems.extend(gap_problems(code, shapely.difference(community, union), tolerances))
    for grid in grids:
        problems.extend(outside_problems(code, community, grid, neighbours, tolerances))
    return problems


def gap_problems(code: str, uncovered: Any, tolerances: Tolerances) -> list[Problem]:
    """The gaps (or slivers) of community ``code``: the pieces of ``uncovered``."""
    return [
        problem
        for piece in polygonal_parts(uncovered)
        for problem in _piece(
            ProblemKind.GAP,
            piece,
            code,
            (),
            tolerances,
            f"a gap inside community {code} covered by no grid",
        )
    ]


def outside_problems(
    code: str, community: Any, grid: GridShape, neighbours: Neighbours, tolerances: Tolerances
) -> list[Problem]:
    """The parts of ``grid`` outside its community (named after the communities they reach)."""
    problems: list[Problem] = []
    for piece in polygonal_parts(shapely.difference(grid.geom, community)):
        reached = neighbours(piece, code) if area_m2(piece) >= tolerances.noise_m2 else []
        into = f" into {', '.join(reached)}" if reached else ""
        message = f"grid {grid.ref} reaches outside community {code}{into}"
        problems.extend(_piece(ProblemKind.OUTSIDE, piece, code, (grid.ref,), tolerances, message))
    return problems


def overlaps_among(
    code: str,
    grids: Sequence[GridShape],
    *,
    tolerances: Tolerances,
    involving: Iterable[str] | None = None,
) -> list[Problem]:
    """Overlaps between grids of community ``code`` (only pairs with a grid of ``involving``
    when given). A pair is named, and intersected, in the order of its refs, so that it reads
    the same whichever way it is found."""
    geoms = np.array([grid.geom for grid in grids], dtype=object)
    tree = shapely.STRtree(geoms)
    if involving is None:
        left, right = tree.query(geoms, predicate="intersects")
    else:
        wanted = set(involving)
        chosen = np.array([i for i, grid in enumerate(grids) if grid.ref in wanted], dtype=np.intp)
        found, right = tree.query(geoms[chosen], predicate="intersects")
        left = chosen[found]
    pairs = {
        (i, j) if grids[i].ref < grids[j].ref else (j, i)
        for i, j in zip(left.tolist(), right.tolist(), strict=True)
        if grids[i].ref != grids[j].ref
    }
    problems: list[Problem] = []
    for i, j in sorted(pairs):
        pieces = polygonal_parts(shapely.intersection(geoms[i], geoms[j]))
        if not pieces:
            continue
        overlap = shapely.union_all(pieces)
        size = area_m2(overlap)
        if size < tolerances.noise_m2:
            continue
        pair = (grids[i].ref, grids[j].ref)
        problems.append(
            Problem(
                ProblemKind.OVERLAP,
                Severity.ERROR,
                f"grids {pair[0]} and {pair[1]} overlap by {size:,.1f} m²",
                geom=overlap,
                community_code=code,
                grids=pair,
                area_m2=size,
            )
        )
    return problems


def _piece(
    kind: ProblemKind,
    piece: Any,
    code: str,
    refs: tuple[str, ...],
    tolerances: Tolerances,
    message: str,
) -> list[Problem]:
    size = area_m2(piece)
    if size < tolerances.noise_m2:
        return []
    if size < tolerances.sliver_m2:
        return [
            Problem(
                ProblemKind.SLIVER,
                Severity.WARNING,
                f"sliver ({kind}): {message}, {size:,.2f} m² (below the "
                f"{tolerances.sliver_m2:g} m² tolerance)",
                geom=piece,
                community_code=code,
                grids=refs,
                area_m2=size,
            )
        ]
    return [
        Problem(
            kind,
            Severity.ERROR,
            f"{message}, {size:,.1f} m²",
            geom=piece,
            community_code=code,
            grids=refs,
            area_m2=size,
        )
    ]


def _reached(piece: Any, communities: Mapping[str, Any | None], *, own: str) -> list[str]:
    return sorted(
        other
        for other, polygon in communities.items()
        if other != own
        and polygon is not None
        and shapely.intersects(polygon, piece)
        and area_m2(shapely.intersection(polygon, piece)) >= 0.01
    )
