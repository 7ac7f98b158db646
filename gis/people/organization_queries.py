"""SQL of organizations (实有单位): one in scope, its credit code, its employees and rosters."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Date, cast, exists, func, literal, select, true, tuple_
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.orm import Session, aliased

from gis.access.scope import Scope
from gis.buildings.models import Building
from gis.houses.models import House
from gis.people.models import Employment, Organization, Person
from gis.people.occupancy_queries import building_in_grid
from gis.users.models import Role


def select_organization(
    session: Session, *, credit_code: str, scope: Scope, for_update: bool = False
) -> Organization | None:
    """An organization in scope: located at a house in scope (admins: any)."""
    clause = true() if scope.role is Role.ADMIN else scope.house_uid_clause(Organization.house_uid)
    statement = select(Organization).where(Organization.credit_code == credit_code, clause)
    if for_update:
        statement = statement.with_for_update()
    return session.scalar(statement)


def credit_code_taken(session: Session, *, credit_code: str) -> bool:
    return bool(session.scalar(select(exists().where(Organization.credit_code == credit_code))))


def select_employees(
    session: Session, *, organization_uid: uuid.UUID, on: date
) -> list[tuple[Employment, Person]]:
    """Employments of an organization covering ``on``, with their people, by name."""
    statement = (
        select(Employment, Person)
        .join(Person, Person.uid == Employment.person_uid)
        .where(
            Employment.organization_uid == organization_uid,
            Employment.period.op("@>")(cast(on, Date)),
        )
        .order_by(Person.name, Person.uid)
    )
    return [(row[0], row[1]) for row in session.execute(statement).all()]


def select_overlapping_employment(
    session: Session, *, person_uid: uuid.UUID, organization_uid: uuid.UUID, period: Range[date]
) -> Range[date] | None:
    """The period of an employment of the person at the organization overlapping ``period``."""
    return session.scalar(
        select(Employment.period)
        .where(
            Employment.person_uid == person_uid,
            Employment.organization_uid == organization_uid,
            Employment.period.op("&&")(period),
        )
        .order_by(Employment.period)
        .limit(1)
    )


def select_organization_page(
    session: Session,
    *,
    scope: Scope,
    on: date,
    building_uid: uuid.UUID | None,
    grid_code: str | None,
    after: tuple[str, uuid.UUID] | None,
    limit: int,
) -> list[Any]:
    """Organizations in scope (at a house of a building, or in a grid's version on ``on``) by
    name, with their house code and how many people they employ on ``on``; keyset by (name,
    uid)."""
    employed = (
        select(func.count())
        .where(
            Employment.organization_uid == Organization.uid,
            Employment.period.contains(cast(literal(on), Date)),
        )
        .scalar_subquery()
    )
    house = aliased(House)  # the scope's clause has a subquery of its own on houses
    statement = (
        select(Organization, house.code.label("house_code"), employed.label("employees"))
        .outerjoin(house, house.uid == Organization.house_uid)
        .where(scope.house_uid_clause(Organization.house_uid))
    )
    if building_uid is not None:
        statement = statement.where(house.building_uid == building_uid)
    if grid_code is not None:
        in_grid = select(Building.uid).where(
            Building.uid == house.building_uid, building_in_grid(grid_code, on)
        )
        statement = statement.where(exists(in_grid))
    if after is not None:
        statement = statement.where(tuple_(Organization.name, Organization.uid) > tuple_(*after))
    statement = statement.order_by(Organization.name, Organization.uid).limit(limit)
    return list(session.execute(statement))


def select_organization_name(session: Session, *, uid: uuid.UUID, scope: Scope) -> str | None:
    """The name of an organization the caller's roster lists (at a house in scope)."""
    statement = select(Organization.name).where(
        Organization.uid == uid, scope.house_uid_clause(Organization.house_uid)
    )
    return session.scalar(statement)
