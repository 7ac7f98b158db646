"""People and residences: register an arrival, deregister a departure, void a registration made
in error, move, record a landlord's declaration, read a person (masked) and reveal their
identifiers with a reason. All audited."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from api.deps import SessionDep
from api.personal import Audited, CalendarDep, CipherDep, PurposeQuery, audited
from gis.access.purpose import require_reason
from gis.people import corrections, reads, service
from gis.people.periods import today_in_china
from gis.people.schemas import (
    DeclarationRead,
    Deregistration,
    MoveRead,
    MoveRequest,
    PersonRead,
    PersonUpdate,
    ResidenceCreate,
    ResidenceRead,
    RevealRead,
    RevealRequest,
    VoidedResidenceRead,
    VoidRequest,
)

router = APIRouter(tags=["people"])


@router.post("/api/residences", response_model=ResidenceRead, status_code=201)
def register_arrival(
    request: ResidenceCreate,
    session: SessionDep,
    cipher: CipherDep,
    calendar: CalendarDep,
    audit: Annotated[Audited, Depends(audited("residences.register"))],
) -> ResidenceRead:
    """Register a person's arrival in a house (来有登记): an existing person by ``person_uid``,
    or a new one (or the one with that ID number) from ``person``. Overlapping primary
    residences answer 409 naming both periods, unless ``ends_previous`` (a move)."""
    audit.target_codes = [request.house_code]
    today = today_in_china()
    changed: list[str] = []  # a person on record: the details the registration renewed
    residence = service.register_arrival(
        session, scope=audit.scope, cipher=cipher, calendar=calendar, request=request,
        today=today, changed=changed,
    )  # fmt: skip
    read = reads.residence_reads(session, [residence], today=today)[0]
    fields = [f"field:{name}" for name in changed]  # by name, never the values (as a PATCH)
    audit.record(session, row_count=1, target_codes=[read.house_code, str(read.uid), *fields])
    return read


@router.post("/api/residences/{uid}/deregister", response_model=ResidenceRead)
def deregister_departure(
    uid: uuid.UUID,
    request: Deregistration,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("residences.deregister"))],
) -> ResidenceRead:
    """End a residence on the day of departure (走有注销); the record is kept."""
    audit.target_codes = [str(uid)]
    today = today_in_china()
    residence = service.deregister(
        session, scope=audit.scope, residence_uid=uid, moved_out=request.moved_out, today=today
    )
    read = reads.residence_reads(session, [residence], today=today)[0]
    audit.record(session, row_count=1, target_codes=[read.house_code, str(uid)])
    return read


@router.post("/api/residences/{uid}/void", response_model=VoidedResidenceRead)
def void_residence(
    uid: uuid.UUID,
    request: VoidRequest,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("residences.void"))],
) -> VoidedResidenceRead:
    """Void a residence recorded in error (登记有误: the wrong person, house or dates): it is
    taken out of every list, count and past-date query as if never registered, and kept apart
    with the reason, who and when. Officers void within 30 days of the recording, admins any
    time; a departure is deregistered, not voided. ``reopen_previous``: the person never moved,
    so the primary residence this one ended when registered is open again (``reopened``)."""
    audit.target_codes = [str(uid)]
    today = today_in_china()
    voided, reopened = corrections.void_residence(
        session, scope=audit.scope, residence_uid=uid, reason=request.reason, today=today,
        reopen_previous=request.reopen_previous,
    )  # fmt: skip
    read = reads.voided_read(session, voided)
    targets = [read.house_code, str(uid)]
    if reopened is not None:
        read.reopened = reads.residence_reads(session, [reopened], today=today)[0]
        targets += [read.reopened.house_code, str(reopened.uid)]
    audit.record(session, row_count=1 + (reopened is not None), target_codes=targets)
    return read


@router.post("/api/residences/{uid}/declaration", response_model=DeclarationRead)
def record_declaration(
    uid: uuid.UUID,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("declarations.record"))],
) -> DeclarationRead:
    """The landlord declared the tenant of this residence (出租屋业主申报), now."""
    audit.target_codes = [str(uid)]
    declaration = service.record_declaration(session, scope=audit.scope, residence_uid=uid)
    read = reads.declaration_read(declaration, today=today_in_china())
    audit.record(session, row_count=1)
    return read


@router.patch("/api/people/{uid}", response_model=PersonRead)
def update_person(
    uid: uuid.UUID,
    request: PersonUpdate,
    session: SessionDep,
    cipher: CipherDep,
    audit: Annotated[Audited, Depends(audited("people.update"))],
) -> PersonRead:
    """Change what may change about a person in scope (信息变更): phone, occupation,
    education, hukou division and address, category (hukou or floating), key person; only the
    fields given, ``null`` clearing an optional one. Name and ID number are corrected by voiding
    the registration and registering again."""
    audit.target_codes = [str(uid)]
    today = today_in_china()
    _, changed = corrections.update_person(
        session, scope=audit.scope, cipher=cipher, uid=uid, changes=request, today=today
    )
    person = reads.get_person(session, scope=audit.scope, uid=uid, today=today)
    # what changed, by name (never the values): the audit log says which fields
    audit.record(session, row_count=1, target_codes=[str(uid), *(f"field:{f}" for f in changed)])
    return person


@router.post("/api/people/{uid}/move", response_model=MoveRead)
def move_person(
    uid: uuid.UUID,
    request: MoveRequest,
    session: SessionDep,
    calendar: CalendarDep,
    audit: Annotated[Audited, Depends(audited("residences.move"))],
) -> MoveRead:
    """End the person's primary residence on ``moved_on`` and start one in the new house, in
    one transaction."""
    audit.target_codes = [str(uid), request.house_code]
    today = today_in_china()
    ended, started = service.move_person(
        session, scope=audit.scope, calendar=calendar, person_uid=uid, request=request,
        today=today,
    )  # fmt: skip
    read, codes = reads.move_read(session, ended, started, scope=audit.scope, today=today)
    audit.record(session, row_count=1, target_codes=[str(uid), *codes])
    return read


@router.get("/api/people/{uid}", response_model=PersonRead)
def read_person(
    uid: uuid.UUID,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("people.read"))],
    purpose: PurposeQuery = None,
) -> PersonRead:
    """A person in the caller's scope, identifiers masked, with their residences in scope."""
    audit.state_purpose(purpose, targets=[str(uid)])
    person = reads.get_person(session, scope=audit.scope, uid=uid, today=today_in_china())
    audit.record(session, row_count=1)
    return person


@router.post("/api/people/{uid}/reveal", response_model=RevealRead)
def reveal_person(
    uid: uuid.UUID,
    request: RevealRequest,
    session: SessionDep,
    cipher: CipherDep,
    audit: Annotated[Audited, Depends(audited("people.reveal"))],
) -> RevealRead:
    """The full ID number and phone of a person in scope, for a stated reason (a case number
    or at least 10 characters). Officers, police and admins only; always audited."""
    audit.target_codes = [str(uid)]
    audit.purpose = request.reason[:500]
    audit.scope.require_personal()
    audit.purpose = require_reason(request.reason)
    revealed = reads.reveal_person(
        session, scope=audit.scope, cipher=cipher, uid=uid, today=today_in_china()
    )
    audit.record(session, row_count=1)
    return revealed
