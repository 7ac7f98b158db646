"""Use cases of events: report, take a step, read, list, count, attach a photo. Services flush,
never commit; the caller audits in the same transaction.

Every use case that reads events first makes the moves due (:func:`follow_live_grids`): an
open event belongs to the grid live today for its place, also after a grid switch that took
effect on a later day than its publication."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from gis.access.masking import shown_total, suppress_small_count
from gis.access.scope import Scope, requested_division_prefix
from gis.codes import parse_code, parse_grid_code
from gis.crs import parse_crs
from gis.divisions.service import require_known_division
from gis.errors import Conflict, InvalidInput, NotFound
from gis.events import move_queries, photos, queries
from gis.events.lifecycle import DEADLINES, FINAL, NEEDS_NOTE, check_step, next_statuses
from gis.events.models import Event, EventPhoto, EventSource, EventStatus, EventStep
from gis.events.places import building_place, check_code_kind, house_place, no_grid_reason
from gis.events.schemas import (
    EventCounts,
    EventCreate,
    EventPage,
    EventPhotoRead,
    EventRead,
    EventStepRead,
    EventStepRequest,
    EventSummary,
)
from gis.grids import queries as grid_queries
from gis.people.occupancy import checked_point
from gis.people.periods import CHINA
from gis.users.models import Role


def now_utc() -> datetime:
    return datetime.now(UTC)


def follow_live_grids(session: Session, *, now: datetime | None = None) -> None:
    """Before events are read: move the open events of grid versions that ended by ``now``'s
    day in China (default today) to the grid live for their place (a look at a small table
    when nothing is due)."""
    on = now.astimezone(CHINA).date() if now is not None else None
    move_queries.move_due_events(session, on=on)


class _Place(NamedTuple):
    x: float
    y: float
    building_uid: Any
    house_uid: Any
    field: str
    """The request's name for the place: ``lon``, ``building_code`` or ``house_code``."""


def _place(session: Session, *, scope: Scope, request: EventCreate) -> _Place:
    """The place an event is reported at: a point, a building that is not retired or a live
    house in scope (the rule of an import, :mod:`gis.events.places`)."""
    given = [
        name
        for name, value in (
            ("lon", request.lon if request.lon is not None or request.lat is not None else None),
            ("building_code", request.building_code),
            ("house_code", request.house_code),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise InvalidInput(
            "give exactly one place: lon/lat with crs, building_code or house_code",
            field=given[1] if len(given) > 1 else "lon",
        )
    if request.house_code is not None:
        code = check_code_kind(
            parse_code(request.house_code, field="house_code"),
            column="house_code",
            field="house_code",
        )
        houses = queries.select_house_places(session, codes=[code], where=scope.buildings_clause())
        place = house_place(houses, code, field="house_code")
        return _Place(place.x, place.y, place.building_uid, place.house_uid, "house_code")
    if request.building_code is not None:
        code = check_code_kind(
            parse_code(request.building_code, field="building_code"),
            column="building_code",
            field="building_code",
        )
        buildings = queries.select_building_places(
            session, codes=[code], where=scope.buildings_clause()
        )
        place = building_place(buildings, code, field="building_code")
        return _Place(place.x, place.y, place.building_uid, None, "building_code")
    if request.lon is None or request.lat is None:
        raise InvalidInput("lon and lat go together", field="lat" if request.lat is None else "lon")
    if not request.crs:
        raise InvalidInput(
            "name the CRS of lon/lat: EPSG:4326, EPSG:4490, GCJ02 or BD09", field="crs"
        )
    x, y = checked_point(request.lon, request.lat, parse_crs(request.crs))
    return _Place(x, y, None, None, "lon")


def report_event(
    session: Session,
    *,
    scope: Scope,
    request: EventCreate,
    now: datetime,
    source: EventSource = EventSource.OFFICER,
) -> Event:
    """Report an event in a grid of the caller's (officers) or in any grid (admins); its
    deadline runs from now by its kind. A place in no grid is refused for every role, as an
    import refuses it: nobody would ever see the event."""
    scope.require_role(Role.OFFICER, Role.ADMIN)
    place = _place(session, scope=scope, request=request)
    grid = queries.select_grid_at(session, x=place.x, y=place.y, on=now.astimezone(CHINA).date())
    if grid is None:
        raise InvalidInput(no_grid_reason(is_point=place.field == "lon", crs="crs"),
                           field=place.field)  # fmt: skip
    grid_code, community = grid
    if scope.role is Role.OFFICER and grid_code not in scope.grid_codes:
        raise InvalidInput("the place is not in one of your grids", field=place.field)
    event = Event(
        kind=request.kind,
        status=EventStatus.REPORTED,
        title=request.title,
        description=request.description,
        geom=f"SRID=4490;POINT({place.x!r} {place.y!r})",
        building_uid=place.building_uid,
        house_uid=place.house_uid,
        grid_code=grid_code,
        community_code=community,
        district_code=community[:6],
        source=source,
        reported_by=scope.user_name,
        reported_at=now,
        due_at=now + DEADLINES[request.kind],
    )
    session.add(event)
    session.flush()
    session.add(
        EventStep(
            event_id=event.id, from_status=None, to_status=EventStatus.REPORTED,
            actor=scope.user_name, role=str(scope.role), at=now, note=request.description,
        )
    )  # fmt: skip
    session.flush()
    return event


def _get(session: Session, *, scope: Scope, event_id: int, for_update: bool = False) -> Event:
    event = queries.select_event(session, event_id=event_id, scope=scope, for_update=for_update)
    if event is None:
        raise NotFound(f"no event {event_id}", field="event_id")
    return event


def step_event(
    session: Session, *, scope: Scope, event_id: int, request: EventStepRequest, now: datetime
) -> Event:
    """Move an event one step along the lifecycle table, recording who, when and the note."""
    scope.require_role(Role.OFFICER, Role.ADMIN)
    follow_live_grids(session, now=now)
    event = _get(session, scope=scope, event_id=event_id, for_update=True)
    target = request.status
    check_step(current=event.status, target=target, event_id=event.id)
    note = (request.note or "").strip() or None
    if target in NEEDS_NOTE and note is None:
        raise InvalidInput(f"say why or what was done: a {target} step needs a note", field="note")
    if target is EventStatus.DISPATCHED:
        if (request.assignee is None) == (request.department is None):
            raise InvalidInput(
                "dispatch to an officer (assignee) or to a department, one of the two",
                field="assignee",
            )
        if request.assignee is not None:
            refusal = queries.may_take_event(
                session, name=request.assignee, grid_code=event.grid_code
            )
            if refusal is not None:
                raise InvalidInput(refusal, field="assignee")
        event.assignee, event.department = request.assignee, request.department
    elif request.assignee is not None or request.department is not None:
        raise InvalidInput("only a dispatch step names an assignee or department", field="assignee")
    session.add(
        EventStep(
            event_id=event.id, from_status=event.status, to_status=target,
            actor=scope.user_name, role=str(scope.role), at=now, note=note,
        )
    )  # fmt: skip
    event.status = target
    if target in FINAL:
        event.closed_at = now
    session.flush()
    return event


def event_read(session: Session, *, event: Event, now: datetime) -> EventRead:
    """An event with its history and photos."""
    x, y = queries.select_point(session, event_id=event.id)
    building_code, house_code = queries.select_codes(session, event=event)
    return EventRead(
        id=event.id, kind=event.kind, status=event.status, title=event.title,
        description=event.description, lon=x, lat=y, grid_code=event.grid_code,
        building_code=building_code, house_code=house_code, reported_by=event.reported_by,
        reported_at=event.reported_at, due_at=event.due_at,
        is_overdue=event.closed_at is None and event.due_at < now,
        assignee=event.assignee, department=event.department, closed_at=event.closed_at,
        next_statuses=list(next_statuses(event.status)),
        steps=[
            EventStepRead(from_status=s.from_status, to_status=s.to_status, actor=s.actor,
                          role=s.role, at=s.at, note=s.note)
            for s in queries.select_steps(session, event_id=event.id)
        ],
        photos=[_photo_read(p) for p in queries.select_photos(session, event_id=event.id)],
    )  # fmt: skip


def _photo_read(photo: EventPhoto) -> EventPhotoRead:
    return EventPhotoRead(
        uid=str(photo.uid), content_type=photo.content_type, size_bytes=photo.size_bytes,
        sha256=photo.sha256, uploaded_by=photo.uploaded_by, uploaded_at=photo.uploaded_at,
    )  # fmt: skip


def get_event(session: Session, *, scope: Scope, event_id: int, now: datetime) -> EventRead:
    """An event in scope (officers, police and admins); out of scope answers like missing."""
    scope.require_personal()
    follow_live_grids(session, now=now)
    return event_read(session, event=_get(session, scope=scope, event_id=event_id), now=now)


def list_events(
    session: Session,
    *,
    scope: Scope,
    now: datetime,
    grid_code: str | None = None,
    status: EventStatus | None = None,
    is_open: bool | None = None,
    is_overdue: bool = False,
    bbox: tuple[float, float, float, float] | None = None,
    after: int | None = None,
    limit: int = 100,
) -> EventPage:
    """A page of the events in scope, in id order (overdue ones: past their deadline, open)."""
    scope.require_personal()
    follow_live_grids(session, now=now)
    statement = queries.events_statement(
        scope=scope, now=now, grid_code=grid_code, status=status, is_open=is_open,
        is_overdue=is_overdue, bbox=bbox, after=after, limit=limit,
    )  # fmt: skip
    items = [
        EventSummary(
            id=e.id,
            kind=e.kind,
            status=e.status,
            title=e.title,
            lon=x,
            lat=y,
            grid_code=e.grid_code,
            reported_at=e.reported_at,
            due_at=e.due_at,
            is_overdue=e.closed_at is None and e.due_at < now,
            assignee=e.assignee,
        )
        for e, x, y in session.execute(statement)
    ]
    next_after = items[-1].id if len(items) == limit else None
    return EventPage(items=items, next_after=next_after)


def count_events(
    session: Session, *, scope: Scope, now: datetime, grid: str | None, division: str | None
) -> EventCounts:
    """Open, overdue, closed and rejected events of a grid or a division: aggregates every role
    but the auditor may read (planners: counts 1-4 suppressed); officers only their own grids,
    police only their jurisdiction. A grid never issued or a division not in the division
    table is a 404 naming it (it was an answer of zeros), a malformed code a 422."""
    scope.require_aggregates()
    if (grid is None) == (division is None):
        raise InvalidInput("give a grid or a division, one of the two", field="grid")
    prefix = None
    if grid is not None:
        grid = parse_grid_code(grid, field="grid")
    if division is not None:
        prefix = requested_division_prefix(division)
    in_scope = True
    if scope.role is Role.OFFICER:
        in_scope = grid in scope.grid_codes
    elif scope.role is Role.POLICE:
        area = grid[:12] if grid else prefix or ""
        in_scope = area.startswith(scope.division_prefix or "\x00")
    if not in_scope:
        raise NotFound(f"no {'grid' if grid else 'division'} {grid or division} in your scope",
                       field="grid" if grid else "division")  # fmt: skip
    if grid is not None and not grid_queries.code_was_issued(session, codes=[grid]):
        raise NotFound(f"no grid {grid}", field="grid")  # any version: a retired grid's events
    if division is not None:
        require_known_division(session, division)
    follow_live_grids(session, now=now)
    counts = queries.count_events(session, now=now, grid_code=grid, prefix=prefix)
    planner = scope.role is Role.PLANNER
    shown = suppress_small_count if planner else (lambda n: n)
    by_kind = {kind: shown(n) for kind, n in counts["by_kind"].items()}
    # the open total beside its kinds: null when it minus the kinds shown gives a hidden one away
    open_total = shown_total(counts["open"], list(by_kind.values())) if planner else counts["open"]
    return EventCounts(
        area_code=str(grid or division), open=open_total,
        overdue=shown(counts["overdue"]), closed=shown(counts["closed"]),
        rejected=shown(counts["rejected"]), open_by_kind=by_kind,
    )  # fmt: skip


def attach_photo(
    session: Session, *, scope: Scope, event_id: int, data: bytes, data_dir: Path, now: datetime
) -> EventPhotoRead:
    """Store a photo of an open event in scope (type and size checked from the bytes)."""
    scope.require_role(Role.OFFICER, Role.ADMIN)
    follow_live_grids(session, now=now)
    event = _get(session, scope=scope, event_id=event_id, for_update=True)
    if event.status in FINAL:
        raise Conflict(f"event {event.id} is {event.status}: photos can no longer be added",
                       field="event_id")  # fmt: skip
    if len(queries.select_photos(session, event_id=event.id)) >= photos.MAX_PHOTOS_PER_EVENT:
        raise Conflict(f"an event holds at most {photos.MAX_PHOTOS_PER_EVENT} photos",
                       field="photo")  # fmt: skip
    stored = photos.store_photo(data, data_dir=data_dir, event_id=event.id)
    photo = EventPhoto(
        event_id=event.id, path=stored.relative_path, content_type=stored.content_type,
        size_bytes=stored.size_bytes, sha256=stored.sha256, uploaded_by=scope.user_name,
        uploaded_at=now,
    )  # fmt: skip
    session.add(photo)
    session.flush()
    return _photo_read(photo)


def photo_bytes(
    session: Session, *, scope: Scope, event_id: int, photo_uid: str, data_dir: Path
) -> tuple[bytes, str]:
    """A photo of an event in scope: its bytes and content type."""
    scope.require_personal()
    missing = NotFound(f"no photo {photo_uid} of event {event_id}", field="photo_uid")
    follow_live_grids(session)
    event = queries.select_event(session, event_id=event_id, scope=scope)
    for photo in queries.select_photos(session, event_id=event.id) if event else ():
        if str(photo.uid) == photo_uid:
            return photos.read_photo(photo.path, data_dir=data_dir), photo.content_type
    raise missing  # a missing event and a missing photo answer alike
