"""Use cases of organizations (实有单位): register one at a house, read it with its employees,
add an employee over a period. Credit codes are checked (GB 32100) before anything is stored."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.buildings.service import get_building
from gis.codes import parse_grid_code
from gis.errors import Conflict, InvalidInput, NotFound
from gis.people import organization_queries, queries
from gis.people.identity import normalise_credit_code, normalise_name
from gis.people.models import Employment, Organization, Person
from gis.people.occupancy_queries import select_grid_in_scope
from gis.people.periods import checked_date, checked_past_date, describe_period, make_period
from gis.people.schemas import (
    EmployeeCreate,
    EmployeeRead,
    OrganizationCreate,
    OrganizationPage,
    OrganizationRead,
    OrganizationSummary,
)
from gis.people.service import live_house
from gis.users.models import Role


def _organization(
    session: Session, *, credit_code: str, scope: Scope, for_update: bool = False
) -> Organization:
    code = normalise_credit_code(credit_code)
    organization = organization_queries.select_organization(
        session, credit_code=code, scope=scope, for_update=for_update
    )
    if organization is None:
        raise NotFound(f"no organization has the credit code {code}", field="credit_code")
    return organization


def register_organization(
    session: Session, *, scope: Scope, request: OrganizationCreate
) -> Organization:
    """An organization located at a house in the caller's scope; one per credit code."""
    scope.require_role(Role.OFFICER, Role.ADMIN)
    name = normalise_name(request.name, max_length=200)
    code = normalise_credit_code(request.credit_code)
    house = live_house(session, code=request.house_code, scope=scope)
    if organization_queries.credit_code_taken(session, credit_code=code):
        raise Conflict(f"an organization with the credit code {code} exists", field="credit_code")
    organization = Organization(
        uid=uuid.uuid4(),
        name=name,
        credit_code=code,
        kind=(request.kind or "").strip() or None,
        house_uid=house.uid,
        district_code=house.district_code,
    )
    session.add(organization)
    session.flush()
    return organization


def move_organization(
    session: Session, *, scope: Scope, credit_code: str, house_code: str
) -> Organization:
    """The organization is at another live house (both in the caller's scope) from now on: it
    moved, or its building is to be retired."""
    scope.require_role(Role.OFFICER, Role.ADMIN)
    organization = _organization(session, credit_code=credit_code, scope=scope, for_update=True)
    house = live_house(session, code=house_code, scope=scope)
    if house.uid == organization.house_uid:
        raise Conflict("the organization is already at this house", field="house_code")
    organization.house_uid = house.uid
    organization.district_code = house.district_code
    session.flush()
    return organization


def add_employee(
    session: Session, *, scope: Scope, credit_code: str, request: EmployeeCreate, today: date
) -> EmployeeRead:
    """Employ a person in scope from ``since`` (until ``until``); their employer is updated
    when the employment is current (it covers ``today``, China's date: begun, and ending after
    today or not at all). An employment is recorded once it began, not before the person was
    born, and not twice: a period overlapping one of the same person at the same
    organization is a Conflict (the organization's row is locked, so two requests at once
    cannot both pass)."""
    scope.require_role(Role.OFFICER, Role.ADMIN)
    organization = _organization(session, credit_code=credit_code, scope=scope, for_update=True)
    person = queries.select_person(session, uid=request.person_uid, scope=scope)
    if person is None:
        raise NotFound(f"no person {request.person_uid}", field="person_uid")
    born = ("person's birth", person.birth_date) if person.birth_date else None
    since = checked_past_date(
        request.since, today=today, field="since", what="an employment", since=born
    )
    until = checked_date(request.until, field="until") if request.until else None
    period = make_period(since, until, field="until", start_name="start of the employment")
    held = organization_queries.select_overlapping_employment(
        session, person_uid=person.uid, organization_uid=organization.uid, period=period
    )
    if held is not None:
        raise Conflict(
            f"the person is already employed here over {describe_period(held)}, which "
            f"overlaps {describe_period(period)}",
            field="since",
        )
    employment = Employment(
        uid=uuid.uuid4(),
        person_uid=person.uid,
        organization_uid=organization.uid,
        period=period,
        position=(request.position or "").strip() or None,
    )
    session.add(employment)
    if until is None or until > today:
        person.employer_uid = organization.uid
    session.flush()
    return employee_read(employment, person.name, person.id_number_masked)


def end_employment(
    session: Session,
    *,
    scope: Scope,
    credit_code: str,
    employment_uid: uuid.UUID,
    until: date,
    today: date,
) -> EmployeeRead:
    """End an employment on the day the person left (not in the future, after it began); the
    record stays. The person's employer is cleared when it was this organization."""
    scope.require_role(Role.OFFICER, Role.ADMIN)
    organization = _organization(session, credit_code=credit_code, scope=scope, for_update=True)
    employment = session.get(Employment, employment_uid, with_for_update=True)
    if employment is None or employment.organization_uid != organization.uid:
        raise NotFound(f"no employment {employment_uid} at this organization", field="uid")
    lower = employment.period.lower
    assert lower is not None
    if employment.period.upper is not None and employment.period.upper <= today:
        raise Conflict(f"the employment ended on {employment.period.upper}", field="uid")
    checked_past_date(until, today=today, field="until", what="the end of an employment")
    employment.period = make_period(
        lower, until, field="until", start_name="start of the employment"
    )
    person = session.get(Person, employment.person_uid)
    assert person is not None
    if person.employer_uid == organization.uid:
        person.employer_uid = None
    session.flush()
    return employee_read(employment, person.name, person.id_number_masked)


def read_organization(
    session: Session, *, scope: Scope, credit_code: str, on: date
) -> OrganizationRead:
    """An organization in scope with its employees on ``on`` (identifiers masked)."""
    scope.require_personal()
    organization = _organization(session, credit_code=credit_code, scope=scope)
    house_codes = (
        queries.select_house_codes(session, uids=[organization.house_uid])
        if organization.house_uid
        else {}
    )
    employees = [
        employee_read(employment, person.name, person.id_number_masked)
        for employment, person in organization_queries.select_employees(
            session, organization_uid=organization.uid, on=on
        )
    ]
    return OrganizationRead(
        uid=organization.uid,
        name=organization.name,
        credit_code=organization.credit_code,
        kind=organization.kind,
        house_code=house_codes.get(organization.house_uid) if organization.house_uid else None,
        employees=employees,
    )


def list_organizations(
    session: Session,
    *,
    scope: Scope,
    on: date,
    building_code: str | None = None,
    grid_code: str | None = None,
    after: uuid.UUID | None = None,
    limit: int = 100,
) -> OrganizationPage:
    """Organizations at houses in scope (admins: every one), by name, a page at a time; under
    a building or a grid (its version valid on ``on``) when given, with how many people each
    employs on ``on``."""
    scope.require_personal()
    if building_code is not None and grid_code is not None:
        raise InvalidInput("give building or grid, not both", field="grid")
    building_uid = None
    if building_code is not None:
        building_uid = get_building(session, code=building_code, scope=scope, field="building").uid
    code = None
    if grid_code is not None:
        code = parse_grid_code(grid_code, field="grid")
        if select_grid_in_scope(session, code=code, on=on, scope=scope) is None:
            raise NotFound(f"no grid {code} on {on} in your scope", field="grid")
    mark = None
    if after is not None:
        name = organization_queries.select_organization_name(session, uid=after, scope=scope)
        if name is None:
            raise NotFound(f"no organization {after}", field="after")
        mark = (name, after)
    rows = organization_queries.select_organization_page(
        session, scope=scope, on=on, building_uid=building_uid, grid_code=code,
        after=mark, limit=limit,
    )  # fmt: skip
    items = [
        OrganizationSummary(
            uid=row.Organization.uid,
            name=row.Organization.name,
            credit_code=row.Organization.credit_code,
            kind=row.Organization.kind,
            house_code=row.house_code,
            employees=int(row.employees),
        )
        for row in rows
    ]
    return OrganizationPage(items=items, next_after=items[-1].uid if len(items) == limit else None)


def employee_read(employment: Employment, name: str, id_number_masked: str | None) -> EmployeeRead:
    assert employment.period.lower is not None
    return EmployeeRead(
        uid=employment.uid,
        person_uid=employment.person_uid,
        name=name,
        id_number=id_number_masked,
        since=employment.period.lower,
        until=employment.period.upper,
        position=employment.position,
    )
