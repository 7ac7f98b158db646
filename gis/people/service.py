"""Use cases of residents: register an arrival, deregister a departure, move, declare, read and
reveal a person. Services flush, never commit; callers audit in the same transaction.

来有登记，走有注销: ending a residence sets the end of its period and ``deregistered_at``; no
residence is ever deleted, so "who lived here on 3 May" has an answer forever.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.buildings.models import Building
from gis.codes import parse_code
from gis.errors import Conflict, InvalidInput, NotFound
from gis.houses.models import House
from gis.people import overlaps, queries
from gis.people.crypto import PeopleCipher, SealedField
from gis.people.models import (
    Declaration,
    DeclaredBy,
    Person,
    Residence,
    ResidenceKind,
)
from gis.people.overlaps import utc_now
from gis.people.periods import (
    CHINA,
    WorkCalendar,
    checked_date,
    checked_past_date,
    describe_period,
    make_period,
)
from gis.people.registry import (
    ValidPerson,
    derive_category,
    person_values,
    phone_columns,
    unknown_division_reason,
    unknown_hukou_divisions,
    validate_person,
)
from gis.people.schemas import (
    MoveRequest,
    PersonInput,
    ResidenceCreate,
)
from gis.users.models import Role

CHANGERS = (Role.OFFICER, Role.ADMIN)
"""Roles that register and deregister residents (police change nothing in grids)."""


def live_house(session: Session, *, code: str, scope: Scope, field: str = "house_code") -> House:
    """An active house of a live building in scope, locked for the change; NotFound naming
    ``field`` otherwise (out of scope answers like missing)."""
    parsed = parse_code(code, field=field)
    house = queries.select_live_house(session, code=parsed.code, scope=scope)
    if house is None:
        raise NotFound(f"no live house has the code {parsed.code}", field=field)
    return house


def person_in_scope(
    session: Session, *, uid: uuid.UUID, scope: Scope, field: str = "uid"
) -> Person:
    """The person, when in scope; else NotFound naming ``field`` (the request's name for it)."""
    person = queries.select_person(session, uid=uid, scope=scope)
    if person is None:
        raise NotFound(f"no person {uid}", field=field)
    return person


def _declare(
    session: Session, *, residence: Residence, house: House, calendar: WorkCalendar
) -> None:
    """A tenant moving into a rented house is declared by the landlord within 3 working days."""
    if residence.kind is not ResidenceKind.TENANT or not house.is_rented:
        return
    moved_in = residence.period.lower
    assert moved_in is not None
    by_landlord = residence.declared_by is DeclaredBy.LANDLORD
    session.add(
        Declaration(
            residence_uid=residence.uid,
            house_uid=house.uid,
            person_uid=residence.person_uid,
            moved_in=moved_in,
            due_on=calendar.add_working_days(moved_in),
            declared_at=utc_now() if by_landlord else None,
            declared_by=DeclaredBy.LANDLORD if by_landlord else None,
        )
    )


def register_arrival(
    session: Session,
    *,
    scope: Scope,
    cipher: PeopleCipher,
    calendar: WorkCalendar,
    request: ResidenceCreate,
    today: date,
    changed: list[str] | None = None,
) -> Residence:
    """Register a person's arrival in a house (来有登记); a new person is created from
    ``request.person`` unless one with that ID number exists (then its name must match, and
    the details it takes from the registration are named in ``changed``)."""
    scope.require_role(*CHANGERS)
    moved_in = checked_past_date(request.moved_in, today=today, field="moved_in", what="an arrival")
    until = checked_date(request.until, field="until") if request.until else None
    period = make_period(moved_in, until, field="until")
    if (request.person is None) == (request.person_uid is None):
        raise InvalidInput("give either person_uid or person", field="person")
    # a new person's ID number is locked before the house, in the order an import batch takes them
    given = (
        None if request.person is None else _locked_number(session, cipher, request.person, today)
    )
    house = live_house(session, code=request.house_code, scope=scope)
    if given is None:
        assert request.person_uid is not None
        person = person_in_scope(session, uid=request.person_uid, scope=scope, field="person_uid")
    else:
        person = find_or_add_person(
            session, cipher=cipher, given=given, house=house, changed=changed
        )
    overlaps.refuse_before_birth(person, moved_in, field="moved_in", what="a move-in")
    # the house is locked (live_house): a second registration of the same stay waits, then sees it
    again = queries.select_residence_in_house(
        session, person_uid=person.uid, house_uid=house.uid, period=period
    )
    if again is not None:
        raise Conflict(
            f"the person already has a residence in this house {describe_period(again.period)}",
            field="moved_in",
        )
    residence = Residence(
        uid=uuid.uuid4(),
        person_uid=person.uid,
        house_uid=house.uid,
        period=period,
        kind=request.kind,
        is_primary=request.is_primary,
        declared_by=request.declared_by,
        declared_at=utc_now(),
        registered_by=scope.user_name[:64],
    )
    overlapping = f"a primary residence of the person overlaps {describe_period(period)}"
    with overlaps.conflict_guard(session, overlapping):
        if request.is_primary:
            overlaps.end_overlapping(
                session, scope=scope, person=person, period=period,
                ends_previous=request.ends_previous, ended_by=residence.uid,
            )  # fmt: skip
        session.add(residence)
    _declare(session, residence=residence, house=house, calendar=calendar)
    session.flush()
    return residence


def find_or_add_person(
    session: Session,
    *,
    cipher: PeopleCipher,
    given: tuple[ValidPerson, bytes],
    house: House,
    changed: list[str] | None = None,
) -> Person:
    """The person with this ID number (``given``: the person checked and the keyed hash of
    their ID number, locked by :func:`_locked_number`), or a new one; a different name for the
    same ID number is a Conflict (one number, one person), unless nothing but voided
    registrations refers to that person: then the registration was the mistake (the wrong
    name, say), and the person's details are those given now. A person on record keeps their
    details but those :func:`_refresh` takes from the registration (named in ``changed``)."""
    valid, digest = given
    hukou = valid.hukou_division_code
    if hukou and unknown_hukou_divisions(session, [hukou]):
        raise InvalidInput(unknown_division_reason(hukou), field="person.hukou_division_code")
    existing = queries.select_people_by_id_hash(session, hashes=[digest]).get(digest)
    if existing is not None and existing.name == valid.name:
        _refresh(existing, valid, cipher=cipher, changed=[] if changed is None else changed)
        return existing
    if existing is not None and queries.person_has_records(session, uid=existing.uid):
        raise Conflict("this ID number is registered under another name", field="person.id_number")
    community = community_of(session, house=house)
    category = derive_category(valid, community_code=community)
    values = person_values(
        valid, cipher=cipher, category=category, district_code=house.district_code
    )
    if existing is not None:  # only voided registrations: renewed with what is given now
        for column, value in values.items():
            setattr(existing, column, value)
        session.flush()
        return existing
    row = Person(uid=uuid.uuid4(), **values)
    session.add(row)
    session.flush()
    return row


FIXED_ON_RECORD = ("sex", "birth_date", "hukou_division_code", "hukou_address", "category")
"""What a registration of someone on record may not change: identity (an overseas resident's sex
and birth date) and what other rules derive from (hukou, category): 信息变更 changes the last
three (``PATCH /api/people/{uid}``)."""


def _refresh(
    person: Person, valid: ValidPerson, *, cipher: PeopleCipher, changed: list[str]
) -> None:
    """A registration of someone on record: a phone, occupation or education given that differs
    from the record is the newest (as ``PATCH /api/people/{uid}`` would store it; it was dropped
    without a word); a different value of :data:`FIXED_ON_RECORD` is a Conflict naming it."""
    for name in FIXED_ON_RECORD:
        value = getattr(valid, name)
        if value is not None and value != getattr(person, name):
            raise Conflict(
                "differs from the record of this person: leave it out, and change it after "
                "the registration with PATCH /api/people/{uid} (信息变更)",
                field=f"person.{name}",
            )
    renewed: list[str] = []
    if valid.phone:
        phone = phone_columns(valid.phone, cipher=cipher)
        if phone["phone_hash"] != person.phone_hash:
            for column, value in phone.items():
                setattr(person, column, value)
            renewed.append("phone")
    for name in ("occupation", "education"):
        value = getattr(valid, name)
        if value is not None and value != getattr(person, name):
            setattr(person, name, value)
            renewed.append(name)
    if renewed:
        person.updated_at = datetime.now(UTC)  # as a PATCH records a change
        changed.extend(renewed)


def _locked_number(
    session: Session, cipher: PeopleCipher, person: PersonInput, today: date
) -> tuple[ValidPerson, bytes]:
    """The person checked, and the keyed hash of their ID number, locked until the transaction
    ends (one number, one person: two registrations of a new person at once must not both add
    them)."""
    valid = validate_person(person, today=today)
    digest = cipher.lookup_hash(valid.id_number, field=SealedField.ID_NUMBER)
    queries.lock_id_numbers(session, hashes=[digest])
    return valid, digest


def community_of(session: Session, *, house: House) -> str:
    building = session.get(Building, house.building_uid)
    assert building is not None
    return building.community_code


def locked_residence(session: Session, *, scope: Scope, uid: uuid.UUID) -> Residence:
    """A residence in scope, locked; a voided one is a Conflict saying when and why."""
    residence = queries.select_residence(session, uid=uid, scope=scope, for_update=True)
    if residence is not None:
        return residence
    voided = queries.select_voided(session, uid=uid, scope=scope)
    if voided is None:
        raise NotFound(f"no residence {uid}", field="uid")
    raise Conflict(
        f"residence {uid} was voided on {voided.voided_at.astimezone(CHINA).date()} by "
        f"{voided.voided_by}: {voided.void_reason}",
        field="uid",
    )


def deregister(
    session: Session, *, scope: Scope, residence_uid: uuid.UUID, moved_out: date, today: date
) -> Residence:
    """End a residence on the day of departure (走有注销); the row stays forever."""
    scope.require_role(*CHANGERS)
    residence = locked_residence(session, scope=scope, uid=residence_uid)
    if residence.deregistered_at is not None:
        raise Conflict(
            f"already deregistered on {residence.deregistered_at.astimezone(CHINA).date()}",
            field="uid",
        )
    checked_past_date(moved_out, today=today, field="moved_out", what="a departure")
    lower = residence.period.lower
    assert lower is not None
    if residence.is_primary:
        overlaps.refuse_overlap(
            session, scope=scope, person_uid=residence.person_uid,
            period=make_period(lower, moved_out), excluding=residence.uid, field="moved_out",
        )  # fmt: skip
    message = f"ending on {moved_out} would overlap another primary residence of the person"
    with overlaps.conflict_guard(session, message):
        residence.period = make_period(lower, moved_out)
        residence.deregistered_at = utc_now()
    return residence


def move_person(
    session: Session,
    *,
    scope: Scope,
    calendar: WorkCalendar,
    person_uid: uuid.UUID,
    request: MoveRequest,
    today: date,
) -> tuple[Residence | None, Residence]:
    """End the person's primary residence on ``moved_on`` and start one in the new house, in
    one transaction (both or neither)."""
    scope.require_role(*CHANGERS)
    person = person_in_scope(session, uid=person_uid, scope=scope)
    moved_on = checked_past_date(request.moved_on, today=today, field="moved_on", what="a move")
    house = live_house(session, code=request.house_code, scope=scope)
    overlaps.refuse_before_birth(person, moved_on, field="moved_on", what="a move")
    current = queries.select_primary_residence_on(session, person_uid=person.uid, on=moved_on)
    if current is not None:
        overlaps.refuse_rewriting_departure(session, scope, current, day=moved_on, field="moved_on")
    period = make_period(moved_on, None)
    overlaps.refuse_overlap(
        session, scope=scope, person_uid=person.uid, period=period,
        excluding=current.uid if current is not None else None, field="moved_on",
    )  # fmt: skip
    started = Residence(
        uid=uuid.uuid4(),
        person_uid=person.uid,
        house_uid=house.uid,
        period=period,
        kind=request.kind,
        is_primary=True,
        declared_by=request.declared_by,
        declared_at=utc_now(),
        registered_by=scope.user_name[:64],
    )
    message = f"another primary residence of the person overlaps {describe_period(period)}"
    with overlaps.conflict_guard(session, message):
        if current is not None:
            lower = current.period.lower
            assert lower is not None
            if current.house_uid == house.uid:
                raise Conflict("the person already lives in this house", field="house_code")
            if lower == moved_on:
                raise Conflict(
                    f"the person moved in on {moved_on}: void that residence if it was a mistake",
                    field="moved_on",
                )
            current.period = make_period(lower, moved_on)
            current.deregistered_at = utc_now()
            current.ended_by_uid = started.uid
        session.add(started)
    _declare(session, residence=started, house=house, calendar=calendar)
    session.flush()
    return current, started


def record_declaration(session: Session, *, scope: Scope, residence_uid: uuid.UUID) -> Declaration:
    """The landlord has declared the tenant of this residence (now)."""
    scope.require_role(*CHANGERS)
    residence = locked_residence(
        session, scope=scope, uid=residence_uid
    )  # a void waits, or is told
    declaration = queries.select_declarations(session, residence_uids=[residence.uid]).get(
        residence.uid
    )
    if declaration is None:
        raise Conflict("no declaration is due: not a tenant of a rented house", field="uid")
    if declaration.declared_at is not None:
        raise Conflict("the declaration was already made", field="uid")
    declaration.declared_at = utc_now()
    declaration.declared_by = DeclaredBy.LANDLORD
    session.flush()
    return declaration
