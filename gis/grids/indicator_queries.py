"""SQL of grid indicators: buildings, houses, households, residents and more per grid, on a date.

A building belongs to the grid that covers its ``ST_PointOnSurface`` (DESIGN §6), found at query
time so the answer is always current and as-of aware: PostGIS computes the points of the live
buildings within the grids' bounds (:func:`select_building_points`), ``gis.grids.indicators``
puts them in their grids (shapely). Houses follow their building, residents their house
(residences whose period contains the date), organizations their house. Every grid asked for is
counted in one pass (a whole district at once when classifying), never grid by grid.

Plans measure their grids from a snapshot of these counts instead (``snapshot_queries``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import text
from sqlalchemy.orm import Session

LARGE_RENTAL_ROOMS = 15
"""A building with this many rented rooms (houses' ``rooms``, 1 when unknown) is a large rental."""
DISTRICT_WORK_MEM = "256MB"
"""Memory for the hash joins and aggregates of a district's count (the people, residences and
houses of 100,000 buildings fit): with less, the planner walks them in index order instead."""

_GRID_SHAPES = text(
    "SELECT uid::text, ST_AsBinary(geom) FROM grids WHERE uid = ANY(CAST(:keys AS uuid[]))"
)
_BUILDING_POINTS = text(
    """
    SELECT string_agg(uid, ','), string_agg(ST_X(pt)::text, ','), string_agg(ST_Y(pt)::text, ',')
    FROM (
        SELECT DISTINCT ON (b.uid) b.uid::text AS uid, ST_PointOnSurface(b.geom) AS pt
        FROM unnest(CAST(:min_x AS float8[]), CAST(:min_y AS float8[]),
                    CAST(:max_x AS float8[]), CAST(:max_y AS float8[])) AS e(x0, y0, x1, y1)
        JOIN buildings b ON b.geom && ST_MakeEnvelope(e.x0, e.y0, e.x1, e.y1, 4490)
        WHERE b.status <> 'retired'
        ORDER BY b.uid
    ) found
    """
)
"""The points on surface of the live buildings whose footprint meets one of some boxes, each
computed once (a spatial join computed it again for every grid whose box a footprint meets, and
probed the index once per grid: 2.7 s for 2,000 grids of 100,000 buildings, 7 s for 11,000); as
three texts (100,000 rows decoded one by one cost more than computing them; a float's text is
exact in PostgreSQL 12 and later)."""

# The counts of live grids, given the (grid index, building) pairs as two arrays: unnesting
# bound arrays tells the planner how many buildings there are, so a district is counted with
# hash joins over whole tables and one grid with index lookups (a spatial join in the same
# statement is estimated at a handful of rows, which sends a district through millions of index
# probes). Residents are summed per house (a household), then per grid, in one pass over the
# residences; only the floating and key persons among them are looked up in ``people`` (40% of
# the people hashed instead of all). People are counted once per grid by taking off the extra
# residences of a person in one grid, found among the people with a secondary residence: a
# person has one primary residence at a time (the residences_one_primary_at_a_time
# constraint), so anyone living in two houses on a date has a non-primary residence then.
_LIVE = text(
    """
    WITH bg AS (
        SELECT * FROM unnest(CAST(string_to_array(:grids, ',') AS int[]),
                             CAST(string_to_array(:buildings, ',') AS uuid[]))
            AS bg(grid, building_uid)
    ), hs AS MATERIALIZED (
        SELECT bg.grid, h.uid, h.building_uid, h.is_rented,
               h.use IN ('residential', 'mixed', 'dorm') AS is_dwelling,
               coalesce(h.rooms, 1) AS rooms
        FROM bg JOIN houses h ON h.building_uid = bg.building_uid
        WHERE h.status = 'active'
    ), rh AS (
        SELECT hs.grid, count(*) AS residents,
               count(p.uid) FILTER (WHERE p.category = 'floating') AS floating,
               count(p.uid) FILTER (WHERE p.is_key_person) AS key_persons
        FROM hs
        JOIN residences r ON r.house_uid = hs.uid AND r.period @> CAST(:on AS date)
        LEFT JOIN people p
          ON p.uid = r.person_uid AND (p.category = 'floating' OR p.is_key_person)
        GROUP BY hs.grid, r.house_uid
    ), rc AS (
        SELECT grid, count(*) AS households, sum(residents) AS residents,
               sum(floating) AS floating, sum(key_persons) AS key_persons
        FROM rh GROUP BY grid
    ), twice AS (
        SELECT DISTINCT person_uid FROM residences
        WHERE NOT is_primary AND period @> CAST(:on AS date)
    ), extra AS (
        SELECT grid, sum(n - 1) AS residents,
               coalesce(sum(n - 1) FILTER (WHERE floating), 0) AS floating,
               coalesce(sum(n - 1) FILTER (WHERE key_person), 0) AS key_persons
        FROM (
            SELECT hs.grid, r.person_uid, count(*) AS n,
                   bool_or(p.category = 'floating') AS floating,
                   bool_or(p.is_key_person) AS key_person
            FROM twice
            JOIN residences r ON r.person_uid = twice.person_uid
                             AND r.period @> CAST(:on AS date)
            JOIN hs ON hs.uid = r.house_uid
            JOIN people p ON p.uid = r.person_uid
            GROUP BY hs.grid, r.person_uid HAVING count(*) > 1
        ) repeated GROUP BY grid
    ), bc AS (
        SELECT grid, count(*) AS buildings FROM bg GROUP BY grid
    ), hc AS (
        SELECT grid, count(*) AS houses, count(*) FILTER (WHERE is_dwelling) AS dwellings,
               count(*) FILTER (WHERE is_rented) AS rented_houses
        FROM hs GROUP BY grid
    ), lc AS (
        SELECT grid, count(*) AS large_rentals FROM (
            SELECT grid, building_uid FROM hs WHERE is_rented
            GROUP BY grid, building_uid HAVING sum(rooms) >= :large_rooms
        ) large GROUP BY grid
    ), oc AS (
        SELECT hs.grid, count(*) AS organizations
        FROM hs JOIN organizations o ON o.house_uid = hs.uid GROUP BY hs.grid
    )
    SELECT bc.grid, bc.buildings,
           coalesce(hc.houses, 0) AS houses,
           coalesce(hc.dwellings, 0) AS dwellings,
           coalesce(hc.rented_houses, 0) AS rented_houses,
           coalesce(lc.large_rentals, 0) AS large_rentals,
           coalesce(rc.households, 0) AS households,
           coalesce(rc.residents, 0) - coalesce(extra.residents, 0) AS residents,
           coalesce(rc.floating, 0) - coalesce(extra.floating, 0) AS floating,
           coalesce(rc.key_persons, 0) - coalesce(extra.key_persons, 0) AS key_persons,
           coalesce(oc.organizations, 0) AS organizations
    FROM bc
    LEFT JOIN hc ON hc.grid = bc.grid
    LEFT JOIN lc ON lc.grid = bc.grid
    LEFT JOIN rc ON rc.grid = bc.grid
    LEFT JOIN extra ON extra.grid = bc.grid
    LEFT JOIN oc ON oc.grid = bc.grid
    """
)
# for this transaction only (set_config's third argument); the previous value is put back after
_WORK_MEM = text("SELECT current_setting('work_mem')")
_SET_WORK_MEM = text("SELECT set_config('work_mem', :value, true)")
_STORE_CLASSES = text(
    """
    UPDATE grids g
    SET "class" = v.grid_class, class_explanation = v.explanation,
        indicators = v.indicators, classified_on = v.classified_on
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS v(
        uid uuid, grid_class text, explanation jsonb, indicators jsonb, classified_on date)
    WHERE g.uid = v.uid
    """
)
COUNTS = (
    "buildings",
    "houses",
    "dwellings",
    "rented_houses",
    "large_rentals",
    "households",
    "residents",
    "floating",
    "key_persons",
    "organizations",
)
NOT_MOVED = ("moved_buildings", "moved_dwellings", "moved_households", "moved_residents")

# a subquery per residence until the first one in the district (as a join, the planner sizes a
# memo cache for every house of the city first: 15 ms before the first row)
_HAS_RESIDENCES = text(
    """
    SELECT EXISTS (
        SELECT 1 FROM residences r
        WHERE (SELECT h.district_code FROM houses h WHERE h.uid = r.house_uid) = :district
    )
    """
)


def select_grid_shapes(session: Session, *, keys: Sequence[str]) -> dict[str, bytes]:
    """uid (text) → WKB of grid versions."""
    rows = session.execute(_GRID_SHAPES, {"keys": list(keys)})
    return {uid: bytes(wkb) for uid, wkb in rows}


def select_building_points(
    session: Session, *, boxes: Sequence[tuple[float, float, float, float]]
) -> tuple[list[str], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """uids (text) and points on surface (x, y) of the live buildings whose footprint meets one
    of ``boxes`` (``(min_x, min_y, max_x, max_y)`` each), each building once."""
    columns = list(zip(*boxes, strict=True)) if boxes else [(), (), (), ()]
    uids, xs, ys = session.execute(
        _BUILDING_POINTS,
        {
            key: list(column)
            for key, column in zip(("min_x", "min_y", "max_x", "max_y"), columns, strict=True)
        },
    ).one()
    if not uids:
        return [], np.zeros(0), np.zeros(0)
    return (
        str(uids).split(","),
        np.array(str(xs).split(","), dtype=np.float64),
        np.array(str(ys).split(","), dtype=np.float64),
    )


def count_members(
    session: Session, *, grids: Sequence[int], buildings: Sequence[str], on: date
) -> list[dict[str, int]]:
    """The counts of each grid (``grid``: its index) given its buildings, as pairs (the grid
    index and the building uid of each)."""
    if not grids:
        return []
    params = {
        # one text each: a list of 100,000 values is slow to send as an array parameter
        "grids": ",".join(str(grid) for grid in grids),
        "buildings": ",".join(buildings),
        "on": on,
        "large_rooms": LARGE_RENTAL_ROOMS,
    }
    before = session.execute(_WORK_MEM).scalar_one()
    session.execute(_SET_WORK_MEM, {"value": DISTRICT_WORK_MEM})
    try:
        return [
            {"grid": int(row["grid"]), **{name: int(row[name]) for name in COUNTS}}
            for row in session.execute(_LIVE, params).mappings()
        ]
    finally:
        session.execute(_SET_WORK_MEM, {"value": before})


def district_has_residences(session: Session, *, district_code: str) -> bool:
    """Whether any residence is registered in a house of the district (else households are
    estimated from dwellings)."""
    return bool(session.scalar(_HAS_RESIDENCES, {"district": district_code}))


def store_classes(session: Session, *, rows: Sequence[dict[str, Any]]) -> None:
    """Set class, explanation, indicators and ``classified_on`` of grid versions by uid, all in
    one statement (the rows as one JSON document), not one round trip per grid."""
    if not rows:
        return
    document = json.dumps(
        [
            {
                "uid": str(row["uid"]),
                "grid_class": str(row["grid_class"]),
                "explanation": row["explanation"],
                "indicators": row["indicators"],
                "classified_on": row["on"].isoformat(),
            }
            for row in rows
        ]
    )
    session.execute(_STORE_CLASSES, {"rows": document})
