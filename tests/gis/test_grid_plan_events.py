"""Publishing a plan gives the open events of the grids it retires to the new grids."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import shapely
from shapely.geometry import LineString, mapping
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.buildings.models import Building
from gis.clock import today_in_china
from gis.events import queries as event_queries
from gis.events.models import Event, EventStatus
from gis.grids import plan_edits
from gis.grids.classes import ClassConfig
from gis.grids.impact import plan_impact
from gis.grids.importing import import_grids
from gis.grids.plans import create_plan
from gis.grids.publishing import publish_plan
from gis.users.models import Role
from tests.events_world import add_event
from tests.grids_world import COMMUNITY_WEST, EE, EW, NE, NW, SE, SW, build_small_world, grid_file

ADMIN = Scope.system("cli:test")
PLANNER = Scope(user_name="planner", role=Role.PLANNER)
TOWNSHIP = "970101001000"


def test_a_split_gives_the_open_events_to_the_new_grids(db: Session, tmp_path: Path) -> None:
    """Events kept the grid they were reported in: after a split the new grids showed none and
    their officers could not take them (the retired grid had no officer any more)."""
    world = build_small_world(db)
    path = grid_file(tmp_path / "grids.geojson", [NW, NE, SW, SE, EW, EE])
    import_grids(db, path=path, valid_from=date(2025, 1, 1), actor=ADMIN.actor)
    sw = f"{COMMUNITY_WEST}003"
    points = dict(
        db.execute(
            select(Building.code, func.ST_X(func.ST_PointOnSurface(Building.geom))).where(
                Building.code.in_(world.buildings[COMMUNITY_WEST])
            )
        ).all()
    )
    in_sw = [c for c in world.buildings[COMMUNITY_WEST] if shapely.contains(SW, _point(db, c))]
    west = next(c for c in in_sw if points[c] < 113.805)
    east = next(c for c in in_sw if points[c] > 113.805)
    now = datetime.now(UTC)
    events = {
        "west": add_event(db, building_code=west, grid_code=sw, reported_at=now),
        "east": add_event(db, building_code=east, grid_code=sw, reported_at=now),
        "closed": add_event(
            db, building_code=east, grid_code=sw, status=EventStatus.CLOSED, reported_at=now
        ),
    }
    before = event_queries.count_events(db, now=now, prefix=TOWNSHIP[:9])

    plan = create_plan(db, division_code=TOWNSHIP, scope=PLANNER)
    impact = plan_impact(db, plan_id=plan.id, scope=ADMIN, config=ClassConfig())
    plan_edits.split_grid(
        db,
        plan_id=plan.id,
        grid_id=next(g.id for g in impact.grids if g.ref == sw),
        scope=PLANNER,
        line=dict(mapping(LineString([(113.805, 22.5999), (113.805, 22.6101)]))),
    )
    result = publish_plan(
        db, plan_id=plan.id, effective=today_in_china(), scope=PLANNER, config=ClassConfig()
    )
    west_half, east_half = f"{COMMUNITY_WEST}005", f"{COMMUNITY_WEST}006"
    assert result.retired == [sw] and sorted(result.added) == [west_half, east_half]

    def grid_of(key: str) -> str | None:
        return db.scalar(select(Event.grid_code).where(Event.id == events[key].id))

    assert (grid_of("west"), grid_of("east")) == (west_half, east_half)
    assert grid_of("closed") == sw  # handled in the old grid: its history stays there
    assert result.events_moved == 2
    for code, open_events in ((west_half, 1), (east_half, 1), (sw, 0)):
        assert event_queries.count_events(db, now=now, grid_code=code)["open"] == open_events
    assert event_queries.count_events(db, now=now, prefix=TOWNSHIP[:9]) == before


def _point(db: Session, code: str) -> shapely.Geometry:
    wkb = db.scalar(
        select(func.ST_AsBinary(func.ST_PointOnSurface(Building.geom))).where(Building.code == code)
    )
    return shapely.from_wkb(bytes(wkb))
