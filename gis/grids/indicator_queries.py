"""SQL of grid indicators: buildings, houses, households, residents and more per grid, on a date.

A building belongs to the grid that covers its ``ST_PointOnSurface`` (DESIGN §6), joined at query
time so the answer is always current and as-of aware: ``buildings.geom && grid.geom`` narrows the
candidates through the buildings' GiST index first. Houses follow their building, residents their
house (residences whose period contains the date), organizations their house.

Plans measure their grids from a snapshot of these counts instead (``snapshot_queries``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

LARGE_RENTAL_ROOMS = 15
"""A building with this many rented rooms (houses' ``rooms``, 1 when unknown) is a large rental."""

# The body after the CTE ``g(key, code, geom, unchanged)`` of the grids measured (``moved``:
# the building's open live grid is not ``g.code``); constant SQL joined at import time.
_BODY = """
, b AS (
    SELECT g.key, b.uid,
           CASE WHEN g.unchanged THEN false ELSE (
               SELECT lg.code FROM grids lg
               WHERE lg.valid_to IS NULL AND lg.geom && b.geom
                 AND ST_Covers(lg.geom, ST_PointOnSurface(b.geom))
               ORDER BY lg.code LIMIT 1
           ) IS DISTINCT FROM g.code END AS moved
    FROM g JOIN buildings b
      ON b.geom && g.geom AND ST_Covers(g.geom, ST_PointOnSurface(b.geom))
    WHERE b.status <> 'retired'
), h AS (
    SELECT b.key, b.moved, h.uid, h.building_uid, h.is_rented,
           h.use IN ('residential', 'mixed', 'dorm') AS is_dwelling, coalesce(h.rooms, 1) AS rooms
    FROM b JOIN houses h ON h.building_uid = b.uid
    WHERE h.status = 'active'
), r AS (
    SELECT h.key, h.moved, r.house_uid, r.person_uid, p.category, p.is_key_person
    FROM h
    JOIN residences r ON r.house_uid = h.uid AND r.period @> CAST(:on AS date)
    JOIN people p ON p.uid = r.person_uid
), bc AS (
    SELECT key, count(*) AS buildings, count(*) FILTER (WHERE moved) AS moved_buildings
    FROM b GROUP BY key
), hc AS (
    SELECT key, count(*) AS houses,
           count(*) FILTER (WHERE is_dwelling) AS dwellings,
           count(*) FILTER (WHERE is_dwelling AND moved) AS moved_dwellings,
           count(*) FILTER (WHERE is_rented) AS rented_houses
    FROM h GROUP BY key
), lc AS (
    SELECT key, count(*) AS large_rentals FROM (
        SELECT key, building_uid FROM h WHERE is_rented
        GROUP BY key, building_uid HAVING sum(rooms) >= :large_rooms
    ) large GROUP BY key
), rc AS (
    SELECT key,
           count(DISTINCT house_uid) AS households,
           count(DISTINCT house_uid) FILTER (WHERE moved) AS moved_households,
           count(DISTINCT person_uid) AS residents,
           count(DISTINCT person_uid) FILTER (WHERE moved) AS moved_residents,
           count(DISTINCT person_uid) FILTER (WHERE category = 'floating') AS floating,
           count(DISTINCT person_uid) FILTER (WHERE is_key_person) AS key_persons
    FROM r GROUP BY key
), oc AS (
    SELECT h.key, count(*) AS organizations
    FROM h JOIN organizations o ON o.house_uid = h.uid GROUP BY h.key
)
SELECT g.key,
       coalesce(bc.buildings, 0) AS buildings,
       coalesce(bc.moved_buildings, 0) AS moved_buildings,
       coalesce(hc.houses, 0) AS houses,
       coalesce(hc.dwellings, 0) AS dwellings,
       coalesce(hc.moved_dwellings, 0) AS moved_dwellings,
       coalesce(hc.rented_houses, 0) AS rented_houses,
       coalesce(lc.large_rentals, 0) AS large_rentals,
       coalesce(rc.households, 0) AS households,
       coalesce(rc.moved_households, 0) AS moved_households,
       coalesce(rc.residents, 0) AS residents,
       coalesce(rc.moved_residents, 0) AS moved_residents,
       coalesce(rc.floating, 0) AS floating,
       coalesce(rc.key_persons, 0) AS key_persons,
       coalesce(oc.organizations, 0) AS organizations
FROM g
LEFT JOIN bc ON bc.key = g.key
LEFT JOIN hc ON hc.key = g.key
LEFT JOIN lc ON lc.key = g.key
LEFT JOIN rc ON rc.key = g.key
LEFT JOIN oc ON oc.key = g.key
"""

_LIVE_GRIDS = """
    WITH g AS (
        SELECT uid::text AS key, code, geom, true AS unchanged
        FROM grids WHERE uid = ANY(CAST(:keys AS uuid[]))
    )
"""
_LIVE = text(_LIVE_GRIDS + _BODY)

_HAS_RESIDENCES = text(
    """
    SELECT EXISTS (
        SELECT 1 FROM residences r JOIN houses h ON h.uid = r.house_uid
        WHERE h.district_code = :district
    )
    """
)


def measure_live(session: Session, *, uids: Sequence[Any], on: date) -> dict[str, dict[str, int]]:
    """Raw counts per live grid version (keyed by uid as text)."""
    return _measure(session, _LIVE, [str(uid) for uid in uids], on)


def _measure(session: Session, statement: Any, keys: list[Any], on: date) -> dict[str, Any]:
    if not keys:
        return {}
    rows = session.execute(
        statement, {"keys": keys, "on": on, "large_rooms": LARGE_RENTAL_ROOMS}
    ).mappings()
    return {str(row["key"]): dict(row) for row in rows}


def district_has_residences(session: Session, *, district_code: str) -> bool:
    """Whether any residence is registered in a house of the district (else households are
    estimated from dwellings)."""
    return bool(session.scalar(_HAS_RESIDENCES, {"district": district_code}))
