"""A draft plan's cached topology problems, kept current by each edit near what it changed.

``grid_plans.problems`` holds, per community, every problem of the hard rules (as GeoJSON
features, in :func:`feature_order`). A plan is checked whole when it is drafted; an edit then
re-checks only what it can have changed, from the polygons before and after of the grids it
changed, added or removed (:class:`EditArea`):

- a grid's own problems (not a valid single polygon, parts outside its community) and the
  overlaps of a pair of grids depend on those grids only: the ones naming an edited grid are
  checked again, the others kept;
- a building's problem (in no grid, in several) depends on the grids covering its point: the
  buildings whose point lies in an edited polygon (before or after) are checked again;
- gaps are checked again inside a window around the edit (its bounding box and
  :data:`WINDOW_MARGIN_DEG` around): a gap the window holds whole is a whole gap, and it
  replaces the gaps stored inside the window. An uncovered piece at the window's edge belongs
  to a gap reaching beyond it, which is as stored unless the edit reaches it; so the community
  is checked whole when such a piece touches an edited polygon, or when a gap is stored inside
  the window (it may be that gap) or on its edge, or when the community has no grid there.

So the cache says what a whole check says (``tests/gis/test_grid_plan_problems.py`` holds them
equal on real footprints); publishing checks the whole plan again regardless.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from sqlalchemy.orm import Session

from gis.access.scope import division_prefix
from gis.grids import area_queries, plan_queries, snapshot_queries, validation
from gis.grids.models import GridPlan
from gis.grids.schemas import GridShape, Problem, ProblemKind, Tolerances
from gis.grids.topology import (
    check_shapes,
    gap_problems,
    outside_problems,
    overlaps_among,
    polygonal_parts,
)
from gis.grids.validation import check_buildings, neighbours_in, validate_shapes

MIN_REACH_M2 = 1.0
"""A grid reaching into a community outside its plan's division by this much or more leaves
that community without a grid of the plan (an error); less is noise of the outlines (the demo's
suggested grids reach 0.011 m² into their neighbours) or a sliver of the grid's own community."""
WINDOW_MARGIN_DEG = 0.0003
"""About 30 m around an edit: gaps held whole inside are checked there, not in the community."""
EDGE_DEG = 1e-6
"""A gap this close to the window's edge (0.1 m, more than a stored location's rounding) sends
the community to a whole check."""
_GAP_KINDS = (str(ProblemKind.GAP), str(ProblemKind.SLIVER))


@dataclass(frozen=True)
class EditArea:
    """What an edit changed: the polygons (EPSG:4490), before and after, of the grids it changed,
    added or removed; their refs (code, or ``#id``); and their communities."""

    polygons: tuple[Any, ...]
    refs: frozenset[str]
    communities: frozenset[str] = field(default_factory=frozenset)


def feature_order(feature: dict[str, Any]) -> tuple[Any, ...]:
    """Errors first, then by kind, grids, building and place: the order problems are stored in
    whichever way they were found."""
    props = feature["properties"]
    return (
        props["severity"] != "error",
        props["kind"],
        props["grids"],
        props["building_code"] or "",
        props["location"],
        props["message"],
    )


def refresh_problems(
    session: Session,
    plan: GridPlan,
    *,
    communities: Iterable[str],
    edited: EditArea | None = None,
    tolerances: Tolerances | None = None,
) -> None:
    """Recompute the problems of ``communities`` (whole, or near ``edited``) into
    ``plan.problems`` (the caller flushes)."""
    tolerances = tolerances or Tolerances()
    wanted = set(communities) | (edited.communities if edited is not None else set())
    if not wanted:
        return
    problems: dict[str, list[dict[str, Any]]] = dict(plan.problems or {})
    wanted -= _not_reached(session, plan, wanted, problems)
    whole = sorted(wanted)
    if edited is not None and edited.polygons:
        near = _Near.load(session, plan, edited, sorted(wanted))
        whole = []
        for code in sorted(wanted):
            local = near.problems_of(session, code, problems.get(code, []), tolerances)
            if local is None:
                whole.append(code)
            else:
                problems[code] = local
    if whole:
        report = _whole_report(session, plan, whole, tolerances)
        for code in whole:
            problems[code] = [p.feature() for p in report if p.community_code == code]
    plan.problems = {
        code: sorted(features, key=feature_order)
        for code, features in sorted(problems.items())
        if features
    }


def communities_reached(session: Session, plan: GridPlan) -> set[str]:
    """The communities outside the plan's division its grids reach into by
    :data:`MIN_REACH_M2` or more: they are checked with the plan's (and have no grid of it)."""
    return area_queries.select_communities_reached_by_plan(
        session,
        plan_id=plan.id,
        prefix=division_prefix(plan.division_code),
        min_area_m2=MIN_REACH_M2,
    )


def _not_reached(
    session: Session, plan: GridPlan, wanted: set[str], problems: dict[str, list[Any]]
) -> set[str]:
    """The communities of ``wanted`` outside the plan's division that no grid of it reaches
    into (any more): not checked, and their problems dropped."""
    prefix = division_prefix(plan.division_code)
    outside = {code for code in wanted if not code.startswith(prefix)}
    if not outside:
        return set()
    gone = outside - communities_reached(session, plan)
    for code in gone:
        problems.pop(code, None)
    return gone


def _whole_report(
    session: Session, plan: GridPlan, communities: list[str], tolerances: Tolerances
) -> list[Problem]:
    """Every problem of the communities, checked whole."""
    shapes, polygons = _shapes_near(session, plan, communities)
    outlines = [polygon for polygon in polygons.values() if polygon is not None]
    snap = (
        snapshot_queries.select_snapshot_points(
            session,
            plan_id=plan.id,
            communities=communities,
            bounds=tuple(shapely.total_bounds(np.array(outlines, dtype=object)).tolist()),
        )
        if outlines
        else []  # a snapshot holds only buildings inside a community's polygon
    )
    report = validate_shapes(
        session,
        grids=shapes,
        communities=communities,
        polygons=polygons,
        points=_points(snap),
        tolerances=tolerances,
    )
    return report.problems


def _shapes_near(
    session: Session, plan: GridPlan, communities: list[str]
) -> tuple[list[GridShape], dict[str, Any]]:
    """The plan's grids of these communities and any other plan grid meeting them; and the
    communities' polygons."""
    rows = {
        row.id: row
        for row in plan_queries.select_plan_grids(session, plan_id=plan.id, communities=communities)
    }
    polygons = validation.community_polygons(session, codes=communities)
    outlines = [polygon for polygon in polygons.values() if polygon is not None]
    if outlines:
        area = shapely.envelope(shapely.union_all(np.array(outlines, dtype=object)))
        for row in plan_queries.select_plan_grids(
            session, plan_id=plan.id, meeting_wkb=shapely.to_wkb(area)
        ):
            rows.setdefault(row.id, row)
    return [shape_of(row) for row in rows.values()], polygons


def shape_of(row: plan_queries.PlanGridRow) -> GridShape:
    """A plan grid as a topology input (ref: its code, or ``#id`` for a new grid)."""
    geom = shapely.from_wkb(row.wkb)
    parts = shapely.get_parts(geom)
    ref = row.code if row.code is not None else f"#{row.id}"
    return GridShape(ref, row.community_code, parts[0] if len(parts) == 1 else geom)


def _points(snap: list[tuple[str, float, float, str]]) -> area_queries.BuildingPoints:
    return area_queries.BuildingPoints(
        codes=[r[0] for r in snap],
        xs=[r[1] for r in snap],
        ys=[r[2] for r in snap],
        communities=[r[3] for r in snap],
    )


@dataclass
class _Near:
    """What an edit's neighbourhood holds: the window, the plan's grids meeting it, the
    communities' polygons and the buildings whose point lies in an edited polygon."""

    edited: EditArea
    window: tuple[float, float, float, float]
    shapes: list[GridShape]
    polygons: dict[str, Any]
    points: area_queries.BuildingPoints
    building_problems: list[Problem]
    edit_tree: shapely.STRtree
    rechecked_buildings: set[str]

    @classmethod
    def load(
        cls, session: Session, plan: GridPlan, edited: EditArea, communities: list[str]
    ) -> _Near:
        polygons = np.array(edited.polygons, dtype=object)
        min_x, min_y, max_x, max_y = shapely.total_bounds(polygons).tolist()
        margin = WINDOW_MARGIN_DEG
        window = (min_x - margin, min_y - margin, max_x + margin, max_y + margin)
        rows = plan_queries.select_plan_grids(
            session, plan_id=plan.id, meeting_wkb=shapely.to_wkb(shapely.box(*window))
        )
        shapes = [shape_of(row) for row in rows]
        snap = snapshot_queries.select_snapshot_points(
            session, plan_id=plan.id, communities=communities, bounds=(min_x, min_y, max_x, max_y)
        )
        if snap:  # only the points in an edited polygon (on its edge included)
            spots = shapely.points(np.array([(r[1], r[2]) for r in snap], dtype=np.float64))
            hit, _ = shapely.STRtree(polygons).query(spots, predicate="intersects")
            snap = [snap[i] for i in sorted(set(hit.tolist()))]
        points = _points(snap)
        found = check_buildings(session, grids=shapes, communities=communities, points=points)
        return cls(
            edited=edited,
            window=window,
            shapes=shapes,
            polygons=validation.community_polygons(session, codes=communities),
            points=points,
            building_problems=found,
            edit_tree=shapely.STRtree(polygons),
            rechecked_buildings=set(points.codes),
        )

    def problems_of(
        self,
        session: Session,
        code: str,
        stored: list[dict[str, Any]],
        tolerances: Tolerances,
    ) -> list[dict[str, Any]] | None:
        """Community ``code``'s problems after the edit, or None when it must be checked whole."""
        community = self.polygons.get(code)
        members = [shape for shape in self.shapes if shape.community_code == code]
        if community is None or not members:
            return None
        gaps_stored = [f for f in stored if _is_gap(f)]
        if any(_no_grid(f) or self._on_edge(f) for f in gaps_stored):
            return None
        refs = self.edited.refs
        shaped = check_shapes([m for m in members if m.ref in refs], tolerances=tolerances)
        # the other grids are as their stored problems say; an invalid grid is left out of the
        # overlap and gap checks, as a whole check leaves it out
        broken = {p.grids[0] for p in shaped if p.kind is ProblemKind.INVALID} | {
            f["properties"]["grids"][0]
            for f in stored
            if f["properties"]["kind"] == str(ProblemKind.INVALID)
            and f["properties"]["grids"]
            and f["properties"]["grids"][0] not in refs
        }
        valid = [shape for shape in members if shape.ref not in broken]
        gaps = self._gaps(
            code, community, valid, tolerances, any(self._inside(f) for f in gaps_stored)
        )
        if gaps is None:
            return None
        fresh = list(shaped)
        if any(shape.ref in refs for shape in valid):
            fresh += overlaps_among(code, valid, tolerances=tolerances, involving=refs)
        name = neighbours_in(session)
        for shape in valid:
            if shape.ref in refs:
                fresh += outside_problems(code, community, shape, name, tolerances)
        fresh += gaps
        fresh += [p for p in self.building_problems if p.community_code == code]
        return [f for f in stored if not self._rechecked(f)] + [p.feature() for p in fresh]

    def _rechecked(self, feature: dict[str, Any]) -> bool:
        """Whether a stored problem was checked again (and is replaced by what was found)."""
        props = feature["properties"]
        if props["building_code"]:
            return props["building_code"] in self.rechecked_buildings
        if _is_gap(feature):
            return self._inside(feature)
        return bool(self.edited.refs.intersection(props["grids"]))

    def _gaps(
        self,
        code: str,
        community: Any,
        valid: list[GridShape],
        tolerances: Tolerances,
        stored_inside: bool,
    ) -> list[Problem] | None:
        """The gaps of the community held whole inside the window, or None when the community
        must be checked whole: a piece at the window's edge may belong to a gap beyond it,
        which the edit changed if it reaches that piece, and which may be a gap stored inside
        the window (``stored_inside``: one is). Otherwise a gap across the edge is as it was
        (stored, outside the window)."""
        box = shapely.box(*self.window)
        covered = shapely.union_all(np.array([shape.geom for shape in valid], dtype=object))
        uncovered = shapely.difference(shapely.intersection(community, box), covered)
        min_x, min_y, max_x, max_y = self.window
        whole = []
        for piece in polygonal_parts(uncovered):
            x0, y0, x1, y1 = shapely.bounds(piece).tolist()
            if (
                x0 > min_x + EDGE_DEG
                and y0 > min_y + EDGE_DEG
                and x1 < max_x - EDGE_DEG
                and y1 < max_y - EDGE_DEG
            ):
                whole.append(piece)
            elif stored_inside or self.edit_tree.query(piece, "dwithin", EDGE_DEG).size:
                return None
        return [problem for piece in whole for problem in gap_problems(code, piece, tolerances)]

    def _inside(self, feature: dict[str, Any]) -> bool:
        x, y = _location(feature)
        min_x, min_y, max_x, max_y = self.window
        return min_x < x < max_x and min_y < y < max_y

    def _on_edge(self, feature: dict[str, Any]) -> bool:
        """A stored location this close to the window's edge may belong to a gap across it."""
        x, y = _location(feature)
        if not (np.isfinite(x) and np.isfinite(y)):
            return True
        min_x, min_y, max_x, max_y = self.window
        e = 2 * EDGE_DEG
        inner = min_x + e < x < max_x - e and min_y + e < y < max_y - e
        outer = min_x - e < x < max_x + e and min_y - e < y < max_y + e
        return outer and not inner


def _is_gap(feature: dict[str, Any]) -> bool:
    props = feature["properties"]
    return props["kind"] in _GAP_KINDS and not props["grids"] and not props["building_code"]


def _no_grid(feature: dict[str, Any]) -> bool:
    return str(feature["properties"]["message"]).endswith("has no grid")


def _location(feature: dict[str, Any]) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in str(feature["properties"]["location"]).split(","))
    except ValueError:
        return float("nan"), float("nan")
    return x, y
