"""Events: every lifecycle rule, deadlines and overdue lists, photos, scope, grid indicators."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.errors import Conflict, Forbidden, InvalidInput, NotFound
from gis.events import service
from gis.events.lifecycle import DEADLINES, TRANSITIONS
from gis.events.models import Event, EventKind, EventSource, EventStatus
from gis.events.photos import MAX_PHOTO_BYTES
from gis.events.schemas import EventCreate, EventStepRequest
from gis.grids.indicators import measure_live_grids
from gis.grids.models import Grid
from gis.people.crypto import PeopleCipher
from gis.people.periods import CHINA
from gis.users.models import Role, User
from tests.access_world import BOX_A, GRID_OWN, World, build_world
from tests.people_world import add_people_world

OFFICER = Scope(user_name="t_officer", role=Role.OFFICER, grid_codes=frozenset({GRID_OWN}))
POLICE_FAR = Scope(user_name="p", role=Role.POLICE, division_prefix="990102")
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
S = EventStatus
# a tiny valid PNG (1x1) and the JPEG markers around a body
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture
def world(db: Session, cipher: PeopleCipher) -> World:
    """The access-control world with its people (no grid plans: these tests need none)."""
    return add_people_world(db, build_world(db), cipher)


def _report(
    db: Session, world: World, kind: EventKind = EventKind.DISPUTE, now: datetime = NOW
) -> Event:
    request = EventCreate(kind=kind, title="噪音纠纷", lon=113.905, lat=22.505, crs="EPSG:4490")
    return service.report_event(db, scope=OFFICER, request=request, now=now)


def _step(db: Session, event_id: int, status: S, **extra: str) -> None:
    request = EventStepRequest(status=status, **extra)
    service.step_event(db, scope=OFFICER, event_id=event_id, request=request, now=NOW)


def test_an_event_goes_through_every_step_with_who_when_and_note(db: Session, world: World) -> None:
    event = _report(db, world)
    assert (event.status, event.grid_code) == (S.REPORTED, GRID_OWN)
    _step(db, event.id, S.ACCEPTED)
    _step(db, event.id, S.DISPATCHED, assignee="t_officer")
    _step(db, event.id, S.HANDLED, note="调解完成")
    _step(db, event.id, S.CHECKED, note="现场核查无噪音")
    _step(db, event.id, S.CLOSED, note="结案")
    read = service.get_event(db, scope=OFFICER, event_id=event.id, now=NOW)
    assert read.status is S.CLOSED and read.closed_at is not None and read.next_statuses == []
    assert [(s.from_status, s.to_status) for s in read.steps] == [
        (None, S.REPORTED), (S.REPORTED, S.ACCEPTED), (S.ACCEPTED, S.DISPATCHED),
        (S.DISPATCHED, S.HANDLED), (S.HANDLED, S.CHECKED), (S.CHECKED, S.CLOSED),
    ]  # fmt: skip
    assert {s.actor for s in read.steps} == {"t_officer"}
    assert read.steps[3].note == "调解完成" and read.assignee == "t_officer"


def test_an_event_is_dispatched_to_someone_who_may_take_it(db: Session, world: World) -> None:
    """An officer of other grids could not even open the event: dispatching it to them was
    accepted all the same."""
    db.add(User(name="t_officer_far", role=Role.OFFICER, grid_codes=["990102001001001"],
                password_hash="x"))  # fmt: skip
    db.flush()
    event = _report(db, world)
    _step(db, event.id, S.ACCEPTED)
    for name, reason in (
        ("t_officer_far", f"officer 't_officer_far' has not grid {GRID_OWN}"),
        (world.users[Role.POLICE], "is not an enabled officer or admin account"),
        ("nobody", "is not an enabled officer or admin account"),
    ):
        with pytest.raises(InvalidInput, match=reason) as refused:
            _step(db, event.id, S.DISPATCHED, assignee=name)
        assert refused.value.field == "assignee"
    _step(db, event.id, S.DISPATCHED, assignee=world.users[Role.ADMIN])  # an admin may


def test_closing_an_event_never_checked_is_refused_with_a_clear_message(
    db: Session, world: World
) -> None:
    event = _report(db, world)
    _step(db, event.id, S.ACCEPTED)
    _step(db, event.id, S.DISPATCHED, department="街道消防站")
    _step(db, event.id, S.HANDLED, note="已处理")
    with pytest.raises(Conflict) as refused:
        _step(db, event.id, S.CLOSED, note="结案")
    assert str(refused.value) == (
        f"status: event {event.id} is handled and cannot be closed: only a checked event can "
        "be closed (next steps from handled: checked, dispatched)"
    )


@pytest.mark.parametrize("current", list(S))
def test_every_step_outside_the_table_is_refused(
    db: Session, world: World, current: EventStatus
) -> None:
    """Walk an event to ``current`` along the table, then try every status it may not reach."""
    path = {
        S.REPORTED: [], S.ACCEPTED: [S.ACCEPTED], S.REJECTED: [S.REJECTED],
        S.DISPATCHED: [S.ACCEPTED, S.DISPATCHED],
        S.HANDLED: [S.ACCEPTED, S.DISPATCHED, S.HANDLED],
        S.CHECKED: [S.ACCEPTED, S.DISPATCHED, S.HANDLED, S.CHECKED],
        S.CLOSED: [S.ACCEPTED, S.DISPATCHED, S.HANDLED, S.CHECKED, S.CLOSED],
    }[current]  # fmt: skip
    event = _report(db, world)
    for status in path:
        extra = {"assignee": "t_officer"} if status is S.DISPATCHED else {"note": "n"}
        _step(db, event.id, status, **extra)
    for target in set(S) - set(TRANSITIONS[current]):
        with pytest.raises(Conflict, match=f"is {current} and cannot be {target}"):
            _step(db, event.id, target, note="n")


def test_steps_check_their_notes_and_dispatch_targets(db: Session, world: World) -> None:
    event = _report(db, world)
    with pytest.raises(InvalidInput, match="note: say why"):
        _step(db, event.id, S.REJECTED)
    _step(db, event.id, S.ACCEPTED)
    with pytest.raises(InvalidInput, match="assignee: dispatch to an officer"):
        _step(db, event.id, S.DISPATCHED)
    with pytest.raises(InvalidInput, match="'nobody' is not an enabled officer"):
        _step(db, event.id, S.DISPATCHED, assignee="nobody")


def test_deadlines_per_kind_and_the_overdue_list(db: Session, world: World) -> None:
    fire = _report(db, world, EventKind.RENTED_FIRE_RISK)
    dispute = _report(db, world, EventKind.DISPUTE)
    assert fire.due_at == NOW + timedelta(hours=24) == NOW + DEADLINES[EventKind.RENTED_FIRE_RISK]
    assert dispute.due_at == NOW + timedelta(days=7)
    two_days_on = NOW + timedelta(days=2)
    overdue = service.list_events(db, scope=OFFICER, now=two_days_on, is_overdue=True)
    assert [e.id for e in overdue.items] == [fire.id]
    _step(db, fire.id, S.REJECTED, note="重复上报")  # a final event is no longer overdue
    assert service.list_events(db, scope=OFFICER, now=two_days_on, is_overdue=True).items == []
    eight_days_on = NOW + timedelta(days=8)
    late = service.list_events(db, scope=OFFICER, now=eight_days_on, is_overdue=True)
    assert [e.id for e in late.items] == [dispute.id]


def test_scope_out_of_scope_answers_like_missing_and_places_are_checked(
    db: Session, world: World
) -> None:
    event = _report(db, world)
    with pytest.raises(NotFound, match=f"no event {event.id}"):
        service.get_event(db, scope=POLICE_FAR, event_id=event.id, now=NOW)
    with pytest.raises(Forbidden):
        service.get_event(db, scope=Scope(user_name="pl", role=Role.PLANNER), event_id=1, now=NOW)
    outside = EventCreate(kind=EventKind.OTHER, title="x", lon=113.955, lat=22.505, crs="EPSG:4490")
    with pytest.raises(InvalidInput, match="not in one of your grids"):
        service.report_event(db, scope=OFFICER, request=outside, now=NOW)
    two_places = EventCreate(kind=EventKind.OTHER, title="x", lon=113.9, lat=22.5, crs="EPSG:4490",
                             building_code=world.buildings["own"])  # fmt: skip
    with pytest.raises(InvalidInput, match="exactly one place"):
        service.report_event(db, scope=OFFICER, request=two_places, now=NOW)
    no_crs = EventCreate(kind=EventKind.OTHER, title="x", lon=113.905, lat=22.505)
    with pytest.raises(InvalidInput, match="crs: name the CRS"):
        service.report_event(db, scope=OFFICER, request=no_crs, now=NOW)


def test_a_place_outside_the_officers_grids_is_named_as_the_request_gives_it(
    db: Session, world: World
) -> None:
    """A building (or house) an officer sees, whose event goes to another grid, was refused
    naming ``lon``, which the officer had not given. Here a second grid over box A holds the
    own building's point too, and an event there goes to the first grid, GRID_OWN."""
    second = GRID_OWN[:12] + "002"
    db.add(Grid(code=second, version=1, community_code=second[:12], district_code=second[:6],
                valid_from=date(2024, 1, 1), geom=f"SRID=4490;{BOX_A.wkt}"))  # fmt: skip
    db.flush()
    officer = Scope(user_name="t_officer_2", role=Role.OFFICER, grid_codes=frozenset({second}))
    for place, field in (
        ({"building_code": world.buildings["own"]}, "building_code"),
        ({"house_code": world.objects["houses"]["own"]}, "house_code"),
        ({"lon": 113.905, "lat": 22.505, "crs": "EPSG:4490"}, "lon"),
    ):
        request = EventCreate(kind=EventKind.OTHER, title="x", **place)
        with pytest.raises(InvalidInput, match="not in one of your grids") as refused:
            service.report_event(db, scope=officer, request=request, now=NOW)
        assert refused.value.field == field


def test_no_role_reports_at_a_place_in_no_grid(db: Session, world: World) -> None:
    """An admin's report at a point or a building in no grid was stored without a grid, where
    no officer would ever see it; the import refused it."""
    admin = Scope.system("t_admin")
    for request, field, reason in (
        (EventCreate(kind=EventKind.OTHER, title="x", lon=100.0, lat=40.0, crs="EPSG:4326"),
         "lon", "the place lies in no grid (check crs)"),
        (EventCreate(kind=EventKind.OTHER, title="x", building_code=world.buildings["old"]),
         "building_code", "the place lies in no grid"),
    ):  # fmt: skip
        with pytest.raises(InvalidInput) as refused:
            service.report_event(db, scope=admin, request=request, now=NOW)
        assert (refused.value.field, refused.value.message) == (field, reason)


def test_an_event_in_no_grid_is_never_dispatched_to_an_officer(db: Session, world: World) -> None:
    """One stored before places in no grid were refused: no officer could ever open it."""
    admin = Scope.system("t_admin")
    event = Event(kind=EventKind.DISPUTE, status=S.ACCEPTED, title="纠纷",
                  source=EventSource.OFFICER, geom="SRID=4490;POINT(100 40)",
                  reported_by="t_admin", reported_at=NOW,
                  due_at=NOW + DEADLINES[EventKind.DISPUTE])  # fmt: skip
    db.add(event)
    db.flush()
    dispatch = EventStepRequest(status=S.DISPATCHED, assignee="t_officer")
    with pytest.raises(InvalidInput) as refused:
        service.step_event(db, scope=admin, event_id=event.id, request=dispatch, now=NOW)
    assert (refused.value.field, refused.value.message) == (
        "assignee", "officer 't_officer' could never see an event in no grid: dispatch to an "
        "admin or a department")  # fmt: skip
    to_admin = EventStepRequest(status=S.DISPATCHED, assignee=world.users[Role.ADMIN])
    assert service.step_event(db, scope=admin, event_id=event.id, request=to_admin, now=NOW)


def test_photos_are_checked_by_content_and_stored_under_the_data_dir(
    db: Session, world: World, tmp_path: Path
) -> None:
    event = _report(db, world)
    photo = service.attach_photo(db, scope=OFFICER, event_id=event.id, data=PNG,
                                 data_dir=tmp_path, now=NOW)  # fmt: skip
    assert photo.content_type == "image/png" and photo.size_bytes == len(PNG)
    data, kind = service.photo_bytes(db, scope=OFFICER, event_id=event.id,
                                     photo_uid=photo.uid, data_dir=tmp_path)  # fmt: skip
    assert (data, kind) == (PNG, "image/png")
    [stored] = list((tmp_path / "events" / "photos" / str(event.id)).iterdir())
    assert stored.stat().st_mode & 0o777 == 0o600  # a photo may show people: the owner only
    assert stored.parent.stat().st_mode & 0o777 == 0o700
    for bad, reason in (
        (b"<html>not an image, whatever its name says</html>", "not a JPEG, PNG or WebP"),
        (PNG[:-8], "truncated"),
        (b"\xff\xd8\xff" + b"\x00" * (MAX_PHOTO_BYTES + 1), "at most 750,000"),
    ):
        with pytest.raises(InvalidInput, match=reason):
            service.attach_photo(db, scope=OFFICER, event_id=event.id, data=bad,
                                 data_dir=tmp_path, now=NOW)  # fmt: skip


def test_open_events_feed_the_grid_indicators(db: Session, world: World) -> None:
    today = datetime.now(UTC)
    for _ in range(3):
        _report(db, world, now=today)
    closed = _report(db, world, now=today)
    _step(db, closed.id, S.REJECTED, note="误报")
    grid = db.query(Grid).filter(Grid.code == GRID_OWN, Grid.valid_to.is_(None)).one()
    on = today.astimezone(CHINA).date()  # the indicators count days in China
    indicators = measure_live_grids(db, grids=[(grid.uid, grid.community_code)], on=on)
    assert indicators[str(grid.uid)].open_events == 3


def test_the_events_tile_layer_is_scoped_and_aggregate_for_planners(
    db: Session, world: World
) -> None:
    from gis.tiles.service import TileLayer, render_tile
    from tests.gis.test_tiles import decode, tile_of

    now = datetime.now(UTC)
    mine = _report(db, world, EventKind.RENTED_FIRE_RISK, now=now - timedelta(days=2))
    x, y = tile_of(113.905, 22.505, 16)
    tile = render_tile(db, layers=[TileLayer.EVENTS], z=16, x=x, y=y, scope=OFFICER)
    features = decode(tile.content)["events"]["features"]
    assert [(f["properties"]["id"], f["properties"]["kind"], f["properties"]["overdue"])
            for f in features] == [(mine.id, "rented_fire_risk", True)]  # fmt: skip
    assert (
        render_tile(db, layers=[TileLayer.EVENTS], z=16, x=x, y=y, scope=POLICE_FAR).content == b""
    )
    planner = Scope(user_name="pl", role=Role.PLANNER)
    for _ in range(4):  # five open events in one cell: enough to be shown to a planner
        _report(db, world, now=now)
    layers = decode(render_tile(db, layers=[TileLayer.EVENTS], z=16, x=x, y=y,
                                scope=planner).content)  # fmt: skip
    assert set(layers) == {"events_h3"}
    assert sum(f["properties"]["count"] for f in layers["events_h3"]["features"]) == 5


def test_a_planners_total_never_gives_a_hidden_kind_away(db: Session, world: World) -> None:
    """Seven open events of one kind and one of another: the one is hidden from planners, and
    so is the total (8 beside 7 gave it away)."""
    for kind in [EventKind.OTHER] * 7 + [EventKind.RENTED_FIRE_RISK]:
        _report(db, world, kind=kind)
    planner = Scope(user_name="t_planner", role=Role.PLANNER)
    counts = service.count_events(db, scope=planner, now=NOW, grid=GRID_OWN, division=None)
    assert counts.open_by_kind["other"] == 7 and counts.open_by_kind["rented_fire_risk"] is None
    assert counts.open is None
    admin = service.count_events(db, scope=Scope.system("t"), now=NOW, grid=GRID_OWN, division=None)
    assert admin.open == 8


def test_counts_tell_closed_events_from_rejected_ones_as_the_dashboard_does(
    db: Session, world: World
) -> None:
    """A rejected event was counted closed (its ``closed_at`` is set too), so the counts said
    2 closed where the dashboard said 1."""
    from gis.dashboard.service import dashboard_data

    rejected, closed, _ = (_report(db, world) for _ in range(3))
    _step(db, rejected.id, S.REJECTED, note="重复上报")
    for status in (S.ACCEPTED, S.DISPATCHED, S.HANDLED, S.CHECKED, S.CLOSED):
        extra = {"assignee": "t_officer"} if status is S.DISPATCHED else {"note": "n"}
        _step(db, closed.id, status, **extra)
    counts = service.count_events(db, scope=OFFICER, now=NOW, grid=GRID_OWN, division=None)
    assert (counts.open, counts.closed, counts.rejected) == (1, 1, 1)
    dashboard = dashboard_data(db, scope=OFFICER, division=None, on=NOW.date())
    (grid,) = [g for g in dashboard.grids if g.code == GRID_OWN]
    assert grid.counts["closed_events"] == counts.closed
