"""SQL of a plan's building snapshot: each building of the plan's area with its point on surface,
its live grid and its counts, taken when the plan is drafted; plan grids are measured from it.

Counts per building (``plan_buildings.counts``, in :data:`COUNT_FIELDS` order): houses,
dwellings (residential, mixed, dorm), rented houses, large rental (1 when its rented rooms reach
15), households (occupied houses), residents, floating residents, key persons, organizations
(and a tenth the snapshot does not read: floating residents by primary residence).
They are the buildings' kept counts (``gis.grids.building_counts``), in which a building counts
residences: a person living in two houses or two buildings of one grid is counted in each (rare;
the live statistics of ``gis.grids.indicators`` count people once per grid).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.grids.building_counts import COUNT_INTO_PLAN, CURRENT_ON, recount_stale
from gis.grids.indicator_queries import COUNTS, LARGE_RENTAL_ROOMS

COUNT_FIELDS = tuple(name for name in COUNTS if name != "buildings")
"""A grid's counts, kept per building in a snapshot (a building counts itself)."""

# the kept counts of current rows; an empty array where a row was not current, filled next
_SNAPSHOT = text(
    f"""
    WITH b AS (
        SELECT DISTINCT ON (b.uid) b.uid, b.code, d.code AS community, p.pt
        FROM divisions d
        JOIN buildings b ON b.geom && d.geom
        CROSS JOIN LATERAL (SELECT ST_PointOnSurface(b.geom) AS pt) p
        WHERE d.code = ANY(CAST(:communities AS varchar[])) AND d.geom IS NOT NULL
          AND b.status <> 'retired' AND ST_Covers(d.geom, p.pt)
        ORDER BY b.uid, d.code
    )
    INSERT INTO plan_buildings
        (plan_id, building_uid, building_code, community_code, live_code, counts, geom)
    SELECT :plan_id, b.uid, b.code, b.community,
           (SELECT lg.code FROM grids lg
            WHERE lg.valid_to IS NULL AND lg.geom && b.pt AND ST_Covers(lg.geom, b.pt)
            ORDER BY lg.code LIMIT 1),
           coalesce(c.counts, '{{}}'), b.pt
    FROM b LEFT JOIN building_counts c ON c.building_uid = b.uid AND {CURRENT_ON}
    """  # noqa: S608 - CURRENT_ON is a fixed clause of gis.grids.building_counts
)
_UNCOUNTED = text(
    """
    SELECT string_agg(building_uid::text, ',') FROM plan_buildings
    WHERE plan_id = :plan_id AND cardinality(counts) = 0
    """
)
# the buildings a snapshot will most likely hold (by the community they were imported into),
# whose kept counts are brought up to date first
_LIKELY_BUILDINGS = text(
    """
    SELECT string_agg(uid::text, ',') FROM buildings
    WHERE community_code = ANY(CAST(:communities AS varchar[])) AND status <> 'retired'
    """
)

_MEASURE = text(
    """
    SELECT g.id::text AS key,
           count(b.building_uid) AS buildings,
           count(b.building_uid) FILTER (WHERE b.live_code IS DISTINCT FROM g.code)
               AS moved_buildings,
           coalesce(sum(b.counts[1]), 0) AS houses,
           coalesce(sum(b.counts[2]), 0) AS dwellings,
           coalesce(sum(b.counts[2]) FILTER (WHERE b.live_code IS DISTINCT FROM g.code), 0)
               AS moved_dwellings,
           coalesce(sum(b.counts[3]), 0) AS rented_houses,
           coalesce(sum(b.counts[4]), 0) AS large_rentals,
           coalesce(sum(b.counts[5]), 0) AS households,
           coalesce(sum(b.counts[5]) FILTER (WHERE b.live_code IS DISTINCT FROM g.code), 0)
               AS moved_households,
           coalesce(sum(b.counts[6]), 0) AS residents,
           coalesce(sum(b.counts[6]) FILTER (WHERE b.live_code IS DISTINCT FROM g.code), 0)
               AS moved_residents,
           coalesce(sum(b.counts[7]), 0) AS floating,
           coalesce(sum(b.counts[8]), 0) AS key_persons,
           coalesce(sum(b.counts[9]), 0) AS organizations
    FROM plan_grids g
    LEFT JOIN plan_buildings b
      ON b.plan_id = g.plan_id AND b.geom && g.geom AND ST_Covers(g.geom, b.geom)
    WHERE g.id = ANY(CAST(:ids AS bigint[]))
    GROUP BY g.id
    """
)

# The plan's points in the box first, through the (plan_id, geom) index, whatever the statistics
# say: right after a plan is drafted they do not know its 100,000 rows yet, and the planner walked
# them all by plan id instead (35 ms a query); the box alone also read every other plan of the
# area (30 drafts of a county: 45 ms a query instead of 13).
_POINTS = text(
    """
    WITH boxed AS MATERIALIZED (
        SELECT building_code, community_code, geom FROM plan_buildings
        WHERE plan_id = :plan_id AND geom && ST_MakeEnvelope(:min_x, :min_y, :max_x, :max_y, 4490)
    )
    SELECT building_code, ST_X(geom), ST_Y(geom), community_code FROM boxed
    WHERE community_code = ANY(CAST(:communities AS varchar[]))
    ORDER BY building_code
    """
)


def select_snapshot_points(
    session: Session,
    *,
    plan_id: int,
    communities: Sequence[str],
    bounds: tuple[float, float, float, float],
) -> list[tuple[str, float, float, str]]:
    """(code, x, y, community) of the plan snapshot's buildings in the communities, whose
    points lie within ``bounds`` (their polygons' bounds): found through the points' spatial
    index rather than by reading the whole district's snapshot."""
    min_x, min_y, max_x, max_y = bounds
    rows = session.execute(
        _POINTS,
        {
            "plan_id": plan_id,
            "communities": list(communities),
            "min_x": min_x,
            "min_y": min_y,
            "max_x": max_x,
            "max_y": max_y,
        },
    )
    return [(code, x, y, community) for code, x, y, community in rows]


def snapshot_buildings(
    session: Session, *, plan_id: int, communities: Sequence[str], on: date
) -> int:
    """Record the plan area's buildings with their counts on ``on``; returns how many. The
    counts are the buildings' kept counts (``gis.grids.building_counts``), brought up to date
    first."""
    likely = session.execute(_LIKELY_BUILDINGS, {"communities": list(communities)}).scalar_one()
    if likely:
        recount_stale(session, buildings=likely.split(","), on=on)
    result = session.execute(
        _SNAPSHOT, {"plan_id": plan_id, "communities": list(communities), "on": on}
    )
    uncounted = session.execute(_UNCOUNTED, {"plan_id": plan_id}).scalar_one()
    if uncounted:  # held by a writer, or outside the likely buildings: counted on the spot
        session.execute(
            COUNT_INTO_PLAN,
            {
                "plan_id": plan_id,
                "buildings": uncounted,
                "on": on,
                "large_rooms": LARGE_RENTAL_ROOMS,
            },
        )
    return int(result.rowcount)  # type: ignore[attr-defined]


def measure_plan_grids(session: Session, *, ids: Sequence[int]) -> dict[str, dict[str, Any]]:
    """Counts per plan grid (keyed by id as text), summed from the snapshot."""
    if not ids:
        return {}
    rows = session.execute(_MEASURE, {"ids": [int(i) for i in ids]}).mappings()
    return {str(row["key"]): {k: int(v) for k, v in row.items() if k != "key"} for row in rows}
