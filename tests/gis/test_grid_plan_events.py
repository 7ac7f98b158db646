"""Publishing a plan gives the open events of the grids it retires (or whose polygon no longer
holds their place) to the grid live for their place: at once when it takes effect today, on its
effective date when that is later."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import shapely
from shapely.geometry import LineString, box, mapping
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.buildings.models import Building
from gis.clock import CHINA, today_in_china
from gis.events import import_queries
from gis.events import queries as event_queries
from gis.events import service as events
from gis.events.models import Event, EventKind, EventStatus
from gis.events.schemas import EventCreate
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
    points: dict[str, float] = dict(
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


def _later_plan(db: Session, tmp_path: Path) -> tuple[int, dict[str, int]]:
    """The six grids live since 2025, and a plan of the township drafted over them (its grid
    ids by code)."""
    path = grid_file(tmp_path / "grids.geojson", [NW, NE, SW, SE, EW, EE])
    import_grids(db, path=path, valid_from=date(2025, 1, 1), actor=ADMIN.actor)
    plan = create_plan(db, division_code=TOWNSHIP, scope=PLANNER)
    impact = plan_impact(db, plan_id=plan.id, scope=ADMIN, config=ClassConfig())
    return plan.id, {str(g.ref): g.id for g in impact.grids if g.ref}


def _officer(*codes: str) -> Scope:
    return Scope(user_name=f"o_{codes[0]}", role=Role.OFFICER, grid_codes=frozenset(codes))


def _listed(db: Session, scope: Scope, now: datetime) -> list[int]:
    return [e.id for e in events.list_events(db, scope=scope, now=now).items]


def _open(db: Session, code: str, now: datetime) -> int:
    counts = events.count_events(db, scope=_officer(code), now=now, grid=code, division=None)
    assert counts.open is not None
    return counts.open


def test_a_split_published_for_a_later_day_moves_the_events_on_that_day(
    db: Session, tmp_path: Path
) -> None:
    """With an effective date ahead, the events moved when the plan was published: the officers
    of the old grid (live until then) lost them, the new grids' officers saw them before the
    grids were theirs; and events reported in the old grid meanwhile stayed there for good,
    in a grid no officer had any more."""
    world = build_small_world(db)
    plan_id, ids = _later_plan(db, tmp_path)
    sw = f"{COMMUNITY_WEST}003"
    west, east = world.buildings[COMMUNITY_WEST][0], world.buildings[COMMUNITY_WEST][4]
    now = datetime.now(UTC)
    before = add_event(db, building_code=west, grid_code=sw, reported_at=now)
    closed = add_event(
        db, building_code=east, grid_code=sw, status=EventStatus.CLOSED, reported_at=now
    )
    total = event_queries.count_events(db, now=now, prefix=TOWNSHIP[:9])
    plan_edits.split_grid(
        db,
        plan_id=plan_id,
        grid_id=ids[sw],
        scope=PLANNER,
        line=dict(mapping(LineString([(113.805, 22.5999), (113.805, 22.6101)]))),
    )
    effective = today_in_china() + timedelta(days=5)
    result = publish_plan(
        db, plan_id=plan_id, effective=effective, scope=PLANNER, config=ClassConfig()
    )
    west_half, east_half = f"{COMMUNITY_WEST}005", f"{COMMUNITY_WEST}006"
    assert result.retired == [sw] and result.events_moved == 0
    # reported after the publish, before the effective date: the old grid is the live one
    between = events.report_event(
        db,
        scope=ADMIN,
        request=EventCreate(kind=EventKind.DISPUTE, title="漏水", building_code=east),
        now=now,
    )
    assert between.grid_code == sw

    # until the effective date the old grid's officers have the events, the new ones none
    assert _listed(db, _officer(sw), now) == [before.id, closed.id, between.id]
    assert _listed(db, _officer(west_half), now) == _listed(db, _officer(east_half), now) == []
    assert (_open(db, sw, now), _open(db, west_half, now), _open(db, east_half, now)) == (2, 0, 0)

    # from the effective date the new grids are live: every open event is in the one for its
    # place, the one reported meanwhile too; the closed one stays where it was handled
    then = datetime.combine(effective, time(8, 30), tzinfo=CHINA)
    assert _listed(db, _officer(west_half), then) == [before.id]
    assert _listed(db, _officer(east_half), then) == [between.id]
    assert _listed(db, _officer(sw), then) == [closed.id]
    assert (_open(db, sw, then), _open(db, west_half, then), _open(db, east_half, then)) == (
        0, 1, 1)  # fmt: skip
    assert db.scalar(select(Event.grid_code).where(Event.id == closed.id)) == sw
    after = event_queries.count_events(db, now=now, prefix=TOWNSHIP[:9])
    assert after["open"] == total["open"] + 1 and after["closed"] == total["closed"]
    # an event reported (or imported) on the day itself goes to the new grid
    on_the_day = events.report_event(
        db,
        scope=ADMIN,  # an officer's buildings are those of the database's today
        request=EventCreate(kind=EventKind.OTHER, title="占道", building_code=west),
        now=then,
    )
    assert on_the_day.grid_code == west_half
    point = _point(db, west)
    found = import_queries.select_grids_at(
        db,
        points=[(float(shapely.get_x(point)), float(shapely.get_y(point)), today_in_china())],
        today=effective,
    )
    assert found == {0: (west_half, COMMUNITY_WEST)}


def test_a_boundary_moved_on_a_later_day_takes_the_events_of_the_place_it_gives_away(
    db: Session, tmp_path: Path
) -> None:
    """A grid that keeps its code but no longer holds an event's place gives the open event to
    the grid that now does, on the effective date; its other events stay."""
    world = build_small_world(db)
    plan_id, ids = _later_plan(db, tmp_path)
    nw, ne = f"{COMMUNITY_WEST}001", f"{COMMUNITY_WEST}002"
    given, kept = world.buildings[COMMUNITY_WEST][10], world.buildings[COMMUNITY_WEST][14]
    now = datetime.now(UTC)
    moving = add_event(db, building_code=given, grid_code=ne, reported_at=now)
    staying = add_event(db, building_code=kept, grid_code=ne, reported_at=now)
    plan_edits.edit_grid(
        db,
        plan_id=plan_id,
        grid_id=ids[nw],
        scope=PLANNER,
        geometry=dict(mapping(box(113.80, 22.61, 113.815, 22.62))),
    )
    effective = today_in_china() + timedelta(days=3)
    result = publish_plan(
        db, plan_id=plan_id, effective=effective, scope=PLANNER, config=ClassConfig()
    )
    assert result.changed == [nw, ne] and result.retired == []
    assert _listed(db, _officer(ne), now) == [moving.id, staying.id]
    assert _listed(db, _officer(nw), now) == []
    then = datetime.combine(effective, time(0, 5), tzinfo=CHINA)
    assert _listed(db, _officer(ne), then) == [staying.id]
    assert _listed(db, _officer(nw), then) == [moving.id]


def _point(db: Session, code: str) -> shapely.Geometry:
    wkb = db.scalar(
        select(func.ST_AsBinary(func.ST_PointOnSurface(Building.geom))).where(Building.code == code)
    )
    assert wkb is not None
    return shapely.from_wkb(bytes(wkb))
