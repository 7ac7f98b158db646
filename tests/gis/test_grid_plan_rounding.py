"""Plan edits sent rounded, as a map page sends them (Leaflet's ``toGeoJSON`` keeps 6 decimals):
a grid's own outline sent back changes nothing, and taking part of a neighbour leaves it whole."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon, box, mapping
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.grids import plan_edits, plan_queries
from gis.grids.classes import ClassConfig
from gis.grids.edit_snapping import without_crumbs
from gis.grids.impact import plan_impact
from gis.grids.importing import import_grids
from gis.grids.plans import create_plan
from gis.users.models import Role
from tests.grids_world import COMMUNITY_WEST, build_small_world, grid_file

ADMIN = Scope.system("cli:test")
PLANNER = Scope(user_name="planner", role=Role.PLANNER)
# the west community in four grids whose inner boundaries wander (full-precision vertices)
CENTRE = (113.8101234567891, 22.6098765432109)
WEST_EDGE = (113.80, 22.6101357913579)
EAST_EDGE = (113.82, 22.6097531086421)
SOUTH_EDGE = (113.8098642097531, 22.60)
NORTH_EDGE = (113.8102468024691, 22.62)
NW = Polygon([WEST_EDGE, CENTRE, NORTH_EDGE, (113.80, 22.62)])
NE = Polygon([CENTRE, EAST_EDGE, (113.82, 22.62), NORTH_EDGE])
SW = Polygon([(113.80, 22.60), SOUTH_EDGE, CENTRE, WEST_EDGE])
SE = Polygon([SOUTH_EDGE, (113.82, 22.60), EAST_EDGE, CENTRE])
EAST = [box(113.82, 22.60, 113.84, 22.62)]


def _rounded(geom: Any, decimals: int = 6) -> dict[str, Any]:
    """The polygon as Leaflet's ``toGeoJSON()`` sends it."""
    return dict(mapping(shapely.transform(geom, lambda xy: np.round(xy, decimals))))


def _plan_grids(db: Session, plan_id: int) -> dict[int, Any]:
    return {
        row.id: shapely.from_wkb(row.wkb)
        for row in plan_queries.select_plan_grids(db, plan_id=plan_id)
    }


def _world(db: Session, tmp_path: Path) -> tuple[int, dict[str, int]]:
    build_small_world(db)
    path = grid_file(tmp_path / "grids.geojson", [NW, NE, SW, SE, *EAST])
    import_grids(db, path=path, valid_from=date(2025, 1, 1), actor=ADMIN.actor)
    plan = create_plan(db, division_code=COMMUNITY_WEST, scope=PLANNER)
    impact = plan_impact(db, plan_id=plan.id, scope=ADMIN, config=ClassConfig())
    assert impact.errors == 0, impact.problems
    return plan.id, {grid.ref: grid.id for grid in impact.grids}


def test_a_grid_sent_back_rounded_changes_nothing(db: Session, tmp_path: Path) -> None:
    """Its outline at 6 decimals reached outside the community and cut slivers off every
    neighbour (13 grids changed in the demo)."""
    plan_id, ids = _world(db, tmp_path)
    before = _plan_grids(db, plan_id)
    nw = ids[f"{COMMUNITY_WEST}001"]
    touched = plan_edits.edit_grid(
        db, plan_id=plan_id, grid_id=nw, geometry=_rounded(before[nw]), scope=PLANNER
    )
    assert touched == [nw]
    after = _plan_grids(db, plan_id)
    assert all(shapely.equals(after[i], before[i]) for i in before)
    impact = plan_impact(db, plan_id=plan_id, scope=ADMIN, config=ClassConfig())
    assert impact.errors == 0 and impact.warnings == 0, impact.problems
    assert impact.diff.changed == []


def test_taking_part_of_a_neighbour_sent_rounded_leaves_it_whole(
    db: Session, tmp_path: Path
) -> None:
    """NW takes NE's northern half: NE was left in its half and crumbs along the rounded
    boundary (several parts, an error)."""
    plan_id, ids = _world(db, tmp_path)
    nw, ne = ids[f"{COMMUNITY_WEST}001"], ids[f"{COMMUNITY_WEST}002"]
    share = (22.615 - CENTRE[1]) / (NORTH_EDGE[1] - CENTRE[1])  # the point drawn at 22.615 N
    drawn = (CENTRE[0] + share * (NORTH_EDGE[0] - CENTRE[0]), 22.615)
    wider = Polygon([WEST_EDGE, CENTRE, drawn, (113.82, 22.615), (113.82, 22.62), NORTH_EDGE,
                     (113.80, 22.62)])  # fmt: skip
    plan_edits.edit_grid(db, plan_id=plan_id, grid_id=nw, geometry=_rounded(wider), scope=PLANNER)
    after = _plan_grids(db, plan_id)
    assert len(shapely.get_parts(after[ne])) == 1
    assert abs(shapely.area(after[nw]) - shapely.area(wider)) < 1e-9
    impact = plan_impact(db, plan_id=plan_id, scope=ADMIN, config=ClassConfig())
    assert impact.errors == 0, impact.problems


def test_crumbs_of_a_neighbour_go_to_the_grid_drawn() -> None:
    """A part under 1 m² beside the grid drawn is a crumb of its rounding; a part away from it
    (or a neighbour that is all small) stays."""
    drawn = box(113.81, 22.61, 113.82, 22.62)
    body = box(113.82, 22.61, 113.83, 22.62)
    crumb = box(113.81 - 5e-6, 22.615, 113.81, 22.615 + 5e-6)  # ~0.3 m², against the grid drawn
    away = box(113.835, 22.615, 113.835 + 5e-6, 22.615 + 5e-6)
    kept, crumbs = without_crumbs(shapely.union_all([body, crumb, away]), drawn)
    assert [shapely.equals(c, crumb) for c in crumbs] == [True]
    assert shapely.equals(kept, shapely.union(body, away))
    assert without_crumbs(shapely.union(crumb, away), drawn)[1] == []
