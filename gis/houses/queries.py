"""SQL of the houses domain."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session

from gis.buildings.models import Building, BuildingStatus
from gis.db import copy_rows
from gis.houses.models import House, HouseStatus

HOUSE_COPY_COLUMNS = (
    "code",
    "building_uid",
    "district_code",
    "unit",
    "floor",
    "room",
    "use",
    "area_m2",
    "rooms",
    "is_rented",
    "is_estimated",
)

_BUILDINGS_WITHOUT_HOUSES = text(
    """
    SELECT b.uid, b.code, b.floors, b.height_m,
           ST_Area(b.geom::geography) AS footprint_m2
    FROM buildings b
    WHERE b.status <> 'retired'
      AND b.community_code = ANY(CAST(:communities AS varchar[]))
      AND NOT EXISTS (SELECT 1 FROM houses h WHERE h.building_uid = b.uid)
    ORDER BY b.code
    """
)


def select_house(session: Session, *, code: str) -> House | None:
    return session.scalars(select(House).where(House.code == code)).one_or_none()


def select_houses_of(
    session: Session, *, building_uid: uuid.UUID, after: int = 0, limit: int | None = None
) -> list[House]:
    """The houses of a building in unit order: those after unit ``after``, at most ``limit``."""
    statement = (
        select(House)
        .where(House.building_uid == building_uid, House.unit > after)
        .order_by(House.unit)
        .limit(limit)
    )
    return list(session.scalars(statement))


def lock_houses_of(session: Session, *, building_uids: Sequence[uuid.UUID]) -> None:
    """Lock the active houses of these buildings until the transaction ends (in one order): a
    registration into one of them, which locks its house, waits or is waited for."""
    session.execute(
        select(House.uid)
        .where(House.building_uid.in_(list(building_uids)), House.status == HouseStatus.ACTIVE)
        .order_by(House.uid)
        .with_for_update()
    )


def retire_houses_of(session: Session, *, building_uid: uuid.UUID) -> None:
    session.execute(
        update(House)
        .where(House.building_uid == building_uid, House.status == HouseStatus.ACTIVE)
        .values(status=HouseStatus.RETIRED, retired_at=func.now())
    )


def select_live_buildings(session: Session, *, codes: Sequence[str]) -> dict[str, Building]:
    """Non-retired buildings by code, locked: their next unit numbers are being issued."""
    statement = (
        select(Building)
        .where(Building.code.in_(codes), Building.status != BuildingStatus.RETIRED)
        .order_by(Building.code)
        .with_for_update()
    )
    return {building.code: building for building in session.scalars(statement)}


def lock_building_of_house(session: Session, *, code: str) -> None:
    """Lock the building of the house with this code (if any) until the transaction ends, as
    adding a house does: two changes of its rooms at once then see each other."""
    building = select(House.building_uid).where(House.code == code).scalar_subquery()
    session.execute(select(Building.uid).where(Building.uid == building).with_for_update())


def select_last_units(
    session: Session, *, building_uids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    statement = (
        select(House.building_uid, func.max(House.unit))
        .where(House.building_uid.in_(building_uids))
        .group_by(House.building_uid)
    )
    return {uid: last for uid, last in session.execute(statement).all()}  # noqa: C416


def select_buildings_without_houses(
    session: Session, *, communities: Sequence[str]
) -> list[dict[str, Any]]:
    rows = session.execute(_BUILDINGS_WITHOUT_HOUSES, {"communities": list(communities)})
    return [dict(row) for row in rows.mappings()]


def set_building_use(session: Session, *, uses: dict[uuid.UUID, str]) -> None:
    if uses:
        session.connection().execute(
            update(Building.__table__)  # type: ignore[arg-type]
            .where(Building.__table__.c.uid == bindparam("b_uid"))
            .values(use=bindparam("b_use")),
            [{"b_uid": uid, "b_use": use} for uid, use in uses.items()],
        )


def copy_houses(session: Session, rows: Iterable[Sequence[Any]]) -> int:
    """Bulk-load house rows (in ``HOUSE_COPY_COLUMNS`` order) with COPY."""
    return copy_rows(session, table="houses", columns=HOUSE_COPY_COLUMNS, rows=rows)


def select_named_units(
    session: Session, *, building_uids: Sequence[uuid.UUID]
) -> dict[tuple[uuid.UUID, int | None, str], tuple[uuid.UUID, bool]]:
    """(building, floor, room) → (house, is it let) of the active houses of these buildings
    that have a room number (a retired house's room is free again, as ``select_active_room``
    has it)."""
    statement = select(
        House.building_uid, House.floor, House.room, House.uid, House.is_rented
    ).where(
        House.building_uid.in_(building_uids),
        House.room.is_not(None),
        House.status == HouseStatus.ACTIVE,
    )
    return {
        (building, floor, str(room)): (uid, bool(rented))
        for building, floor, room, uid, rented in session.execute(statement).all()
    }


def set_rented(session: Session, *, house_uids: Sequence[uuid.UUID], is_rented: bool) -> None:
    if house_uids:
        session.execute(update(House).where(House.uid.in_(house_uids)).values(is_rented=is_rented))


def select_active_room(
    session: Session,
    *,
    building_uid: uuid.UUID,
    floor: int | None,
    room: str,
    exclude_uid: uuid.UUID | None = None,
) -> str | None:
    """The code of an active house of the building with this floor and room, if any."""
    statement = select(House.code).where(
        House.building_uid == building_uid,
        House.status == HouseStatus.ACTIVE,
        House.floor.is_(None) if floor is None else House.floor == floor,
        House.room == room,
    )
    if exclude_uid is not None:
        statement = statement.where(House.uid != exclude_uid)
    return session.scalar(statement.limit(1))


_RESIDENTS_FROM = text(
    """
    SELECT count(*) FROM residences
    WHERE house_uid = :house_uid AND (upper_inf(period) OR upper(period) > :on)
    """
)


def count_residents_from(session: Session, *, house_uid: uuid.UUID, on: Any) -> int:
    """Residences of the house covering ``on`` or starting later (the period's end is the day
    of departure, not included)."""
    return int(session.scalar(_RESIDENTS_FROM, {"house_uid": house_uid, "on": on}) or 0)


def count_organizations_at(session: Session, *, house_uid: uuid.UUID) -> int:
    statement = text("SELECT count(*) FROM organizations WHERE house_uid = :house_uid")
    return int(session.scalar(statement, {"house_uid": house_uid}) or 0)
