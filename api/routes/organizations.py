"""Organizations (实有单位): register one at a house, read it with its employees, employ someone."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from api.deps import SessionDep
from api.limits import DEFAULT_PAGE_SIZE, PageLimit
from api.personal import AtQuery, Audited, PurposeQuery, audited, on_date
from gis.clock import today_in_china
from gis.errors import InvalidInput
from gis.people import organizations
from gis.people.identity import normalise_credit_code
from gis.people.schemas import (
    EmployeeCreate,
    EmployeeRead,
    EmploymentEnd,
    OrganizationCreate,
    OrganizationMove,
    OrganizationPage,
    OrganizationRead,
)

router = APIRouter(prefix="/api/organizations", tags=["organizations"])

CreditCodePath = Annotated[str, Path(max_length=40, description="unified social credit code")]


@router.post("", response_model=OrganizationRead, status_code=201)
def register_organization(
    request: OrganizationCreate,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("organizations.register"))],
) -> OrganizationRead:
    """Register an organization at a house in the caller's scope (credit code checked)."""
    audit.target_codes = [audit_code(request.credit_code), request.house_code]
    organization = organizations.register_organization(session, scope=audit.scope, request=request)
    read = organizations.read_organization(
        session, scope=audit.scope, credit_code=str(organization.credit_code), on=on_date(None)
    )
    audit.record(session, row_count=0)
    return read


@router.get("", response_model=OrganizationPage)
def list_organizations(
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("organizations.list"))],
    building: Annotated[str | None, Query(max_length=40, description="a building code")] = None,
    grid: Annotated[str | None, Query(max_length=20, description="a 15-digit grid code")] = None,
    at: AtQuery = None,
    after: Annotated[uuid.UUID | None, Query(description="``next_after`` of a page")] = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    purpose: PurposeQuery = None,
) -> OrganizationPage:
    """Organizations (实有单位) at houses in scope, by name, paged (``next_after``); at a
    building's houses or in a grid (its version valid on ``at``) when given; with how many
    people each employs on ``at``."""
    audit.state_purpose(purpose, targets=[code for code in (building, grid) if code])
    page = organizations.list_organizations(
        session, scope=audit.scope, on=on_date(at), building_code=building, grid_code=grid,
        after=after, limit=limit,
    )  # fmt: skip
    audit.record(session, row_count=len(page.items))
    return page


@router.get("/{credit_code}", response_model=OrganizationRead)
def read_organization(
    credit_code: CreditCodePath,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("organizations.read"))],
    at: AtQuery = None,
    purpose: PurposeQuery = None,
) -> OrganizationRead:
    """An organization in scope and its employees on ``at`` (identifiers masked)."""
    audit.state_purpose(purpose, targets=[audit_code(credit_code)])
    read = organizations.read_organization(
        session, scope=audit.scope, credit_code=credit_code, on=on_date(at)
    )
    audit.record(session, row_count=len(read.employees))
    return read


@router.post("/{credit_code}/move", response_model=OrganizationRead)
def move_organization(
    credit_code: CreditCodePath,
    request: OrganizationMove,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("organizations.move"))],
) -> OrganizationRead:
    """The organization is at another house in scope from now on (it moved, or its building is
    to be retired)."""
    audit.target_codes = [audit_code(credit_code), request.house_code]
    organization = organizations.move_organization(
        session, scope=audit.scope, credit_code=credit_code, house_code=request.house_code
    )
    read = organizations.read_organization(
        session, scope=audit.scope, credit_code=str(organization.credit_code), on=on_date(None)
    )
    audit.record(session, row_count=len(read.employees))  # the answer names them
    return read


@router.post("/{credit_code}/employees", response_model=EmployeeRead, status_code=201)
def add_employee(
    credit_code: CreditCodePath,
    request: EmployeeCreate,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("organizations.employ"))],
) -> EmployeeRead:
    """Employ a person in scope from ``since`` (用工登记)."""
    audit.target_codes = [audit_code(credit_code), str(request.person_uid)]
    read = organizations.add_employee(
        session, scope=audit.scope, credit_code=credit_code, request=request, today=today_in_china()
    )
    audit.record(session, row_count=1)
    return read


@router.post("/{credit_code}/employees/{uid}/end", response_model=EmployeeRead)
def end_employment(
    credit_code: CreditCodePath,
    uid: uuid.UUID,
    request: EmploymentEnd,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("organizations.unemploy"))],
) -> EmployeeRead:
    """End an employment on the day the person left (离职); the record stays."""
    audit.target_codes = [audit_code(credit_code), str(uid)]
    read = organizations.end_employment(
        session, scope=audit.scope, credit_code=credit_code, employment_uid=uid,
        until=request.until, today=today_in_china(),
    )  # fmt: skip
    audit.record(session, row_count=1)
    return read


def audit_code(credit_code: str) -> str:
    """The credit code as the audit row records it: in its stored form when it is one (an
    auditor searching for ``91440300MA5F00003G`` finds the request typed in lower case or with
    a trailing space), else as typed, trimmed."""
    try:
        return normalise_credit_code(credit_code)
    except InvalidInput:
        return credit_code.strip()
