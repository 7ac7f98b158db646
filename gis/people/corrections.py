"""Corrections of what was registered: a person's details that change (信息变更), a residence
registered in error voided (登记有误). Services flush, never commit; callers audit in the same
transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.errors import Conflict, InvalidInput
from gis.houses.models import House
from gis.people import overlaps, queries, service
from gis.people.crypto import PeopleCipher
from gis.people.identity import normalise_phone
from gis.people.models import Person, PersonCategory, Residence, VoidedResidence
from gis.people.periods import CHINA, make_period
from gis.people.reads import require_recent_resident
from gis.people.registry import (
    category_from_hukou,
    phone_columns,
    unknown_division_reason,
    unknown_hukou_divisions,
)
from gis.people.schemas import PersonUpdate
from gis.users.models import Role

VOID_WINDOW_DAYS = 30
"""An officer voids a residence recorded in error within this many days of recording it;
later, an administrator does (the record was relied on meanwhile: counts, reports, permits)."""

UPDATABLE = ("phone", "occupation", "education", "hukou_division_code", "hukou_address",
             "category", "is_key_person")  # fmt: skip


def update_person(
    session: Session,
    *,
    scope: Scope,
    cipher: PeopleCipher,
    uid: uuid.UUID,
    changes: PersonUpdate,
    today: date,
) -> tuple[Person, list[str]]:
    """Change what may change about a person in scope (信息变更: a new phone, occupation,
    hukou…); only the fields given, ``None`` clearing an optional one; returns the person and
    the fields changed. Officers change the people who live in their grids, or left them
    lately (``reads.require_recent_resident``, as for a reveal). A new hukou without a category
    gives the category again from where the person lives today; an overseas resident has no
    hukou."""
    scope.require_role(*service.CHANGERS)
    person = service.person_in_scope(session, uid=uid, scope=scope)
    require_recent_resident(session, scope=scope, uid=uid, today=today)
    given = changes.model_fields_set & set(UPDATABLE)
    if not given:
        raise InvalidInput(f"give at least one of {', '.join(UPDATABLE)}", field="body")
    for name in ("category", "is_key_person"):
        if name in given and getattr(changes, name) is None:
            raise InvalidInput("may not be cleared", field=name)
    if "phone" in given:
        phone = normalise_phone(changes.phone, field="phone") if changes.phone else None
        for column, value in phone_columns(phone, cipher=cipher).items():
            setattr(person, column, value)
    if "hukou_division_code" in given:
        hukou = changes.hukou_division_code
        if hukou and person.category is PersonCategory.OVERSEAS:
            raise InvalidInput("an overseas resident has no hukou", field="hukou_division_code")
        if hukou and unknown_hukou_divisions(session, [hukou]):
            raise InvalidInput(unknown_division_reason(hukou), field="hukou_division_code")
        person.hukou_division_code = hukou.ljust(12, "0") if hukou else None
        living = queries.select_primary_residence_on(session, person_uid=uid, on=today)
        if (
            "category" not in given
            and living is not None
            and person.category is not (PersonCategory.OVERSEAS)
        ):
            house = session.get(House, living.house_uid)
            assert house is not None
            region = (person.id_number_masked or "")[:6]
            person.category = category_from_hukou(
                person.hukou_division_code,
                region_code=region if region.isdigit() else None,
                community_code=service.community_of(session, house=house),
            )
    if "category" in given and changes.category is not None:
        overseas = PersonCategory.OVERSEAS
        if (person.category is overseas) != (changes.category is overseas):
            raise InvalidInput(
                "an overseas resident (passport) and a citizen (ID number) are different "
                "registrations: void and register again",
                field="category",
            )
        person.category = changes.category
    for name in ("occupation", "education", "hukou_address", "is_key_person"):
        if name in given:
            setattr(person, name, getattr(changes, name))
    person.updated_at = datetime.now(UTC)
    session.flush()
    return person, sorted(given)


def void_residence(
    session: Session,
    *,
    scope: Scope,
    residence_uid: uuid.UUID,
    reason: str,
    today: date,
    reopen_previous: bool = False,
) -> tuple[VoidedResidence, Residence | None]:
    """Take back a residence recorded in error (登记有误: the wrong person, house or dates).

    Unlike a departure it leaves nothing behind in ``residences``: the row moves to
    ``voided_residences`` with the reason, who and when, its declaration is dropped (the
    obligation came from the mistake), and every count, list and past-date query is as if it
    had never been registered. With ``reopen_previous`` the person never moved: the primary
    residence this one ended when it was registered (a move or an arrival with
    ``ends_previous``; ``ended_by_uid``) is open again and returned, never a departure
    deregistered on its own; without it, that one stays ended. Officers void within
    ``VOID_WINDOW_DAYS`` of the recording. While a residence permit issued at the house is valid,
    the void is refused (revoke it first: its eligibility may rest on this registration).
    """
    scope.require_role(*service.CHANGERS)
    residence = service.locked_residence(session, scope=scope, uid=residence_uid)
    recorded = residence.created_at.astimezone(CHINA).date()
    if scope.role is Role.OFFICER and recorded < today - timedelta(days=VOID_WINDOW_DAYS):
        raise Conflict(
            f"recorded on {recorded}, more than {VOID_WINDOW_DAYS} days ago: an administrator "
            "may void it; a departure is deregistered",
            field="uid",
        )
    permit = queries.select_valid_permit_at(
        session, person_uid=residence.person_uid, house_uid=residence.house_uid, on=today
    )
    if permit is not None:
        raise Conflict(
            f"residence permit {permit}, issued at this house, is valid: if it rested on this "
            "registration, revoke it first",
            field="uid",
        )
    previous = (
        _previous_to_reopen(session, scope=scope, residence=residence) if reopen_previous else None
    )
    kept = {column.key: getattr(residence, column.key) for column in Residence.__table__.columns}
    voided = VoidedResidence(
        **kept, void_reason=reason, voided_by=scope.user_name[:64], voided_at=datetime.now(UTC)
    )
    declaration = queries.select_declarations(session, residence_uids=[residence.uid]).get(
        residence.uid
    )
    if declaration is not None:
        session.delete(declaration)
        session.flush()
    session.delete(residence)
    session.add(voided)
    session.flush()
    if previous is not None:
        lower = previous.period.lower
        assert lower is not None
        with overlaps.conflict_guard(session, "another primary residence of the person overlaps"):
            previous.period = make_period(lower, None)
            previous.deregistered_at = None
            previous.ended_by_uid = None
    return voided, previous


def _previous_to_reopen(session: Session, *, scope: Scope, residence: Residence) -> Residence:
    """The primary residence that ``residence`` ended when it began, to be open again once
    ``residence`` is voided; a Conflict saying why when there is none to reopen."""
    began = residence.period.lower
    if not residence.is_primary:
        raise Conflict(
            "not a primary residence: it ended no other, there is nothing to reopen",
            field="reopen_previous",
        )
    if residence.period.upper is not None:
        raise Conflict(
            f"this residence ends on {residence.period.upper}: where the person lived after "
            "that is not known; void it without reopen_previous and register what happened",
            field="reopen_previous",
        )
    assert began is not None
    previous = queries.select_primary_residence_ending(
        session, person_uid=residence.person_uid, on=began
    )
    if previous is None:
        raise Conflict(
            f"no primary residence of the person ended on {began}, the day this one began",
            field="reopen_previous",
        )
    if queries.select_residence(session, uid=previous.uid, scope=scope) is None:
        raise Conflict(
            f"the residence that ended on {began} is outside your grids: an administrator "
            "reopens it",
            field="reopen_previous",
        )
    if previous.ended_by_uid != residence.uid:
        raise Conflict(
            f"the primary residence that ended on {began} was deregistered as a departure, not "
            "ended by this registration: it stays ended; void without reopen_previous",
            field="reopen_previous",
        )
    return previous
