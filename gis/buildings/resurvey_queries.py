"""SQL of a re-survey: stage the new footprints, find overlapping live buildings with their IoU in
metres, and apply the outcome set-based."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.db import copy_rows

STAGE_COLUMNS = ("idx", "source_id", "geom", "structure_class", "height_m", "floors")

# A staging table for this transaction only (not schema: it vanishes at commit).
_CREATE_STAGE = text(
    """
    CREATE TEMPORARY TABLE resurvey_stage (
        idx integer PRIMARY KEY,
        source_id varchar(100),
        geom geometry(MultiPolygon, 4490) NOT NULL,
        structure_class smallint NOT NULL,
        height_m double precision,
        floors smallint
    ) ON COMMIT DROP
    """
)

# Candidates for matching: the live buildings whose code names a covered community, those whose
# point on surface lies in a covered community's polygon today (a code's community is frozen,
# a footprint moves: a correction, a boundary change), and any a staged footprint lies over.
_LIVE = text(
    """
    WITH covered AS (
        SELECT geom FROM divisions
        WHERE code = ANY(CAST(:coverage AS varchar[])) AND geom IS NOT NULL
    ), picked AS (
        SELECT uid FROM buildings
        WHERE status <> 'retired' AND community_code = ANY(CAST(:coverage AS varchar[]))
        UNION
        SELECT b.uid FROM covered c JOIN buildings b ON ST_Intersects(b.geom, c.geom)
        WHERE b.status <> 'retired' AND ST_Intersects(c.geom, ST_PointOnSurface(b.geom))
        UNION
        SELECT b.uid FROM resurvey_stage s JOIN buildings b ON ST_Intersects(b.geom, s.geom)
        WHERE b.status <> 'retired'
    )
    SELECT b.uid, b.code, b.community_code, b.status, ST_AsBinary(b.geom) AS wkb
    FROM picked JOIN buildings b USING (uid)
    """
)

_KEEP_HISTORY = text(
    """
    INSERT INTO building_footprints (building_uid, version, geom, valid_from, valid_to, batch_id,
                                     reason)
    SELECT b.uid, b.version, b.geom, b.updated_at, now(), :batch_id, 're-survey'
    FROM buildings b JOIN unnest(CAST(:uids AS uuid[])) AS u(uid) ON u.uid = b.uid
    """
)

_APPLY_CHANGES = text(
    """
    UPDATE buildings b
    SET geom = s.geom, version = b.version + 1, updated_at = now(), batch_id = :batch_id,
        status = CASE WHEN b.status = 'pending_removal' THEN 'active' ELSE b.status END
    FROM unnest(CAST(:uids AS uuid[]), CAST(:idxs AS int[])) AS m(uid, idx)
    JOIN resurvey_stage s ON s.idx = m.idx
    WHERE b.uid = m.uid
    """
)

_RESTORE = text(
    """
    UPDATE buildings SET status = 'active', updated_at = now()
    WHERE uid = ANY(CAST(:uids AS uuid[])) AND status = 'pending_removal'
    """
)

_MARK_REMOVAL = text(
    """
    UPDATE buildings SET status = 'pending_removal', updated_at = now()
    WHERE uid = ANY(CAST(:uids AS uuid[])) AND status IN ('active', 'provisional')
    """
)

_STAGED = text(
    """
    SELECT idx, source_id, ST_AsBinary(geom) AS wkb, structure_class, height_m, floors
    FROM resurvey_stage WHERE idx = ANY(CAST(:idxs AS int[])) ORDER BY idx
    """
)


def stage_footprints(session: Session, rows: Iterable[Sequence[Any]]) -> int:
    # an enclosing transaction that has not ended yet may still hold the previous stage
    session.execute(text("DROP TABLE IF EXISTS pg_temp.resurvey_stage"))
    session.execute(_CREATE_STAGE)
    count = copy_rows(
        session,
        table="resurvey_stage",
        columns=STAGE_COLUMNS,
        rows=rows,
        binary_types=("int4", "text", "bytea", "int2", "float8", "int2"),
    )
    session.execute(text("ANALYZE resurvey_stage"))
    return count


def select_live(session: Session, *, coverage: Sequence[str]) -> list[dict[str, Any]]:
    """Live buildings a re-survey of ``coverage`` matches against (call after
    :func:`stage_footprints`): those coded in a covered community, those lying in one today,
    and those a staged footprint lies over; uid, code, community_code, status, footprint (WKB)."""
    rows = session.execute(_LIVE, {"coverage": list(coverage)}).mappings()
    return [dict(row) | {"wkb": bytes(row["wkb"])} for row in rows]


def apply_geometry_changes(
    session: Session, *, matches: Sequence[tuple[uuid.UUID, int]], batch_id: int
) -> None:
    """Keep each old footprint in the history, then move the building to its new footprint."""
    if not matches:
        return
    uids = [uid for uid, _ in matches]
    session.execute(_KEEP_HISTORY, {"uids": uids, "batch_id": batch_id})
    session.execute(
        _APPLY_CHANGES, {"uids": uids, "idxs": [idx for _, idx in matches], "batch_id": batch_id}
    )


def restore(session: Session, *, uids: Sequence[uuid.UUID]) -> None:
    if uids:
        session.execute(_RESTORE, {"uids": list(uids)})


def mark_pending_removal(session: Session, *, uids: Sequence[uuid.UUID]) -> None:
    if uids:
        session.execute(_MARK_REMOVAL, {"uids": list(uids)})


def select_staged(session: Session, *, idxs: Sequence[int]) -> list[dict[str, Any]]:
    rows = session.execute(_STAGED, {"idxs": list(idxs)}).mappings()
    return [dict(row) for row in rows]
