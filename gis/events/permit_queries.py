"""SQL of residence permits: a person's registered residence in a city, permits in scope, and
permits due for endorsement or expiry per grid."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import exists, or_, select, text
from sqlalchemy.orm import Session, aliased

from gis.access.scope import Scope
from gis.events.models import PERMIT_NUMBERS, ResidencePermit
from gis.houses.models import House
from gis.people.models import Person, Residence

_CITY_PERIODS = text(
    """
    SELECT lower(r.period) AS since, upper(r.period) AS until
    FROM residences r JOIN houses h ON h.uid = r.house_uid
    WHERE r.person_uid = :person AND r.is_primary AND h.district_code LIKE :city || '%'
      AND lower(r.period) <= :on
    ORDER BY lower(r.period)
    """
)


def select_city_periods(
    session: Session, *, person_uid: uuid.UUID, city: str, on: date
) -> list[tuple[date, date | None]]:
    """The person's primary residences in houses of the city (4-digit prefix) begun by ``on``."""
    rows = session.execute(_CITY_PERIODS, {"person": person_uid, "city": city, "on": on})
    return [(row.since, row.until) for row in rows]


def select_current_residence(
    session: Session, *, person_uid: uuid.UUID, on: date, scope: Scope
) -> tuple[Person, House] | None:
    """The person and the house of their primary residence on ``on``, when that house is in
    the caller's scope."""
    row = session.execute(
        select(Person, House)
        .join(Residence, Residence.person_uid == Person.uid)
        .join(House, House.uid == Residence.house_uid)
        .where(
            Person.uid == person_uid,
            Residence.is_primary,
            Residence.period.contains(on),
            scope.houses_clause(),
        )
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def select_permit(
    session: Session, *, number: str, scope: Scope, today: date, for_update: bool = False
) -> tuple[ResidencePermit, Person, House] | None:
    """A permit in scope, with its holder and the house it was issued at: that house is in
    scope, or the holder's primary residence today is (a holder who moved inside the city is
    the new grid's, as in the reminders)."""
    house = aliased(House)  # the scope's clauses have subqueries of their own on houses
    lives_here = exists(
        select(Residence.uid).where(
            Residence.person_uid == ResidencePermit.person_uid,
            Residence.is_primary,
            Residence.period.contains(today),
            scope.house_uid_clause(Residence.house_uid),
        )
    )
    statement = (
        select(ResidencePermit, Person, house)
        .join(Person, Person.uid == ResidencePermit.person_uid)
        .join(house, house.uid == ResidencePermit.house_uid)
        .where(ResidencePermit.number == number, or_(scope.houses_clause(house), lives_here))
    )
    if for_update:
        statement = statement.with_for_update(of=ResidencePermit)
    row = session.execute(statement).first()
    return (row[0], row[1], row[2]) if row else None


def lock_person(session: Session, *, person_uid: uuid.UUID) -> None:
    """Hold the person's row until the transaction ends (permits are issued one at a time)."""
    session.execute(select(Person.uid).where(Person.uid == person_uid).with_for_update())


def select_overlapping_permit(
    session: Session, *, person_uid: uuid.UUID, start: date, end: date, excluding: str = ""
) -> tuple[str, date, date] | None:
    """A permit of the person other than ``excluding`` valid at some time in ``[start, end)``
    (``least`` skips a NULL ``revoked_on``): its number and the period it is valid for, or
    ``None``."""
    row = session.execute(
        text(
            """
            SELECT number, issued_on, least(endorsed_until, expires_on, revoked_on) AS valid_until
            FROM residence_permits
            WHERE person_uid = :person AND number <> :excluding
              AND issued_on < :end AND :start < least(endorsed_until, expires_on, revoked_on)
            ORDER BY issued_on
            LIMIT 1
            """
        ),
        {"person": person_uid, "start": start, "end": end, "excluding": excluding},
    ).first()
    return None if row is None else (row.number, row.issued_on, row.valid_until)


def next_permit_sequence(session: Session) -> int:
    return int(session.scalar(select(PERMIT_NUMBERS.next_value())) or 0)


_REMINDERS = text(
    """
    WITH g AS (
        SELECT geom FROM grids
        WHERE code = :grid AND valid_from <= :on AND (valid_to IS NULL OR valid_to > :on)
    ), holders AS (
        SELECT DISTINCT ON (p.uid) p.uid AS permit_uid, h.code AS house_code
        FROM residence_permits p
        JOIN residences r ON r.person_uid = p.person_uid AND r.is_primary AND r.period @> :on
        JOIN houses h ON h.uid = r.house_uid
        JOIN buildings b ON b.uid = h.building_uid
        JOIN g ON b.geom && g.geom AND ST_Covers(g.geom, ST_PointOnSurface(b.geom))
        WHERE p.issued_on <= :on
          AND :on < least(p.endorsed_until, p.expires_on, p.revoked_on)
          AND least(p.endorsed_until, p.expires_on) <= CAST(:on AS date) + :within
        ORDER BY p.uid
    )
    SELECT p.number, p.person_uid, pe.name, holders.house_code,
           CASE WHEN p.expires_on <= p.endorsed_until THEN 'expiry' ELSE 'endorsement' END
               AS due,
           least(p.endorsed_until, p.expires_on) AS due_on
    FROM holders
    JOIN residence_permits p ON p.uid = holders.permit_uid
    JOIN people pe ON pe.uid = p.person_uid
    ORDER BY due_on, p.number
    """
)


def select_reminders(
    session: Session, *, grid_code: str, on: date, within_days: int
) -> list[dict[str, Any]]:
    """Valid permits of people living in the grid on ``on`` whose endorsement or expiry falls
    within ``within_days`` days (the caller checked the grid is in scope)."""
    rows = session.execute(_REMINDERS, {"grid": grid_code, "on": on, "within": within_days})
    return [dict(row) for row in rows.mappings()]
