"""Checking a set of grids against every hard rule, the building rule included.

The geometric rules run in shapely (``gis.grids.topology``); the building rule fetches the points
on surface of the live buildings of the communities checked and counts, for each, the grids that
cover it (an STRtree query): 0 or several is a hard error located at the building.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import numpy as np
import shapely
from sqlalchemy.orm import Session

from gis.grids import area_queries, queries
from gis.grids.schemas import (
    GridShape,
    Problem,
    ProblemKind,
    Severity,
    Tolerances,
    TopologyReport,
)
from gis.grids.topology import check_grids


def community_polygons(session: Session, *, codes: Sequence[str]) -> dict[str, Any]:
    """Shapely polygons of the communities (None without a boundary)."""
    return {
        code: None if wkb is None else shapely.from_wkb(wkb)
        for code, wkb in area_queries.select_community_polygons(session, codes=list(codes)).items()
    }


def neighbours_in(session: Session) -> Callable[[Any, str], list[str]]:
    """Names the communities a piece outside its own lies in (where its inner point is)."""

    def name(piece: Any, own: str) -> list[str]:
        point = shapely.point_on_surface(piece)
        found = area_queries.select_communities_at(session, x=float(point.x), y=float(point.y))
        return [code for code in found if code != own]

    return name


def check_buildings(
    session: Session,
    *,
    grids: Sequence[GridShape],
    communities: Sequence[str],
    points: area_queries.BuildingPoints | None = None,
) -> list[Problem]:
    """Every live building whose point on surface lies in ``communities`` must lie in exactly
    one of ``grids`` (``points``: the buildings, when the caller has them)."""
    found = (
        points
        if points is not None
        else area_queries.select_building_points(session, communities=communities)
    )
    codes = found.codes
    if not codes:
        return []
    spots = np.asarray(shapely.points(np.column_stack([found.xs, found.ys])), dtype=object)
    valid = [g for g in grids if g.geom is not None and shapely.is_valid(g.geom)]
    counts = np.zeros(len(spots), dtype=np.int64)
    owners: dict[int, list[str]] = {}
    if valid:
        tree = shapely.STRtree(np.array([g.geom for g in valid], dtype=object))
        point_index, grid_index = tree.query(spots, predicate="covered_by")
        counts = np.bincount(point_index, minlength=len(spots))
        for p, g in zip(point_index.tolist(), grid_index.tolist(), strict=True):
            owners.setdefault(p, []).append(valid[g].ref)
    problems = []
    gridded = {g.community_code for g in grids}
    gridless: dict[str, list[int]] = {}
    for index in np.flatnonzero(counts != 1).tolist():
        code = codes[index]
        refs: tuple[str, ...] = ()
        if counts[index] == 0 and found.communities[index] not in gridded:
            gridless.setdefault(found.communities[index], []).append(index)
            continue
        if counts[index] == 0:
            kind, message = ProblemKind.UNASSIGNED, f"building {code} lies in no grid"
        else:
            refs = tuple(sorted(owners[index]))
            kind = ProblemKind.MULTIPLE
            message = f"building {code} lies in {len(refs)} grids ({', '.join(refs)})"
        problems.append(
            Problem(
                kind,
                Severity.ERROR,
                message,
                geom=spots[index],
                grids=refs,
                building_code=code,
                community_code=found.communities[index],
            )
        )
    problems.extend(_gridless_problems(gridless, codes=codes, spots=spots))
    return problems


def _gridless_problems(
    gridless: dict[str, list[int]], *, codes: Sequence[str], spots: Any
) -> list[Problem]:
    """One problem per community without any grid, counting its buildings: listing each would
    add nothing to the community's own "has no grid" gap, and a district drafted before its
    first grid would list every building (680,000 problems, over PostgreSQL's jsonb limit, for
    one township of the benchmark city). Located at its building with the smallest code."""
    problems = []
    for community, indexes in sorted(gridless.items()):
        first = min(indexes, key=lambda index: codes[index])
        count = len(indexes)
        noun = "building" if count == 1 else "buildings"
        problems.append(
            Problem(
                ProblemKind.UNASSIGNED,
                Severity.ERROR,
                f"{count:,} {noun} of community {community} lie in no grid: it has none",
                geom=spots[first],
                community_code=community,
            )
        )
    return problems


def validate_shapes(
    session: Session,
    *,
    grids: Sequence[GridShape],
    communities: Sequence[str],
    tolerances: Tolerances | None = None,
    require_grids: bool = True,
    polygons: dict[str, Any] | None = None,
    points: area_queries.BuildingPoints | None = None,
) -> TopologyReport:
    """All hard rules for ``grids`` within ``communities`` (communities without any grid are
    gaps when ``require_grids``, else left out). ``polygons``: the communities' polygons when
    the caller has them already."""
    wanted = set(communities) if require_grids else {g.community_code for g in grids}
    wanted &= set(communities)
    named = sorted(wanted | {g.community_code for g in grids})
    known = dict(polygons or {})
    missing = [code for code in named if code not in known]
    if missing:
        known.update(community_polygons(session, codes=missing))
    report = check_grids(
        grids,
        communities=known,
        tolerances=tolerances,
        only_communities=sorted(wanted),
        neighbours=neighbours_in(session),
    )
    report.problems.extend(
        check_buildings(session, grids=grids, communities=sorted(wanted), points=points)
    )
    return report


def validate_live(
    session: Session, *, prefix: str, on: date, tolerances: Tolerances | None = None
) -> TopologyReport:
    """The hard rules for the grid versions valid on ``on`` under a division prefix. A
    community without any grid is no gap (it may have no grids yet), but its live buildings lie
    in no grid: one problem counting them."""
    rows = queries.select_grid_rows(session, on=on, prefix=prefix)
    grids = [GridShape(row.code, row.community_code, shapely.from_wkb(row.wkb)) for row in rows]
    communities = sorted({row.community_code for row in rows})
    points = area_queries.select_building_points(session, communities=communities)
    report = validate_shapes(
        session, grids=grids, communities=communities, tolerances=tolerances,
        require_grids=False, points=points,
    )  # fmt: skip
    gridless = sorted(
        set(area_queries.select_building_communities(session, prefix=prefix)) - set(communities)
    )
    if gridless:  # their buildings, less those a gridded community's polygon holds
        found = area_queries.select_building_points(session, communities=gridless)
        rest = found.without(set(points.codes))
        report.problems.extend(
            check_buildings(session, grids=[], communities=gridless, points=rest)
        )
    return report
