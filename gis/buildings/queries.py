"""SQL of the buildings domain: code counters, bulk loading, community lookup, lifecycle reads."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import JSON, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gis.buildings.models import (
    Building,
    BuildingFootprint,
    BuildingStatus,
    ImportBatch,
    Lineage,
)
from gis.db import copy_rows
from gis.divisions.models import Division
from gis.errors import Conflict

Bbox = tuple[float, float, float, float]

BUILDING_COPY_TYPES = (
    "text", "text", "text", "int2", "int4", "text", "int4", "bytea", "float8", "int2", "text",
    "int8",
)  # fmt: skip
BUILDING_COPY_COLUMNS = (
    "code",
    "district_code",
    "community_code",
    "structure_class",
    "seq",
    "status",
    "version",
    "geom",
    "height_m",
    "floors",
    "source_id",
    "batch_id",
)

_ALLOCATE = text(
    """
    INSERT INTO building_code_counters (community_code, last_seq)
    SELECT community, n FROM unnest(CAST(:communities AS varchar[]), CAST(:counts AS int[]))
        AS wanted(community, n)
    ORDER BY community
    ON CONFLICT (community_code)
    DO UPDATE SET last_seq = building_code_counters.last_seq + EXCLUDED.last_seq
    RETURNING community_code, last_seq
    """
)


def lock_communities(session: Session, *, communities: Sequence[str]) -> None:
    """Lock the code counters of these communities until the transaction ends, as an import
    issuing codes there does: a re-survey reading their live buildings then waits for a
    concurrent import or re-survey and sees what it stored (two re-surveys of one file at once
    each added the same new footprints under two codes)."""
    allocate_sequences(session, counts=dict.fromkeys(communities, 0))


def allocate_sequences(session: Session, *, counts: dict[str, int]) -> dict[str, int]:
    """Reserve ``n`` consecutive building sequences per community; returns the first of each.

    One statement for the whole batch. The counter row stays locked until the transaction
    ends, so concurrent importers into one community queue here and never share a number;
    rows are locked in code order, so importers touching several communities cannot deadlock.
    """
    if not counts:
        return {}
    communities = sorted(counts)
    try:
        with session.begin_nested():
            rows = session.execute(
                _ALLOCATE,
                {"communities": communities, "counts": [counts[c] for c in communities]},
            ).all()
    except IntegrityError as error:
        if "last_seq_range" in str(error.orig):
            raise Conflict(
                "a community has run out of building sequences (999999 issued)",
                field="community_code",
            ) from None
        raise
    return {community: last - counts[community] + 1 for community, last in rows}


def copy_buildings(session: Session, rows: Iterable[Sequence[Any]]) -> int:
    """Bulk-load building rows (in ``BUILDING_COPY_COLUMNS`` order) with COPY."""
    return copy_rows(
        session,
        table="buildings",
        columns=BUILDING_COPY_COLUMNS,
        rows=rows,
        binary_types=BUILDING_COPY_TYPES,
    )


def select_communities(session: Session, *, bbox: Bbox) -> list[tuple[str, bytes]]:
    """Community (village-level) polygons meeting ``bbox``: (code, WKB)."""
    envelope = func.ST_MakeEnvelope(*bbox, 4490)
    rows = session.execute(
        select(Division.code, func.ST_AsBinary(Division.geom))
        .where(Division.rank == 5, Division.geom.is_not(None))
        .where(Division.geom.op("&&")(envelope))
    )
    return [(code, bytes(wkb)) for code, wkb in rows]


def select_division_boundary(session: Session, *, code: str) -> bytes | None:
    """A division's polygon as WKB (EPSG:4490), ``None`` when it has none."""
    wkb = session.scalar(
        select(func.ST_AsBinary(Division.geom)).where(
            Division.code == code, Division.geom.is_not(None)
        )
    )
    return None if wkb is None else bytes(wkb)


def select_division_rank(session: Session, *, code: str) -> int | None:
    return session.scalar(select(Division.rank).where(Division.code == code))


def count_overlapped_live(
    session: Session, *, geoms_wkb: Sequence[bytes], other_than_batch: int
) -> int:
    """Non-retired buildings, not loaded by this import, whose interior meets the interior of
    one of these footprints (EPSG:4490 WKB): a neighbour sharing a wall does not count."""
    return int(
        session.execute(
            text(
                """
                SELECT count(DISTINCT b.uid)
                FROM unnest(CAST(:wkbs AS bytea[])) AS w(wkb)
                CROSS JOIN LATERAL (SELECT ST_GeomFromWKB(w.wkb, 4490) AS geom) AS f
                JOIN buildings AS b ON b.geom && f.geom
                  AND ST_Relate(b.geom, f.geom, 'T********')
                WHERE b.status <> 'retired'
                  AND (b.batch_id IS NULL OR b.batch_id <> :batch)
                """
            ),
            {"wkbs": list(geoms_wkb), "batch": other_than_batch},
        ).scalar_one()
    )


def count_live_buildings(session: Session, *, bbox: Bbox, other_than_batch: int) -> int:
    """Non-retired buildings whose bbox meets ``bbox``, not loaded by this import."""
    envelope = func.ST_MakeEnvelope(*bbox, 4490)
    statement = (
        select(func.count())
        .select_from(Building)
        .where(Building.status != BuildingStatus.RETIRED)
        .where(Building.geom.op("&&")(envelope))
        .where(Building.batch_id.is_distinct_from(other_than_batch))
    )
    return int(session.scalar(statement) or 0)


def count_batch_buildings(session: Session, *, batch_id: int) -> int:
    """Buildings an import batch stored."""
    statement = select(func.count()).select_from(Building).where(Building.batch_id == batch_id)
    return int(session.scalar(statement) or 0)


def insert_import_batch(session: Session, *, kind: str, source: str) -> int:
    batch = ImportBatch(kind=kind, source=source, status="running")
    session.add(batch)
    session.flush()
    return batch.id


def finish_import_batch(
    session: Session, *, batch_id: int, status: str, counts: dict[str, Any]
) -> None:
    session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch_id)
        .values(status=status, counts=counts, finished_at=func.now())
    )


def select_building(
    session: Session, *, code: str, for_update: bool = False, where: Any = None
) -> Building | None:
    """The building with ``code``, if ``where`` (a scope clause) also admits it."""
    statement = select(Building).where(Building.code == code)
    if where is not None:
        statement = statement.where(where)
    if for_update:
        statement = statement.with_for_update()
    return session.scalars(statement).one_or_none()


def select_footprint_history(session: Session, *, building_uid: uuid.UUID) -> list[dict[str, Any]]:
    rows = session.execute(
        select(
            BuildingFootprint.version,
            BuildingFootprint.valid_from,
            BuildingFootprint.valid_to,
            BuildingFootprint.reason,
            func.ST_AsGeoJSON(func.ST_Transform(BuildingFootprint.geom, 4326), 7)
            .cast(JSON)
            .label("geojson"),
        )
        .where(BuildingFootprint.building_uid == building_uid)
        .order_by(BuildingFootprint.version)
    ).mappings()
    return [dict(row) for row in rows]


def select_lineage(session: Session, *, code: str) -> list[Lineage]:
    statement = (
        select(Lineage)
        .where((Lineage.parent_code == code) | (Lineage.child_code == code))
        .order_by(Lineage.id)
    )
    return list(session.scalars(statement))


def count_buildings_in_communities(session: Session, *, communities: Sequence[str]) -> int:
    statement = (
        select(func.count()).select_from(Building).where(Building.community_code.in_(communities))
    )
    return int(session.scalar(statement) or 0)


def select_building_feature(session: Session, *, uid: uuid.UUID) -> dict[str, Any]:
    """One building as a GeoJSON Feature dict (geometry in EPSG:4326), built by PostGIS."""
    row = session.execute(
        select(
            func.json_build_object(
                "geometry",
                func.ST_AsGeoJSON(func.ST_Transform(Building.geom, 4326), 7).cast(JSON),
                "properties",
                func.json_build_object(
                    "code",
                    Building.code,
                    "status",
                    Building.status,
                    "version",
                    Building.version,
                    "community_code",
                    Building.community_code,
                    "structure_class",
                    Building.structure_class,
                    "height_m",
                    Building.height_m,
                    "floors",
                    Building.floors,
                    "use",
                    Building.use,
                    "created_at",
                    Building.created_at,
                    "retired_at",
                    Building.retired_at,
                    "retired_reason",
                    Building.retired_reason,
                ),
            )
        ).where(Building.uid == uid)
    ).scalar_one()
    return dict(row)


def select_overlapping_live(
    session: Session, *, geom_wkb: bytes, other_than: Sequence[uuid.UUID]
) -> list[tuple[str, float]]:
    """Live buildings (not retired, not ``other_than``) a footprint overlaps, with the share of
    the footprint each covers, largest first."""
    rows = session.execute(
        text(
            """
            WITH g AS (SELECT ST_GeomFromWKB(:wkb, 4490) AS geom)
            SELECT b.code, ST_Area(ST_Intersection(b.geom, g.geom)) / NULLIF(ST_Area(g.geom), 0)
            FROM buildings AS b, g
            WHERE b.status <> 'retired' AND ST_Intersects(b.geom, g.geom)
              AND NOT (b.uid = ANY(CAST(:other_than AS uuid[])))
            ORDER BY 2 DESC NULLS LAST
            """
        ),
        {"wkb": geom_wkb, "other_than": [str(uid) for uid in other_than]},
    ).all()
    return [(str(code), float(share or 0.0)) for code, share in rows]


def community_holds_near(
    session: Session, *, community_code: str, point_wkb: bytes, within_deg: float
) -> bool | None:
    """Whether the community's boundary lies within ``within_deg`` of the point; ``None`` when
    the community has no boundary to check against."""
    row = session.execute(
        text(
            "SELECT ST_DWithin(geom, ST_GeomFromWKB(:p, 4490), :d) FROM divisions "
            "WHERE code = :c AND geom IS NOT NULL"
        ),
        {"p": point_wkb, "d": within_deg, "c": community_code},
    ).first()
    return None if row is None else bool(row[0])


def count_organizations_at(session: Session, *, building_uids: Sequence[uuid.UUID]) -> int:
    """Organizations located at the live houses of these buildings."""
    return int(
        session.execute(
            text(
                "SELECT count(*) FROM organizations o JOIN houses h ON h.uid = o.house_uid "
                "WHERE h.building_uid = ANY(CAST(:b AS uuid[])) AND h.status = 'active'"
            ),
            {"b": [str(uid) for uid in building_uids]},
        ).scalar_one()
    )


def count_current_residents(session: Session, *, building_uids: Sequence[uuid.UUID]) -> int:
    """Residences open today in the houses of these buildings."""
    return int(
        session.execute(
            text(
                "SELECT count(*) FROM residences r JOIN houses h ON h.uid = r.house_uid "
                "WHERE h.building_uid = ANY(CAST(:b AS uuid[])) "
                "AND r.period @> (now() AT TIME ZONE 'Asia/Shanghai')::date"
            ),
            {"b": [str(uid) for uid in building_uids]},
        ).scalar_one()
    )
