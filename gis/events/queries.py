"""SQL of events: the scope clause, the grid under a point, buildings and houses by code (the
places of a report and of an import), lists, counts, open events per grid for the grid
indicators and the figures per grid of the dashboard."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, select, text, true
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.buildings.models import Building, BuildingStatus
from gis.events.models import Event, EventKind, EventPhoto, EventStatus, EventStep
from gis.houses.models import House, HouseStatus
from gis.users.models import Role, User


def events_clause(scope: Scope) -> ColumnElement[bool]:
    """True for events the caller may see: an officer's grids, a police jurisdiction (the
    community the event was reported in), everything for admins, nothing otherwise."""
    if scope.role is Role.ADMIN:
        return true()
    if scope.role is Role.POLICE and scope.division_prefix:
        prefix = scope.division_prefix
        district = (
            Event.district_code == prefix[:6]
            if len(prefix) >= 6
            else Event.district_code.startswith(prefix, autoescape=True)
        )
        return and_(district, Event.community_code.startswith(prefix, autoescape=True))
    if scope.role is Role.OFFICER and scope.grid_codes:
        return Event.grid_code.in_(sorted(scope.grid_codes))
    return false()


_GRID_AT = text(
    """
    SELECT code, community_code FROM grids
    WHERE geom && ST_SetSRID(ST_MakePoint(:x, :y), 4490)
      AND ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4490))
      AND valid_from <= :on AND (valid_to IS NULL OR valid_to > :on)
    ORDER BY code LIMIT 1
    """
)


def select_grid_at(session: Session, *, x: float, y: float, on: date) -> tuple[str, str] | None:
    """The grid (code, community) whose version valid on ``on`` covers the point."""
    row = session.execute(_GRID_AT, {"x": x, "y": y, "on": on}).first()
    return (str(row.code), str(row.community_code)) if row else None


@dataclass(frozen=True)
class Place:
    """Where a building or house is: its building's point on surface and community, and
    whether the building is retired."""

    building_uid: uuid.UUID
    house_uid: uuid.UUID | None
    x: float
    y: float
    community_code: str
    is_retired: bool = False


def select_building_places(
    session: Session, *, codes: Sequence[str], where: ColumnElement[bool] | None = None
) -> dict[str, Place]:
    """Buildings by code, retired ones too (:mod:`gis.events.places` says why they are
    refused); ``where`` is the caller's scope (a clause on ``Building``)."""
    if not codes:
        return {}
    point = func.ST_PointOnSurface(Building.geom)
    rows = session.execute(
        select(Building.code, Building.uid, func.ST_X(point), func.ST_Y(point),
               Building.community_code, Building.status)
        .where(Building.code.in_(list(codes)), true() if where is None else where)
    )  # fmt: skip
    return {
        str(code): Place(uid, None, float(x), float(y), str(community),
                         is_retired=status is BuildingStatus.RETIRED)
        for code, uid, x, y, community, status in rows
    }  # fmt: skip


def select_house_places(
    session: Session, *, codes: Sequence[str], where: ColumnElement[bool] | None = None
) -> dict[str, Place]:
    """Live houses (active, in a building that is not retired) by code; ``where`` is the
    caller's scope (a clause on ``Building``)."""
    if not codes:
        return {}
    point = func.ST_PointOnSurface(Building.geom)
    rows = session.execute(
        select(House.code, Building.uid, House.uid, func.ST_X(point), func.ST_Y(point),
               Building.community_code)
        .join(Building, Building.uid == House.building_uid)
        .where(House.code.in_(list(codes)), House.status == HouseStatus.ACTIVE,
               Building.status != BuildingStatus.RETIRED, true() if where is None else where)
    )  # fmt: skip
    return {
        str(code): Place(building_uid, house_uid, float(x), float(y), str(community))
        for code, building_uid, house_uid, x, y, community in rows
    }


def select_event(
    session: Session, *, event_id: int, scope: Scope, for_update: bool = False
) -> Event | None:
    statement = select(Event).where(Event.id == event_id, events_clause(scope))
    if for_update:
        statement = statement.with_for_update()
    return session.scalar(statement)


def select_point(session: Session, *, event_id: int) -> tuple[float, float]:
    row = session.execute(
        select(func.ST_X(Event.geom), func.ST_Y(Event.geom)).where(Event.id == event_id)
    ).one()
    return float(row[0]), float(row[1])


def select_steps(session: Session, *, event_id: int) -> Sequence[EventStep]:
    return session.scalars(
        select(EventStep).where(EventStep.event_id == event_id).order_by(EventStep.id)
    ).all()


def select_photos(session: Session, *, event_id: int) -> Sequence[EventPhoto]:
    return session.scalars(
        select(EventPhoto).where(EventPhoto.event_id == event_id).order_by(EventPhoto.uploaded_at)
    ).all()


def select_codes(session: Session, *, event: Event) -> tuple[str | None, str | None]:
    """The building and house codes an event was reported at."""
    building = (
        session.scalar(select(Building.code).where(Building.uid == event.building_uid))
        if event.building_uid
        else None
    )
    house = (
        session.scalar(select(House.code).where(House.uid == event.house_uid))
        if event.house_uid
        else None
    )
    return building, house


def events_statement(
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
) -> Select[Any]:
    """A page of events in scope (id order) with their lon/lat."""
    conditions: list[ColumnElement[bool]] = [events_clause(scope)]
    if grid_code is not None:
        conditions.append(Event.grid_code == grid_code)
    if status is not None:
        conditions.append(Event.status == status)
    if is_open is True:
        conditions.append(Event.closed_at.is_(None))
    if is_open is False:
        conditions.append(Event.closed_at.is_not(None))
    if is_overdue:
        conditions.extend([Event.closed_at.is_(None), Event.due_at < now])
    if bbox is not None:
        conditions.append(Event.geom.intersects(func.ST_MakeEnvelope(*bbox, 4490)))
    if after is not None:
        conditions.append(Event.id > after)
    return (
        select(Event, func.ST_X(Event.geom).label("x"), func.ST_Y(Event.geom).label("y"))
        .where(*conditions)
        .order_by(Event.id)
        .limit(limit)
    )


_COUNTS = text(
    """
    SELECT count(*) FILTER (WHERE closed_at IS NULL) AS open,
           count(*) FILTER (WHERE closed_at IS NULL AND due_at < :now) AS overdue,
           count(*) FILTER (WHERE status = 'closed') AS closed,
           count(*) FILTER (WHERE status = 'rejected') AS rejected
    FROM events e
    WHERE (CAST(:grid AS varchar) IS NULL OR e.grid_code = :grid)
      AND (CAST(:prefix AS varchar) IS NULL OR e.community_code LIKE :prefix || '%')
    """
)
_OPEN_BY_KIND = text(
    """
    SELECT e.kind, count(*) AS n FROM events e
    WHERE e.closed_at IS NULL
      AND (CAST(:grid AS varchar) IS NULL OR e.grid_code = :grid)
      AND (CAST(:prefix AS varchar) IS NULL OR e.community_code LIKE :prefix || '%')
    GROUP BY e.kind
    """
)


def count_events(
    session: Session, *, now: datetime, grid_code: str | None = None, prefix: str | None = None
) -> dict[str, Any]:
    """Open, overdue, closed (结案, as the dashboard counts them) and rejected events of a grid
    or a division prefix, and open ones by kind. Counts carry no personal data: the caller's
    role was checked before."""
    params = {"now": now, "grid": grid_code, "prefix": prefix}
    row = session.execute(_COUNTS, params).one()
    by_kind = {str(r.kind): int(r.n) for r in session.execute(_OPEN_BY_KIND, params)}
    return {
        "open": int(row.open),
        "overdue": int(row.overdue),
        "closed": int(row.closed),
        "rejected": int(row.rejected),
        "by_kind": by_kind,
    }


_OPEN_PER_GRID = text(
    """
    SELECT g.uid::text AS key, count(e.id) AS open_events
    FROM grids g
    LEFT JOIN events e
      ON e.grid_code = g.code
     AND CAST(e.reported_at AT TIME ZONE 'Asia/Shanghai' AS date) <= :on
     AND (e.closed_at IS NULL OR CAST(e.closed_at AT TIME ZONE 'Asia/Shanghai' AS date) > :on)
    WHERE g.uid = ANY(CAST(:keys AS uuid[]))
    GROUP BY g.uid
    """
)


def open_events_per_grid(session: Session, *, uids: Sequence[Any], on: date) -> dict[str, int]:
    """Events open on ``on`` (reported by then, not closed or rejected by then) in each grid
    version (keyed by uid as text): the grid indicator ``open_events``."""
    if not uids:
        return {}
    rows = session.execute(_OPEN_PER_GRID, {"keys": [str(u) for u in uids], "on": on})
    return {str(row.key): int(row.open_events) for row in rows}


def may_take_event(session: Session, *, name: str, grid_code: str | None) -> str | None:
    """Why ``name`` may not take an event of ``grid_code`` (``None``: they may): an enabled
    admin, or an enabled officer with the event's grid (an officer of other grids could not
    even open it, nor any officer an event in no grid)."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None or user.role not in (Role.OFFICER, Role.ADMIN) or user.is_disabled:
        return f"{name!r} is not an enabled officer or admin account"
    if user.role is Role.OFFICER and grid_code is None:  # reported before places in no grid
        return (  # were refused: only admins see it
            f"officer {name!r} could never see an event in no grid: dispatch to an admin or a "
            "department"
        )
    if user.role is Role.OFFICER and grid_code not in (user.grid_codes or []):
        return f"officer {name!r} has not grid {grid_code}: dispatch to an officer of the grid"
    return None


_FIGURES_PER_GRID = text(
    """
    SELECT grid_code, kind,
           count(*) FILTER (WHERE closed_at IS NULL) AS open,
           count(*) FILTER (WHERE closed_at IS NULL AND due_at < :now) AS overdue,
           count(*) FILTER (WHERE status NOT IN ('reported', 'rejected')) AS accepted,
           count(*) FILTER (WHERE status = 'closed') AS closed
    FROM events
    WHERE grid_code = ANY(CAST(:codes AS varchar[])) AND reported_at <= :now
    GROUP BY grid_code, kind
    """
)


@dataclass
class GridEventFigures:
    """A grid's events at a moment: open ones by kind, overdue, accepted (受理: every event
    taken past ``reported`` and not rejected) and closed (结案)."""

    open_by_kind: dict[str, int] = field(default_factory=lambda: {k.value: 0 for k in EventKind})
    overdue: int = 0
    accepted: int = 0
    closed: int = 0

    @property
    def open(self) -> int:
        return sum(self.open_by_kind.values())


def event_figures_per_grid(
    session: Session, *, codes: Sequence[str], now: datetime
) -> dict[str, GridEventFigures]:
    """:class:`GridEventFigures` of each grid code (aggregates; grids without events get zeros)."""
    figures = {code: GridEventFigures() for code in codes}
    if not codes:
        return figures
    for row in session.execute(_FIGURES_PER_GRID, {"codes": list(codes), "now": now}):
        grid = figures[str(row.grid_code)]
        grid.open_by_kind[str(row.kind)] = int(row.open)
        grid.overdue += int(row.overdue)
        grid.accepted += int(row.accepted)
        grid.closed += int(row.closed)
    return figures
