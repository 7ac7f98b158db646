"""SQL of people, residences, declarations and organizations (occupant pages: occupancy_queries)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    true,
)  # fmt: skip
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.orm import Session, aliased

from gis.access.scope import Scope
from gis.buildings.models import Building, BuildingStatus
from gis.db import copy_rows
from gis.houses.models import House, HouseStatus
from gis.people.models import (
    Declaration,
    Person,
    Residence,
    VoidedResidence,
)
from gis.users.models import Role

PEOPLE_COPY_COLUMNS = (
    "uid", "name", "id_number_enc", "id_number_hash", "id_number_masked", "phone_enc",
    "phone_hash", "phone_masked", "sex", "birth_date", "hukou_division_code", "hukou_address",
    "category", "occupation", "education", "is_key_person", "district_code", "batch_id",
)  # fmt: skip
RESIDENCE_COPY_COLUMNS = (
    "uid", "person_uid", "house_uid", "period", "kind", "is_primary", "declared_by",
    "declared_at", "registered_by", "deregistered_at",
)  # fmt: skip
DECLARATION_COPY_COLUMNS = (
    "residence_uid", "house_uid", "person_uid", "moved_in", "due_on", "declared_at",
    "declared_by",
)  # fmt: skip


def people_clause(scope: Scope, person: Any = Person) -> ColumnElement[bool]:
    """True for people the caller may see: someone with a residence (past or present) in a house
    in scope. Admins see everyone, roles without personal access no one."""
    if scope.role is Role.ADMIN:
        return true()
    return exists(
        select(Residence.uid).where(
            Residence.person_uid == person.uid, scope.house_uid_clause(Residence.house_uid)
        )
    )


def count_sealed_people(session: Session) -> int:
    """People whose ID number or phone is stored encrypted (they need the key that sealed them)."""
    statement = select(func.count()).where(
        or_(Person.id_number_enc.is_not(None), Person.phone_enc.is_not(None))
    )
    return int(session.scalar(statement) or 0)


def count_people(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Person)) or 0)


def select_person(session: Session, *, uid: uuid.UUID, scope: Scope) -> Person | None:
    return session.scalar(select(Person).where(Person.uid == uid, people_clause(scope)))


ID_LOCK_SPACE = 0x67686964  # "ghid": the first key of pg_advisory_xact_lock(int, int)
ID_LOCK_BUCKETS = 256
"""ID numbers share this many locks: a batch of an import takes every bucket its numbers fall
in (at most this many locks, whatever the batch's size), a registration one."""


def lock_id_numbers(session: Session, *, hashes: Iterable[bytes]) -> None:
    """Serialise the registration of these ID numbers until the transaction ends: two requests
    or imports adding the same new person at once would each find nobody and each insert one
    (the number is not unique in ``people``: old ledgers hold duplicates, which the accuracy
    rate counts). Locks are taken in one order, so two batches cannot deadlock."""
    buckets = sorted({int.from_bytes(bytes(h)[:4], "big") % ID_LOCK_BUCKETS for h in hashes})
    if buckets:
        session.execute(
            text(
                "SELECT count(pg_advisory_xact_lock(:space, b)) FROM "
                "(SELECT b FROM unnest(CAST(:buckets AS int[])) AS b ORDER BY b) AS ordered"
            ),
            {"space": ID_LOCK_SPACE, "buckets": buckets},
        )


def select_people_by_id_hash(session: Session, *, hashes: Sequence[bytes]) -> dict[bytes, Person]:
    """People by the keyed hash of their ID number (the first registered when duplicated)."""
    if not hashes:
        return {}
    statement = (
        select(Person).where(Person.id_number_hash.in_(list(hashes))).order_by(Person.created_at)
    )
    found: dict[bytes, Person] = {}
    for person in session.scalars(statement):
        assert person.id_number_hash is not None
        found.setdefault(bytes(person.id_number_hash), person)
    return found


def select_live_house(session: Session, *, code: str, scope: Scope) -> House | None:
    """An active house of a non-retired building, in scope, locked for the registration."""
    statement = (
        select(House)
        .join(Building, Building.uid == House.building_uid)
        .where(
            House.code == code,
            House.status == HouseStatus.ACTIVE,
            Building.status != BuildingStatus.RETIRED,
            scope.buildings_clause(),
        )
        .with_for_update(of=House)
    )
    return session.scalar(statement)


def select_house_in_scope(session: Session, *, code: str, scope: Scope) -> House | None:
    """A house of any status whose building is in scope (reads and time travel)."""
    return session.scalar(select(House).where(House.code == code, scope.houses_clause()))


def lived_in_scope_since(
    session: Session, *, person_uid: uuid.UUID, scope: Scope, since: date
) -> bool:
    """Whether the person had a residence in a house in scope on ``since`` or later."""
    statement = select(
        exists(
            select(Residence.uid).where(
                Residence.person_uid == person_uid,
                or_(func.upper(Residence.period).is_(None), func.upper(Residence.period) > since),
                scope.house_uid_clause(Residence.house_uid),
            )
        )
    )
    return bool(session.scalar(statement))


def house_is_in_scope(session: Session, *, uid: uuid.UUID, scope: Scope) -> bool:
    """Whether the house (of any status) is in scope."""
    return bool(session.scalar(select(scope.house_uid_clause(literal(uid)))))


def select_live_houses(session: Session, *, codes: Sequence[str]) -> dict[str, House]:
    """Active houses of non-retired buildings by code (imports, acting for an administrator)."""
    statement = (
        select(House)
        .join(Building, Building.uid == House.building_uid)
        .where(
            House.code.in_(list(codes)),
            House.status == HouseStatus.ACTIVE,
            Building.status != BuildingStatus.RETIRED,
        )
    )
    return {house.code: house for house in session.scalars(statement)}


def select_residence(
    session: Session, *, uid: uuid.UUID, scope: Scope, for_update: bool = False
) -> Residence | None:
    statement = select(Residence).where(
        Residence.uid == uid, scope.house_uid_clause(Residence.house_uid)
    )
    if for_update:
        statement = statement.with_for_update()
    return session.scalar(statement)


def select_voided(session: Session, *, uid: uuid.UUID, scope: Scope) -> VoidedResidence | None:
    """A voided residence whose house is in scope."""
    statement = select(VoidedResidence).where(
        VoidedResidence.uid == uid, scope.house_uid_clause(VoidedResidence.house_uid)
    )
    return session.scalar(statement)


def person_has_records(session: Session, *, uid: uuid.UUID) -> bool:
    """Whether anything but voided registrations refers to the person: a residence, an
    employment, a residence permit, a house they let."""
    statement = text(
        "SELECT EXISTS (SELECT 1 FROM residences WHERE person_uid = :uid)"
        " OR EXISTS (SELECT 1 FROM employments WHERE person_uid = :uid)"
        " OR EXISTS (SELECT 1 FROM residence_permits WHERE person_uid = :uid)"
        " OR EXISTS (SELECT 1 FROM houses WHERE landlord_uid = :uid)"
    )
    return bool(session.scalar(statement, {"uid": uid}))


def select_valid_permit_at(
    session: Session, *, person_uid: uuid.UUID, house_uid: uuid.UUID, on: date
) -> str | None:
    """The number of a residence permit issued to the person at this house and valid on ``on``
    (``least`` skips a NULL revocation), if any."""
    statement = text(
        "SELECT number FROM residence_permits WHERE person_uid = :person AND house_uid = :house"
        " AND issued_on <= :on AND :on < least(endorsed_until, expires_on, revoked_on)"
        " ORDER BY issued_on DESC LIMIT 1"
    )
    found = session.scalar(statement, {"person": person_uid, "house": house_uid, "on": on})
    return None if found is None else str(found)


def select_overlapping_primary(
    session: Session,
    *,
    person_uids: Sequence[uuid.UUID],
    period: Range[date],
    excluding: uuid.UUID | None = None,
) -> list[Residence]:
    """Primary residences of these people whose periods overlap ``period`` (locked)."""
    statement = (
        select(Residence)
        .where(
            Residence.person_uid.in_(list(person_uids)),
            Residence.is_primary,
            Residence.period.op("&&")(cast(period, Residence.period.type)),
        )
        .order_by(Residence.person_uid, Residence.period)
        .with_for_update()
    )
    if excluding is not None:
        statement = statement.where(Residence.uid != excluding)
    return list(session.scalars(statement))


def select_residence_in_house(
    session: Session, *, person_uid: uuid.UUID, house_uid: uuid.UUID, period: Range[date]
) -> Residence | None:
    """A residence of the person in the house, primary or not, overlapping ``period``."""
    statement = (
        select(Residence)
        .where(
            Residence.person_uid == person_uid,
            Residence.house_uid == house_uid,
            Residence.period.op("&&")(cast(period, Residence.period.type)),
        )
        .order_by(Residence.period)
        .limit(1)
    )
    return session.scalar(statement)


def select_primary_residence_on(
    session: Session, *, person_uid: uuid.UUID, on: date
) -> Residence | None:
    """The primary residence whose period covers ``on`` (at most one: the exclusion constraint)."""
    return _locked_primary(session, person_uid, Residence.period.op("@>")(cast(on, Date)))


def select_primary_residence_ending(
    session: Session, *, person_uid: uuid.UUID, on: date
) -> Residence | None:
    """The primary residence of the person that ended on ``on`` (moved out that day), locked."""
    return _locked_primary(session, person_uid, func.upper(Residence.period) == cast(on, Date))


def _locked_primary(
    session: Session, person_uid: uuid.UUID, on: ColumnElement[bool]
) -> Residence | None:
    statement = (
        select(Residence)
        .where(Residence.person_uid == person_uid, Residence.is_primary, on)
        .with_for_update()
    )
    return session.scalar(statement)


def select_residences_of(
    session: Session, *, person_uid: uuid.UUID, scope: Scope
) -> list[tuple[Residence, str]]:
    """A person's residences in scope, oldest first, with their house codes."""
    house = aliased(House)  # the scope clause has a House of its own to correlate
    statement = (
        select(Residence, house.code)
        .join(house, house.uid == Residence.house_uid)
        .where(Residence.person_uid == person_uid, scope.house_uid_clause(Residence.house_uid))
        .order_by(func.lower(Residence.period), Residence.created_at)
    )
    return [(row[0], row[1]) for row in session.execute(statement).all()]


def select_declarations(
    session: Session, *, residence_uids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Declaration]:
    if not residence_uids:
        return {}
    statement = select(Declaration).where(Declaration.residence_uid.in_(list(residence_uids)))
    return {declaration.residence_uid: declaration for declaration in session.scalars(statement)}


def select_house_codes(session: Session, *, uids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not uids:
        return {}
    rows = session.execute(select(House.uid, House.code).where(House.uid.in_(list(uids)))).all()
    return {row[0]: row[1] for row in rows}


def copy_people(session: Session, rows: Iterable[Sequence[Any]]) -> int:
    """Bulk-load people rows (``PEOPLE_COPY_COLUMNS`` order) with COPY."""
    return copy_rows(session, table="people", columns=PEOPLE_COPY_COLUMNS, rows=rows)


def copy_residences(session: Session, rows: Iterable[Sequence[Any]]) -> int:
    """Bulk-load residences (``RESIDENCE_COPY_COLUMNS`` order; periods as ``[a,b)`` text)."""
    return copy_rows(session, table="residences", columns=RESIDENCE_COPY_COLUMNS, rows=rows)


def copy_declarations(session: Session, rows: Iterable[Sequence[Any]]) -> int:
    return copy_rows(session, table="declarations", columns=DECLARATION_COPY_COLUMNS, rows=rows)


_RENT_OUT = text(
    """
    UPDATE houses h SET is_rented = true, landlord_uid = COALESCE(t.landlord, h.landlord_uid)
    FROM unnest(CAST(:houses AS uuid[]), CAST(:landlords AS uuid[])) AS t(house, landlord)
    WHERE h.uid = t.house
    """
)


def mark_rented(
    session: Session, *, house_uids: Sequence[uuid.UUID], landlords: Sequence[uuid.UUID | None]
) -> None:
    """Mark houses as let, with their landlords where known (one statement)."""
    if house_uids:
        session.execute(_RENT_OUT, {"houses": list(house_uids), "landlords": list(landlords)})
