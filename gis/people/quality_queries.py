"""SQL of data quality (the four rates per grid or division) and of overdue declarations and
departures. An *area* is a set of buildings: a grid's (point on surface in the grid version
valid on the date, the rule that assigns buildings to grids) or a division's (community code
prefix), one row per ``(area, building_uid)``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Date, and_, bindparam, cast, func, literal, or_, select, text
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.buildings.models import Building
from gis.grids.models import Grid
from gis.grids.queries import valid_on
from gis.houses.models import House
from gis.people.models import Declaration, Person, Residence
from gis.people.occupancy_queries import building_in_grid

# One row per (area, building): the grids in :codes valid on :on (their buildings found
# through the index of footprints).
GRID_AREAS = """
    SELECT g.code AS area, b.uid AS building_uid
    FROM grids g
    JOIN buildings b ON b.geom && g.geom AND ST_Covers(g.geom, ST_PointOnSurface(b.geom))
    WHERE g.valid_from <= :on AND (g.valid_to IS NULL OR g.valid_to > :on)
      AND g.code = ANY(CAST(:codes AS varchar[]))
"""
# One row per (area, building): every grid valid on :on; the rows GRID_AREAS would give for every
# code (a point a grid covers lies in its box and in the building's, so the boxes meet), without
# the box prefilter: with it the planner expects 72 of the demo's 5,435 buildings and makes the
# residents' joins 700,000 index probes (the rates of every grid took 13 s instead of 6.5 s).
ALL_GRID_AREAS = """
    SELECT g.code AS area, b.uid AS building_uid
    FROM grids g
    JOIN buildings b ON ST_Covers(g.geom, ST_PointOnSurface(b.geom))
    WHERE g.valid_from <= :on AND (g.valid_to IS NULL OR g.valid_to > :on)
"""
# One row per (area, building): the division :prefix, or each community under it.
DIVISION_AREAS = """
    SELECT CASE WHEN :by_community THEN b.community_code ELSE CAST(:prefix AS varchar) END
           AS area, b.uid AS building_uid
    FROM buildings b
    WHERE b.community_code LIKE :prefix || '%' AND b.district_code LIKE left(:prefix, 6) || '%'
"""

# The counts behind the rates, one row per area. Facts about residents are found for all of them
# at once, by joins with the tables that the planner answers with index probes (a grid) or
# hashes (a district): a subquery per resident or house (another holder of the ID number, the
# months in the city, a current residence) made the demo's district (694,512 residents) take
# ~11.5 s, ~6 s now (docs/benchmarks.md). The subqueries left compare by equality only, so the
# planner may hash their whole answer once instead. A CTE has no statistics (the planner takes
# 200 distinct values for any of its columns), so the rows of two CTEs are never joined (only
# their counts per area): with a nested loop over both, the 834 grids of a trial took 120 s. A
# resident is looked up in the small sets (duplicated, settled) with IN: a hash of each, made
# once.
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
current AS (
    -- the residences covering :on in the area's houses, read once for coverage and residents
    SELECT hi.area, hi.is_let, hi.is_retired, hi.district_code, r.house_uid, r.person_uid,
           r.is_primary, lower(r.period) AS since,
           -- a person has one primary residence at a time (residences_one_primary_at_a_time):
           -- only someone with a secondary one (few) can live in two houses of the area
           EXISTS (
               SELECT 1 FROM residences s
               WHERE s.person_uid = r.person_uid AND NOT s.is_primary AND s.period @> :on
           ) AS has_second_home
    FROM houses_in hi
    JOIN residences r ON r.house_uid = hi.uid AND r.period @> :on
),
coverage AS (
    SELECT let.area, let.rented_houses, coalesce(lived_in.houses, 0) AS rented_registered
    FROM (
        SELECT area, count(*) FILTER (WHERE is_let) AS rented_houses
        FROM houses_in GROUP BY area
    ) AS let
    LEFT JOIN (
        SELECT area, count(*) AS houses
        FROM (SELECT DISTINCT area, house_uid FROM current WHERE is_let) AS let_lived_in
        GROUP BY area
    ) AS lived_in USING (area)
),
residents AS (
    -- people, not residences: one living in two houses of the area (a second home) counts
    -- once, by their primary residence when it is here (only they are sorted: sorting every
    -- resident took longer than the rest)
    SELECT u.area, u.is_retired, u.person_uid, u.since, u.district_code, p.birth_date,
           p.id_number_hash, p.category
    FROM (
        SELECT area, is_retired, person_uid, since, district_code
        FROM current WHERE NOT has_second_home
        UNION ALL (
            SELECT DISTINCT ON (area, person_uid)
                   area, is_retired, person_uid, since, district_code
            FROM current WHERE has_second_home
            ORDER BY area, person_uid, is_primary DESC, since
        )
    ) AS u
    JOIN people p ON p.uid = u.person_uid
),
duplicated AS (
    -- residents whose ID number another person holds too (the resident is one of those found)
    SELECT s.area, s.person_uid
    FROM residents s JOIN people q ON q.id_number_hash = s.id_number_hash
    GROUP BY s.area, s.person_uid HAVING count(*) > 1
),
newcomers AS (
    -- non-hukou residents here for less than 6 months, who may be eligible all the same
    SELECT DISTINCT person_uid, left(district_code, 4) AS city
    FROM residents
    WHERE category <> 'hukou' AND (since + interval '6 months' <= :on) IS NOT TRUE
),
movers AS (
    -- of them, those with a primary residence that began 6 months ago or more: a stretch long
    -- enough begins with one (few: most newcomers have no other residence)
    SELECT DISTINCT n.person_uid, n.city
    FROM newcomers n
    JOIN residences c ON c.person_uid = n.person_uid AND c.is_primary
                     AND lower(c.period) + interval '6 months' <= :on
),
settled AS (
    -- eligible as for issuing: 6 months of unbroken primary residence in the city (moves
    -- inside it keep the count; months added as gis.events.permits does); range_agg joins a
    -- move's two residences, the one ending on the day the other begins
    SELECT person_uid, city
    FROM (
        SELECT m.person_uid, m.city, unnest(range_agg(c.period)) AS stretch
        FROM movers m
        JOIN residences c ON c.person_uid = m.person_uid AND c.is_primary
                         AND lower(c.period) <= :on
        JOIN houses ch ON ch.uid = c.house_uid AND ch.district_code LIKE m.city || '%'
        GROUP BY m.person_uid, m.city
    ) AS stretches
    WHERE stretch @> CAST(:on AS date) AND lower(stretch) + interval '6 months' <= :on
),
checked AS MATERIALIZED (
    -- the sets above are small: each test is one lookup in a hash of them, made once
    SELECT s.area, s.category, s.is_retired,
           s.category <> 'hukou' AND (
               s.since + interval '6 months' <= :on
               OR (s.person_uid, left(s.district_code, 4)) IN (SELECT person_uid, city FROM settled)
           ) AS permit_eligible,
           s.category <> 'hukou' AND EXISTS (
               SELECT 1 FROM residence_permits rp
               WHERE rp.person_uid = s.person_uid AND rp.issued_on <= :on
                 AND :on < least(rp.endorsed_until, rp.expires_on, rp.revoked_on)
           ) AS permit_held,
           s.id_number_hash IS NULL AND s.category <> 'overseas' AS missing_id,
           (s.area, s.person_uid) IN (SELECT area, person_uid FROM duplicated) AS duplicate_id,
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
    elif grid_codes is None:
        areas = ALL_GRID_AREAS
    else:
        areas = GRID_AREAS
        params["codes"] = list(grid_codes)
    statement = text(RATES.format(areas=areas))
    return [dict(row) for row in session.execute(statement, params).mappings()]


def current_grid_codes(session: Session, *, on: date, scope: Scope) -> list[str]:
    """Codes of the grids valid on ``on`` whose statistics the caller may see."""
    statement = (
        select(Grid.code).where(valid_on(on)).where(scope.grids_clause()).order_by(Grid.code)
    )
    return list(session.scalars(statement))


def _late_declaration(on: Any) -> list[ColumnElement[bool]]:
    """A landlord's declaration still not made after its due date, of a tenant still living
    there on ``on`` (a tenant who has left is no declaration to chase any more)."""
    return [
        Declaration.declared_at.is_(None),
        Declaration.due_on < on,
        or_(func.upper_inf(Residence.period), func.upper(Residence.period) > on),
    ]


def _departure_dates(grace_days: int) -> tuple[Any, Any]:
    """A residence's end and the last day to deregister it."""
    moved_out = func.upper(Residence.period)
    return moved_out, moved_out + literal(grace_days)


def _not_deregistered() -> list[ColumnElement[bool]]:
    """A residence that has ended and was never deregistered."""
    return [Residence.deregistered_at.is_(None), ~func.upper_inf(Residence.period)]


def _late_departure(on: Any, grace_days: int) -> list[ColumnElement[bool]]:
    """A residence that ended more than ``grace_days`` before ``on``, never deregistered."""
    _, due = _departure_dates(grace_days)
    return [*_not_deregistered(), due < on]


def _pending_departure(on: Any, grace_days: int) -> list[ColumnElement[bool]]:
    """A residence that ended by ``on``, not deregistered and still within its ``grace_days``."""
    moved_out, due = _departure_dates(grace_days)
    return [*_not_deregistered(), moved_out <= on, due >= on]


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
            *_late_declaration(on_value),
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
    moved_out, due = _departure_dates(grace_days)
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
            *(
                _pending_departure(on_value, grace_days)
                if pending
                else _late_departure(on_value, grace_days)
            ),
            building_in_grid(grid_code, on),
            scope.buildings_clause(),
        )
        .order_by(moved_out, House.code, Person.uid)
    )
    return [dict(row) for row in session.execute(statement).mappings()]


def count_overdue_per_grid(
    session: Session, *, grid_codes: Sequence[str], on: date, scope: Scope, grace_days: int = 7
) -> dict[str, tuple[int, int]]:
    """For each of ``grid_codes`` (its version valid on ``on``): how many rows
    :func:`select_overdue_declarations` and :func:`select_overdue_departures` would list, for
    all the grids in two statements (the dashboard's 100 grids took 200 list queries)."""
    on_value = bindparam("on", on, type_=Date)
    grids = (
        select(Grid.code, Grid.geom)
        .where(Grid.code.in_(sorted(grid_codes)), valid_on(on_value))
        .cte("listed_grids")
    )
    placed = (
        select(grids.c.code, Building.uid.label("building_uid"))
        .select_from(grids)
        .join(
            Building,
            and_(
                Building.geom.op("&&")(grids.c.geom),
                func.ST_Covers(grids.c.geom, func.ST_PointOnSurface(Building.geom)),
            ),
        )
        .where(scope.buildings_clause())
        .cte("placed")
    )
    declarations = (
        select(placed.c.code, func.count())
        .select_from(placed)
        .join(House, House.building_uid == placed.c.building_uid)
        .join(Declaration, Declaration.house_uid == House.uid)
        .join(Residence, Residence.uid == Declaration.residence_uid)
        .where(*_late_declaration(on_value))
        .group_by(placed.c.code)
    )
    departures = (
        select(placed.c.code, func.count())
        .select_from(placed)
        .join(House, House.building_uid == placed.c.building_uid)
        .join(Residence, Residence.house_uid == House.uid)
        .where(*_late_departure(on_value, grace_days))
        .group_by(placed.c.code)
    )
    late_declarations: dict[str, int] = dict(session.execute(declarations).all())
    late_departures: dict[str, int] = dict(session.execute(departures).all())
    return {
        code: (int(late_declarations.get(code, 0)), int(late_departures.get(code, 0)))
        for code in grid_codes
    }
