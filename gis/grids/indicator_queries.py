"""SQL of grid indicators: buildings, houses, households, residents and more per grid, on a date.

A building belongs to the grid that covers its ``ST_PointOnSurface`` (DESIGN §6), found at query
time so the answer is always current and as-of aware: PostGIS computes the points of the live
buildings within the grids' bounds (:func:`select_building_points`), ``gis.grids.indicators``
puts them in their grids (shapely), and ``gis.grids.building_counts`` sums the counts kept per
building (houses follow their building, residents their house: residences whose period contains
the date; organizations their house). Every grid asked for is counted in one pass (a whole
district at once when classifying), never grid by grid.

Plans measure their grids from a snapshot of these counts instead (``snapshot_queries``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import text
from sqlalchemy.orm import Session

LARGE_RENTAL_ROOMS = 15
"""A building with this many rented rooms (houses' ``rooms``, 1 when unknown) is a large rental."""

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
