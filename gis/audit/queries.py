"""SQL of the audit domain: the chain lock, appends, the chain walk and the filtered listing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from gis.audit.models import AuditEntry
from gis.crs import STORAGE_SRID

CHAIN_LOCK_KEY = 0x67726964_61756474  # "gridaudt": the advisory lock serialising appends


def lock_chain(session: Session) -> None:
    """Take the transaction-scoped advisory lock that serialises appends to the chain; it is
    released at commit or rollback, so the next writer reads the hash this one wrote."""
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})


def select_last_hash(session: Session) -> bytes | None:
    """The hash of the newest row (``None`` for an empty log)."""
    statement = select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    return session.scalar(statement)


def next_audit_id(session: Session) -> int:
    """Draw the next id from the identity sequence (it is part of the hashed content)."""
    statement = text("SELECT nextval(pg_get_serial_sequence('audit_log', 'id'))")
    return int(session.scalar(statement))


def insert_audit_row(session: Session, *, values: dict[str, Any], query_wkb: bytes | None) -> None:
    """Append one row; ``query_wkb`` (EPSG:4490 WKB) becomes ``query_geom``."""
    geom = func.ST_GeomFromWKB(query_wkb, STORAGE_SRID) if query_wkb is not None else None
    session.execute(insert(AuditEntry).values(**values, query_geom=geom))


_CHAIN_COLUMNS = (
    AuditEntry.id,
    AuditEntry.at,
    AuditEntry.user_name,
    AuditEntry.role,
    AuditEntry.action,
    AuditEntry.target_codes,
    func.ST_AsBinary(AuditEntry.query_geom).label("query_wkb"),
    AuditEntry.purpose,
    AuditEntry.row_count,
    AuditEntry.outcome,
    func.host(AuditEntry.client_addr).label("client_addr"),
    AuditEntry.prev_hash,
    AuditEntry.hash,
)


def select_chain_batch(session: Session, *, after_id: int, limit: int) -> Sequence[Any]:
    """The next ``limit`` rows of the chain after ``after_id``, in id order."""
    statement = (
        select(*_CHAIN_COLUMNS).where(AuditEntry.id > after_id).order_by(AuditEntry.id).limit(limit)
    )
    return session.execute(statement).all()


def select_entries(
    session: Session,
    *,
    user_name: str | None,
    action: str | None,
    at_from: datetime | None,
    at_to: datetime | None,
    before_id: int | None,
    limit: int,
) -> Sequence[Any]:
    """Rows matching every given filter, newest first, ``limit`` of them (keyset paging by id).

    The query geometry comes back as GeoJSON text in EPSG:4326.
    """
    statement = select(
        *[column for column in _CHAIN_COLUMNS if column.key != "query_wkb"],
        func.ST_AsGeoJSON(func.ST_Transform(AuditEntry.query_geom, 4326)).label("query_geojson"),
    )
    if user_name is not None:
        statement = statement.where(AuditEntry.user_name == user_name)
    if action is not None:
        statement = statement.where(AuditEntry.action == action)
    if at_from is not None:
        statement = statement.where(AuditEntry.at >= at_from)
    if at_to is not None:
        statement = statement.where(AuditEntry.at < at_to)
    if before_id is not None:
        statement = statement.where(AuditEntry.id < before_id)
    return session.execute(statement.order_by(AuditEntry.id.desc()).limit(limit)).all()
