"""One house at a time, for officers in their grids and administrators: add a house found on a
walk (a flat partitioned into rooms, a shop), change what a house is (floor, room, use, area,
rooms, let or not), retire one that no longer exists (rooms knocked together).

A house's code is permanent: a new house takes the building's next unit number, a retired one
keeps its code, and its unit is never issued again (the next number counts retired units too).
Services flush, never commit; the routes audit in the same transaction.
"""

from __future__ import annotations

import math
import uuid
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import func
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.buildings.models import BuildingStatus
from gis.buildings.service import get_building
from gis.clock import CHINA
from gis.codes import MAX_UNIT, format_code, group_code, parse_code
from gis.errors import Conflict, InvalidInput, NotFound
from gis.houses import queries
from gis.houses.models import House, HouseStatus, HouseUse
from gis.people import queries as people_queries
from gis.people.service import live_house
from gis.text import OneLine
from gis.users.models import Role

CHANGERS = (Role.OFFICER, Role.ADMIN)
"""Roles that change houses (police and planners change nothing in grids)."""


def _finite_area(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


Floor = Annotated[int, Field(ge=-10, le=300, description="-10 … 300; 1 is the ground floor")]
Room = Annotated[str, Field(min_length=1, max_length=20), OneLine]
Area = Annotated[float, Field(gt=0, lt=100_000, allow_inf_nan=False), AfterValidator(_finite_area)]
Rooms = Annotated[int, Field(ge=1, le=999)]


class HouseCreate(BaseModel):
    """A house to add to a live building; it takes the building's next unit number."""

    model_config = ConfigDict(extra="forbid")

    floor: Floor | None = None
    room: Room | None = None
    use: HouseUse = HouseUse.RESIDENTIAL
    area_m2: Area | None = None
    rooms: Rooms | None = None
    is_rented: bool = False


class HouseUpdate(BaseModel):
    """What changes; a member left out keeps its value (``null`` clears floor, room, area or
    rooms)."""

    model_config = ConfigDict(extra="forbid")

    floor: Floor | None = None
    room: Room | None = None
    use: HouseUse | None = None
    area_m2: Area | None = None
    rooms: Rooms | None = None
    is_rented: bool | None = None


class HouseRead(BaseModel):
    code: str
    code_grouped: str
    unit: int
    floor: int | None
    room: str | None
    use: str
    area_m2: float | None
    rooms: int | None = None
    is_rented: bool
    is_estimated: bool
    status: str


def house_read(house: House) -> HouseRead:
    return HouseRead(
        code=house.code,
        code_grouped=group_code(house.code),
        unit=house.unit,
        floor=house.floor,
        room=house.room,
        use=house.use.value,
        area_m2=house.area_m2,
        rooms=house.rooms,
        is_rented=house.is_rented,
        is_estimated=house.is_estimated,
        status=house.status.value,
    )


def _live_house(session: Session, *, code: str, scope: Scope) -> House:
    parsed = parse_code(code, field="code")
    if parsed.is_building:
        raise InvalidInput(f"{parsed.code} is a building code, not a house code", field="code")
    return live_house(session, code=parsed.code, scope=scope, field="code")


def _refuse_same_room(
    session: Session,
    *,
    building_uid: uuid.UUID,
    floor: int | None,
    room: str | None,
    exclude: uuid.UUID | None = None,
) -> None:
    """A room number names one active house per floor of a building (as house lists do)."""
    if room is None:
        return
    clash = queries.select_active_room(
        session, building_uid=building_uid, floor=floor, room=room, exclude_uid=exclude
    )
    if clash is not None:
        where = f"floor {floor} " if floor is not None else ""
        raise Conflict(
            f"{where}room {room} of this building is already house {group_code(clash)}",
            field="room",
        )


def add_house(session: Session, *, scope: Scope, building_code: str, request: HouseCreate) -> House:
    """A new house in a live building of the caller's scope, with the building's next unit.
    Errors about the building name ``code``, the route's path parameter."""
    scope.require_role(*CHANGERS)
    building = get_building(session, code=building_code, for_update=True, scope=scope, field="code")
    if building.status is BuildingStatus.RETIRED:
        raise Conflict(f"building {group_code(building.code)} is retired", field="code")
    unit = queries.select_last_units(session, building_uids=[building.uid]).get(building.uid, 0)
    if unit + 1 > MAX_UNIT:
        raise Conflict(
            f"building {group_code(building.code)} has no unit number left ({MAX_UNIT} is the "
            "last)",
            field="code",
        )
    code = format_code(
        community_code=building.community_code, structure_class=building.structure_class,
        seq=building.seq, unit=unit + 1,
    )  # fmt: skip
    _refuse_same_room(session, building_uid=building.uid, floor=request.floor, room=request.room)
    house = House(
        code=code,
        building_uid=building.uid,
        district_code=building.district_code,
        unit=unit + 1,
        is_estimated=False,
        status=HouseStatus.ACTIVE,
        **request.model_dump(),
    )
    session.add(house)
    session.flush()
    return house


def update_house(session: Session, *, scope: Scope, code: str, request: HouseUpdate) -> House:
    """Change the members given of an active house of the caller's scope; a house changed by
    hand is no longer an estimate."""
    scope.require_role(*CHANGERS)
    changes = request.model_dump(exclude_unset=True)
    if not changes:
        raise InvalidInput(
            "give at least one of floor, room, use, area_m2, rooms, is_rented", field="body"
        )
    for name in ("use", "is_rented"):
        if name in changes and changes[name] is None:
            raise InvalidInput(f"{name} cannot be null", field=name)
    if {"floor", "room"} & changes.keys():
        # the building before the house (the order of adding one), so that two houses given
        # the same room at once, or a room given while a house is added, see each other
        queries.lock_building_of_house(session, code=parse_code(code, field="code").code)
    house = _live_house(session, code=code, scope=scope)
    _refuse_same_room(
        session, building_uid=house.building_uid, floor=changes.get("floor", house.floor),
        room=changes.get("room", house.room), exclude=house.uid,
    )  # fmt: skip
    for name, value in changes.items():
        setattr(house, name, value)
    house.is_estimated = False
    session.flush()
    return house


def retire_house(session: Session, *, scope: Scope, code: str, today: date) -> House:
    """Retire an active house nobody lives in from ``today`` on and no organization is at; its
    code stays its own (time travel still finds who lived there)."""
    scope.require_role(*CHANGERS)
    try:
        house = _live_house(session, code=code, scope=scope)
    except NotFound:
        parsed = parse_code(code, field="code")
        known = people_queries.select_house_in_scope(session, code=parsed.code, scope=scope)
        if known is None or known.retired_at is None:
            raise
        retired_on = known.retired_at.astimezone(CHINA).date()
        raise Conflict(
            f"house {group_code(known.code)} was retired on {retired_on}", field="code"
        ) from None
    residents = queries.count_residents_from(session, house_uid=house.uid, on=today)
    if residents:
        raise Conflict(
            f"{residents} residence(s) of house {group_code(house.code)} last until {today} or "
            "later: deregister or move the residents first",
            field="code",
        )
    organizations = queries.count_organizations_at(session, house_uid=house.uid)
    if organizations:
        raise Conflict(
            f"{organizations} organization(s) are at house {group_code(house.code)}",
            field="code",
        )
    house.status = HouseStatus.RETIRED
    house.retired_at = func.now()
    session.flush()
    return house
