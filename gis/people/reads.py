"""Read models of residents: a person (masked) with their residences, a reveal of identifiers,
residences with their declarations."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.errors import NotFound
from gis.people import queries
from gis.people.crypto import PeopleCipher, SealedField
from gis.people.models import Declaration, Person, Residence, VoidedResidence
from gis.people.periods import CHINA
from gis.people.schemas import (
    DeclarationRead,
    MoveRead,
    PersonRead,
    ResidenceRead,
    RevealRead,
    VoidedResidenceRead,
)
from gis.users.models import Role

REVEAL_AFTER_DEPARTURE_DAYS = 30
"""How long after leaving an officer's grids a person's identifiers may still be revealed to
that officer (a late deregistration, a follow-up); police and admins are not bound by it."""


def _person(session: Session, *, uid: uuid.UUID, scope: Scope) -> Person:
    person = queries.select_person(session, uid=uid, scope=scope)
    if person is None:
        raise NotFound(f"no person {uid}", field="uid")
    return person


def residence_reads(
    session: Session, residences: list[Residence], *, today: date
) -> list[ResidenceRead]:
    """Read models of residences, with house codes and declarations."""
    uids = [residence.uid for residence in residences]
    codes = queries.select_house_codes(session, uids=[r.house_uid for r in residences])
    declarations = queries.select_declarations(session, residence_uids=uids)
    return [
        _residence_read(r, codes[r.house_uid], declarations.get(r.uid), today=today)
        for r in residences
    ]


def _residence_fields(residence: Residence | VoidedResidence, house_code: str) -> dict[str, Any]:
    """What a read of a residence shows, live or voided (its declaration aside)."""
    assert residence.period.lower is not None
    return {
        "uid": residence.uid,
        "person_uid": residence.person_uid,
        "house_code": house_code,
        "since": residence.period.lower,
        "until": residence.period.upper,
        "kind": residence.kind,
        "is_primary": residence.is_primary,
        "declared_by": residence.declared_by,
        "declared_at": residence.declared_at,
        "deregistered_at": residence.deregistered_at,
        "ended_by": residence.ended_by_uid,
    }


def _residence_read(
    residence: Residence, house_code: str, declaration: Declaration | None, *, today: date
) -> ResidenceRead:
    return ResidenceRead(
        **_residence_fields(residence, house_code),
        declaration=declaration_read(declaration, today=today) if declaration else None,
    )


def voided_read(session: Session, voided: VoidedResidence) -> VoidedResidenceRead:
    """A voided residence as it was, with why, who and when (its declaration was dropped)."""
    code = queries.select_house_codes(session, uids=[voided.house_uid])[voided.house_uid]
    return VoidedResidenceRead(
        **_residence_fields(voided, code),
        declaration=None,
        void_reason=voided.void_reason,
        voided_by=voided.voided_by,
        voided_at=voided.voided_at,
    )


def declaration_read(declaration: Declaration, *, today: date) -> DeclarationRead:
    made = declaration.declared_at.astimezone(CHINA).date() if declaration.declared_at else None
    return DeclarationRead(
        uid=declaration.uid,
        moved_in=declaration.moved_in,
        due_on=declaration.due_on,
        declared_at=declaration.declared_at,
        declared_by=declaration.declared_by,
        is_late=(made or today) > declaration.due_on,
    )


def move_read(
    session: Session, ended: Residence | None, started: Residence, *, scope: Scope, today: date
) -> tuple[MoveRead, list[str]]:
    """What a move answers, and the codes of the houses it touched (for the audit row).

    The residence it ended is shown only when its house is in the caller's scope: an officer
    who registers an arrival from another grid learns that a residence elsewhere ended, not
    where (DESIGN §8)."""
    reads = residence_reads(session, [r for r in (ended, started) if r is not None], today=today)
    codes = [read.house_code for read in reads]
    if ended is None:
        return MoveRead(ended=None, started=reads[-1]), codes
    if not queries.house_is_in_scope(session, uid=ended.house_uid, scope=scope):
        return MoveRead(ended=None, started=reads[-1], ended_elsewhere=True), codes
    return MoveRead(ended=reads[0], started=reads[-1]), codes


def age_on(birth: date | None, on: date) -> int | None:
    if birth is None:
        return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def get_person(session: Session, *, scope: Scope, uid: uuid.UUID, today: date) -> PersonRead:
    """A person in scope, masked, with their residences in scope (oldest first)."""
    scope.require_personal()
    person = _person(session, uid=uid, scope=scope)
    residences = [r for r, _ in queries.select_residences_of(session, person_uid=uid, scope=scope)]
    return PersonRead(
        uid=person.uid,
        name=person.name,
        sex="M" if person.sex == "M" else ("F" if person.sex == "F" else None),
        age=age_on(person.birth_date, today),
        id_number=person.id_number_masked,
        phone=person.phone_masked,
        category=person.category,
        hukou_division_code=person.hukou_division_code,
        hukou_address=person.hukou_address,
        occupation=person.occupation,
        education=person.education,
        is_key_person=person.is_key_person,
        residences=residence_reads(session, residences, today=today),
    )


def require_recent_resident(session: Session, *, scope: Scope, uid: uuid.UUID, today: date) -> None:
    """Officers act on the people who live in their grids, or left them at most
    :data:`REVEAL_AFTER_DEPARTURE_DAYS` days ago; anyone else answers as one that does not
    exist (other roles are not bound by it)."""
    if scope.role is Role.OFFICER and not queries.lived_in_scope_since(
        session,
        person_uid=uid,
        scope=scope,
        since=today - timedelta(days=REVEAL_AFTER_DEPARTURE_DAYS),
    ):
        raise NotFound(f"no person {uid}", field="uid")


def reveal_person(
    session: Session, *, scope: Scope, cipher: PeopleCipher, uid: uuid.UUID, today: date
) -> RevealRead:
    """Full identifiers of a person in scope (the caller audits the reveal with its reason).

    Officers reveal the people who live in their grids, or left them at most
    :data:`REVEAL_AFTER_DEPARTURE_DAYS` days ago: someone who moved away years ago is in their
    grids' history, not their work, and their phone now is no business of the old grid's. Any
    other person answers as one that does not exist."""
    scope.require_personal()
    person = _person(session, uid=uid, scope=scope)
    require_recent_resident(session, scope=scope, uid=uid, today=today)
    id_number = (
        cipher.open(person.id_number_enc, field=SealedField.ID_NUMBER)
        if person.id_number_enc is not None
        else None
    )
    phone = (
        cipher.open(person.phone_enc, field=SealedField.PHONE)
        if person.phone_enc is not None
        else None
    )
    return RevealRead(
        uid=person.uid, name=person.name, id_number=id_number, phone=phone,
        birth_date=person.birth_date,
    )  # fmt: skip
