"""SQL of grid indicators: buildings, houses, households, residents and more per grid, on a date.

A building belongs to the grid that covers its ``ST_PointOnSurface`` (DESIGN §6), kept per grid
version by ``gis.grids.placing`` (made again whenever buildings in the grid's box change), and
``gis.grids.building_counts`` sums the counts kept per building (houses follow their building,
residents their house: residences whose period contains the date; organizations their house).
Every grid asked for is counted in one pass (a whole district at once when classifying), never
grid by grid.

Plans measure their grids from a snapshot of these counts instead (``snapshot_queries``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

LARGE_RENTAL_ROOMS = 15
"""A building with this many rented rooms (houses' ``rooms``, 1 when unknown) is a large rental."""

_EXISTING_GRIDS = text(
    "SELECT uid::text FROM grids WHERE uid = ANY(CAST(string_to_array(:keys, ',') AS uuid[]))"
)

_STORE_CLASSES = text(
    """
    UPDATE grids g
    SET "class" = v.grid_class, class_explanation = v.explanation,
        indicators = v.indicators, classified_on = v.classified_on
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS v(
        uid uuid, grid_class text, explanation jsonb, indicators jsonb, classified_on date)
    WHERE g.uid = v.uid
      AND (g."class"::text IS DISTINCT FROM v.grid_class
           OR g.class_explanation IS DISTINCT FROM v.explanation
           OR g.indicators IS DISTINCT FROM v.indicators
           OR g.classified_on IS DISTINCT FROM v.classified_on)
    """
)
"""A row is written only when something in it changes (a second classification of the same
day with nothing changed writes nothing)."""
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

# the district's houses in code order, each asked for one residence, until the first inhabited
# one: bounded by the district's houses. The unique index on code finds them: a house code begins
# with its building's community code, which never changes, so with the district's six digits
# ('Z' sorts after every digit and the check character X); district_code keeps out any other.
# Before, residences were read in the table's order until one lay in the district: 56,503 of
# them (103 ms, on every plan edit) in a city whose other district's residences came first, and
# every residence of the city for a district with none.
_HAS_RESIDENCES = text(
    """
    SELECT EXISTS (
        SELECT 1 FROM houses h
        WHERE h.code > :district AND h.code < :district || 'Z' AND h.district_code = :district
          AND (SELECT true FROM residences r WHERE r.house_uid = h.uid LIMIT 1)
        ORDER BY h.code
        LIMIT 1
    )
    """
)


def select_live_grids(session: Session, *, keys: Sequence[str]) -> list[str]:
    """Those of ``keys`` (grid version uids as text) that exist, in the order given."""
    existing = set(session.scalars(_EXISTING_GRIDS, {"keys": ",".join(keys)}))
    return [key for key in keys if key in existing]


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
