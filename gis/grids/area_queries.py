"""SQL of the places grids live in: community polygons and codes, and the buildings in them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gis.crs import STORAGE_SRID
from gis.divisions.models import Division


def select_community_polygons(session: Session, *, codes: Sequence[str]) -> dict[str, Any]:
    """code → WKB (None without a boundary) of village-level divisions."""
    rows = session.execute(
        select(Division.code, func.ST_AsBinary(Division.geom)).where(Division.code.in_(codes))
    )
    return {code: None if wkb is None else bytes(wkb) for code, wkb in rows}


def select_communities_meeting(session: Session, *, wkb: bytes) -> dict[str, bytes]:
    """Village-level divisions whose polygon meets the geometry: code → WKB."""
    geom = func.ST_GeomFromWKB(wkb, STORAGE_SRID)
    rows = session.execute(
        select(Division.code, func.ST_AsBinary(Division.geom)).where(
            Division.rank == 5,
            Division.geom.is_not(None),
            Division.geom.op("&&")(geom),
            func.ST_Intersects(Division.geom, geom),
        )
    )
    return {code: bytes(wkb) for code, wkb in rows}


def select_communities_under(
    session: Session, *, prefix: str, with_boundary: bool = False
) -> list[str]:
    """Codes of the village-level divisions under a division prefix (itself if a village)."""
    statement = (
        select(Division.code)
        .where(Division.rank == 5, Division.code.startswith(prefix, autoescape=True))
        .order_by(Division.code)
    )
    if with_boundary:
        statement = statement.where(Division.geom.is_not(None))
    return list(session.scalars(statement))


def select_division(session: Session, *, code: str) -> Division | None:
    return session.get(Division, code)


# the live buildings lying in the communities, and those coded to them wherever they lie (an
# import given --community, a corrected footprint): a building of the community that no grid
# holds is a gap in the grids all the same
_BUILDING_POINTS = text(
    """
    SELECT DISTINCT ON (code) code, x, y, community
    FROM (
        SELECT b.code, ST_X(p.pt) AS x, ST_Y(p.pt) AS y, d.code AS community, 0 AS source
        FROM divisions d
        JOIN buildings b ON b.geom && d.geom
        CROSS JOIN LATERAL (SELECT ST_PointOnSurface(b.geom) AS pt) p
        WHERE d.code = ANY(CAST(:communities AS varchar[])) AND d.geom IS NOT NULL
          AND b.status <> 'retired' AND ST_Covers(d.geom, p.pt)
        UNION ALL
        SELECT b.code, ST_X(p.pt), ST_Y(p.pt), b.community_code, 1
        FROM buildings b
        CROSS JOIN LATERAL (SELECT ST_PointOnSurface(b.geom) AS pt) p
        WHERE b.community_code = ANY(CAST(:communities AS varchar[])) AND b.status <> 'retired'
    ) AS found
    ORDER BY code, source
    """
)


@dataclass
class BuildingPoints:
    """Live buildings by code, their points on surface and the community each lies in."""

    codes: list[str]
    xs: list[float]
    ys: list[float]
    communities: list[str]

    def without(self, codes: set[str]) -> BuildingPoints:
        """These points less the buildings of ``codes``."""
        keep = [i for i, code in enumerate(self.codes) if code not in codes]
        return BuildingPoints(
            [self.codes[i] for i in keep], [self.xs[i] for i in keep],
            [self.ys[i] for i in keep], [self.communities[i] for i in keep],
        )  # fmt: skip


def select_building_communities(session: Session, *, prefix: str) -> list[str]:
    """The communities under a division prefix that live buildings are assigned to."""
    statement = text(
        "SELECT DISTINCT community_code FROM buildings "
        "WHERE status <> 'retired' AND community_code LIKE :pattern ORDER BY 1"
    )
    return list(session.scalars(statement, {"pattern": f"{prefix}%"}))


def select_building_points(session: Session, *, communities: Sequence[str]) -> BuildingPoints:
    """The live buildings whose point on surface lies in one of the communities."""
    found = BuildingPoints([], [], [], [])
    if communities:
        rows = session.execute(_BUILDING_POINTS, {"communities": list(communities)})
        for code, x, y, community in rows:
            found.codes.append(code)
            found.xs.append(x)
            found.ys.append(y)
            found.communities.append(community)
    return found


_SUGGEST_BUILDINGS = text(
    """
    WITH b AS (
        SELECT b.uid, b.code, b.geom, p.pt
        FROM divisions d
        JOIN buildings b ON b.geom && d.geom
        CROSS JOIN LATERAL (SELECT ST_PointOnSurface(b.geom) AS pt) p
        WHERE d.code = :community AND b.status <> 'retired' AND ST_Covers(d.geom, p.pt)
    ), dwellings AS (
        SELECT h.building_uid, count(*) AS n FROM houses h JOIN b ON b.uid = h.building_uid
        WHERE h.status = 'active' AND h.use IN ('residential', 'mixed', 'dorm')
        GROUP BY h.building_uid
    ), occupied AS (
        SELECT h.building_uid, count(DISTINCT r.house_uid) AS n
        FROM houses h JOIN b ON b.uid = h.building_uid
        JOIN residences r ON r.house_uid = h.uid AND r.period @> CAST(:on AS date)
        WHERE h.status = 'active'
        GROUP BY h.building_uid
    )
    SELECT ST_AsBinary(b.geom), ST_AsBinary(b.pt), coalesce(dw.n, 0), coalesce(oc.n, 0)
    FROM b
    LEFT JOIN dwellings dw ON dw.building_uid = b.uid
    LEFT JOIN occupied oc ON oc.building_uid = b.uid
    ORDER BY b.code
    """
)


def select_suggest_buildings(
    session: Session, *, community: str, on: date
) -> list[tuple[bytes, bytes, int, int]]:
    """(footprint WKB, point-on-surface WKB, dwellings, occupied houses) of the live buildings
    of a community."""
    rows = session.execute(_SUGGEST_BUILDINGS, {"community": community, "on": on})
    return [(bytes(f), bytes(p), int(d), int(h)) for f, p, d, h in rows]


def select_community_codes_meeting(session: Session, *, wkb: bytes) -> set[str]:
    """Codes of the village-level divisions whose interior meets the geometry's (touching
    along a boundary is not meeting)."""
    geom = func.ST_GeomFromWKB(wkb, STORAGE_SRID)
    statement = select(Division.code).where(
        Division.rank == 5,
        Division.geom.is_not(None),
        Division.geom.op("&&")(geom),
        func.ST_Relate(Division.geom, geom, "T********"),
    )
    return set(session.scalars(statement))


def select_communities_at(session: Session, *, x: float, y: float) -> list[str]:
    """Codes of the village-level divisions covering a point (EPSG:4490)."""
    point = func.ST_SetSRID(func.ST_MakePoint(x, y), STORAGE_SRID)
    statement = select(Division.code).where(
        Division.rank == 5, Division.geom.op("&&")(point), func.ST_Covers(Division.geom, point)
    )
    return sorted(session.scalars(statement))


_COMMUNITIES_REACHED_BY_PLAN = text(
    """
    SELECT d.code FROM plan_grids g
    JOIN divisions d ON d.rank = 5 AND d.geom IS NOT NULL AND d.geom && g.geom
     AND ST_Relate(d.geom, g.geom, 'T********')
    WHERE g.plan_id = :plan_id
      AND NOT (d.code LIKE :prefix || '%')
    GROUP BY d.code
    HAVING sum(ST_Area(ST_Intersection(d.geom, g.geom)::geography)) >= :min_area_m2
    """
)


def select_communities_reached_by_plan(
    session: Session, *, plan_id: int, prefix: str, min_area_m2: float
) -> set[str]:
    """Codes of the village-level divisions outside ``prefix`` (the plan's division) that the
    plan's grids reach into by ``min_area_m2`` or more."""
    params = {"plan_id": plan_id, "prefix": prefix, "min_area_m2": min_area_m2}
    return set(session.scalars(_COMMUNITIES_REACHED_BY_PLAN, params))
