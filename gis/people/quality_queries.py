"""SQL of data quality (the four rates per grid or division) and of overdue declarations and
departures. An *area* is a set of buildings: a grid's (point on surface in the grid version
valid on the date, the rule that assigns buildings to grids) or a division's (community code
prefix), one row per ``(area, building_uid)``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Date, and_, bindparam, cast, func, literal, or_, select, text
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.buildings.models import Building
from gis.grids.models import Grid
from gis.houses.models import House
from gis.people.models import Declaration, Person, Residence
from gis.people.occupancy_queries import building_in_grid

# One row per (area, building): grids valid on :on (all of them, or those in :codes).
GRID_AREAS = """
    SELECT g.code AS area, b.uid AS building_uid
    FROM grids g
    JOIN buildings b ON b.geom && g.geom AND ST_Covers(g.geom, ST_PointOnSurface(b.geom))
    WHERE g.valid_from <= :on AND (g.valid_to IS NULL OR g.valid_to > :on)
      AND (CAST(:codes AS varchar[]) IS NULL OR g.code = ANY(CAST(:codes AS varchar[])))
"""
# One row per (area, building): the division :prefix, or each community under it.
DIVISION_AREAS = """
    SELECT CASE WHEN :by_community THEN b.community_code ELSE CAST(:prefix AS varchar) END
           AS area, b.uid AS building_uid
    FROM buildings b
    WHERE b.community_code LIKE :prefix || '%' AND b.district_code LIKE left(:prefix, 6) || '%'
"""

RATES = """
WITH area AS ({areas}),
houses_in AS (
    SELECT a.area, h.uid, h.district_code,
           h.is_rented AND h.status = 'active' AND b.status <> 'retired' AS is_let,
           h.status = 'retired' OR b.status = 'retired' AS is_retired
    FROM area a
    JOIN buildings b ON b.uid = a.building_uid
    JOIN houses h ON h.building_uid = a.building_uid
),
coverage AS (
    SELECT hi.area,
           count(*) FILTER (WHERE hi.is_let) AS rented_houses,
           count(*) FILTER (WHERE hi.is_let AND EXISTS (
               SELECT 1 FROM residences r WHERE r.house_uid = hi.uid AND r.period @> :on
           )) AS rented_registered
    FROM houses_in hi GROUP BY hi.area
),
residents AS (
    -- people, not residences: one living in two houses of the area (a second home) counts
    -- once, by their primary residence when it is here
    SELECT DISTINCT ON (hi.area, r.person_uid)
           hi.area, hi.is_retired, r.person_uid, lower(r.period) AS since, p.birth_date,
           p.id_number_hash, p.category, hi.district_code
    FROM houses_in hi
    JOIN residences r ON r.house_uid = hi.uid AND r.period @> :on
    JOIN people p ON p.uid = r.person_uid
    ORDER BY hi.area, r.person_uid, r.is_primary DESC, lower(r.period)
),
checked AS MATERIALIZED (
    SELECT s.area, s.category, s.is_retired,
           -- eligible as for issuing: 6 months of unbroken primary residence in the city
           -- (moves inside it keep the count; months added as gis.events.permits does)
           s.category <> 'hukou' AND (
               s.since + interval '6 months' <= :on
               OR (
                   SELECT lower(stretch) + interval '6 months' <= :on
                   FROM unnest((
                       SELECT range_agg(c.period)
                       FROM residences c JOIN houses ch ON ch.uid = c.house_uid
                       WHERE c.person_uid = s.person_uid AND c.is_primary
                         AND ch.district_code LIKE left(s.district_code, 4) || '%'
                         AND lower(c.period) <= :on
                   )) AS stretch
                   WHERE stretch @> CAST(:on AS date)
               )
           ) AS permit_eligible,
           s.category <> 'hukou' AND EXISTS (
               SELECT 1 FROM residence_permits rp
               WHERE rp.person_uid = s.person_uid AND rp.issued_on <= :on
                 AND :on < least(rp.endorsed_until, rp.expires_on, rp.revoked_on)
           ) AS permit_held,
           s.id_number_hash IS NULL AND s.category <> 'overseas' AS missing_id,
           s.id_number_hash IS NOT NULL AND EXISTS (
               SELECT 1 FROM people q
               WHERE q.id_number_hash = s.id_number_hash AND q.uid <> s.person_uid
           ) AS duplicate_id,
           s.birth_date IS NOT NULL AND (
               s.birth_date > :on OR s.birth_date < CAST(:on AS date) - 120 * 365
               OR s.since < s.birth_date
           ) AS impossible_dates
    FROM residents s
),
accuracy AS (
    SELECT area, count(*) AS residents,
           count(*) FILTER (WHERE category = 'floating') AS floating,
           count(*) FILTER (WHERE missing_id) AS missing_id,
           count(*) FILTER (WHERE duplicate_id) AS duplicate_id,
           count(*) FILTER (WHERE impossible_dates) AS impossible_dates,
           count(*) FILTER (WHERE is_retired) AS in_retired,
           count(*) FILTER (WHERE permit_eligible OR permit_held) AS permit_eligible,
           count(*) FILTER (WHERE permit_held) AS permit_held,
           count(*) FILTER (WHERE missing_id OR duplicate_id OR impossible_dates OR is_retired)
               AS with_problems
    FROM checked GROUP BY area
),
departures AS (
    SELECT hi.area, count(*) AS departures,
           count(*) FILTER (
               WHERE r.deregistered_at IS NULL
                  OR CAST(r.deregistered_at AT TIME ZONE 'Asia/Shanghai' AS date)
                     > upper(r.period) + :grace_days
           ) AS late
    FROM houses_in hi
    JOIN residences r ON r.house_uid = hi.uid
    WHERE NOT upper_inf(r.period)
      -- departures whose 7 days are over (the last day to deregister is upper + 7)
      AND upper(r.period) BETWEEN CAST(:on AS date) - :window_days
                              AND CAST(:on AS date) - :grace_days - 1
    GROUP BY hi.area
)
SELECT c.area, c.rented_houses, c.rented_registered,
       coalesce(a.residents, 0) AS residents, coalesce(a.floating, 0) AS floating,
       coalesce(a.missing_id, 0) AS missing_id, coalesce(a.duplicate_id, 0) AS duplicate_id,
       coalesce(a.impossible_dates, 0) AS impossible_dates,
       coalesce(a.in_retired, 0) AS in_retired, coalesce(a.with_problems, 0) AS with_problems,
       coalesce(a.permit_eligible, 0) AS permit_eligible,
       coalesce(a.permit_held, 0) AS permit_held,
       coalesce(d.departures, 0) AS departures, coalesce(d.late, 0) AS late_departures
FROM coverage c
LEFT JOIN accuracy a USING (area)
LEFT JOIN departures d USING (area)
ORDER BY c.area
"""


def select_rates(
    session: Session,
    *,
    on: date,
    grid_codes: Sequence[str] | None = None,
    division_prefix: str | None = None,
    by_community: bool = False,
    grace_days: int = 7,
    window_days: int = 365,
) -> list[dict[str, Any]]:
    """The counts behind the four rates, one row per area: grids (all valid on ``on``, or
    ``grid_codes``) or a division (or each community under it)."""
    params: dict[str, Any] = {"on": on, "grace_days": grace_days, "window_days": window_days}
    if division_prefix is not None:
        areas = DIVISION_AREAS
        params |= {"prefix": division_prefix, "by_community": by_community}
    else:
        areas = GRID_AREAS
        params["codes"] = list(grid_codes) if grid_codes is not None else None
    statement = text(RATES.format(areas=areas))
    return [dict(row) for row in session.execute(statement, params).mappings()]


def current_grid_codes(session: Session, *, on: date, scope: Scope) -> list[str]:
    """Codes of the grids valid on ``on`` whose statistics the caller may see."""
    statement = (
        select(Grid.code)
        .where(Grid.valid_from <= on, or_(Grid.valid_to.is_(None), Grid.valid_to > on))
        .where(scope.grids_clause())
        .order_by(Grid.code)
    )
    return list(session.scalars(statement))


def select_overdue_declarations(
    session: Session, *, grid_code: str, on: date, scope: Scope
) -> list[dict[str, Any]]:
    """Landlord declarations still not made after their due date, of tenants still living in
    the grid's buildings on ``on``."""
    on_value = bindparam("on", on, type_=Date)
    statement = (
        select(
            House.code.label("house_code"),
            Declaration.residence_uid,
            Person.uid.label("person_uid"),
            Person.name,
            Person.id_number_masked.label("id_number"),
            Declaration.moved_in,
            Declaration.due_on,
            (on_value - Declaration.due_on).label("days_late"),
        )
        .join(House, House.uid == Declaration.house_uid)
        .join(Building, Building.uid == House.building_uid)
        .join(Person, Person.uid == Declaration.person_uid)
        .join(Residence, Residence.uid == Declaration.residence_uid)
        .where(
            Declaration.declared_at.is_(None),
            Declaration.due_on < on_value,
            # a tenant who has left is no declaration to chase any more
            or_(func.upper_inf(Residence.period), func.upper(Residence.period) > on_value),
            building_in_grid(grid_code, on),
            scope.buildings_clause(),
        )
        .order_by(Declaration.due_on, House.code, Person.uid)
    )
    return [dict(row) for row in session.execute(statement).mappings()]


def select_overdue_departures(
    session: Session,
    *,
    grid_code: str,
    on: date,
    scope: Scope,
    grace_days: int = 7,
    pending: bool = False,
) -> list[dict[str, Any]]:
    """Residences that ended (or were due to end) more than ``grace_days`` ago and were never
    deregistered, in the grid's buildings; with ``pending``, those that ended by ``on`` and are
    still within the ``grace_days`` (``days_late`` 0 or less)."""
    on_value = bindparam("on", on, type_=Date)
    moved_out = func.upper(Residence.period)
    due = moved_out + literal(grace_days)
    statement = (
        select(
            House.code.label("house_code"),
            Residence.uid.label("residence_uid"),
            Person.uid.label("person_uid"),
            Person.name,
            Person.id_number_masked.label("id_number"),
            cast(moved_out, Date).label("moved_out"),
            cast(due, Date).label("due_on"),
            (on_value - due).label("days_late"),
        )
        .join(House, House.uid == Residence.house_uid)
        .join(Building, Building.uid == House.building_uid)
        .join(Person, Person.uid == Residence.person_uid)
        .where(
            Residence.deregistered_at.is_(None),
            ~func.upper_inf(Residence.period),
            and_(moved_out <= on_value, due >= on_value) if pending else due < on_value,
            building_in_grid(grid_code, on),
            scope.buildings_clause(),
        )
        .order_by(moved_out, House.code, Person.uid)
    )
    return [dict(row) for row in session.execute(statement).mappings()]
