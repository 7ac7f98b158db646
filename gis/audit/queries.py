"""SQL of the audit domain: appends to the chain, the chain walk and the filtered listing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis.audit.models import AuditEntry
from gis.driver_sql import driver_row

CHAIN_LOCK_KEY = 0x67726964_61756474
"""The advisory lock serialising appends ("gridaudt"); taken inside ``audit_append``."""


_APPEND = (
    "SELECT new_id, new_hash FROM audit_append(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::inet, "
    "%s, %s)"
)
"""Sent to the driver as it is: through ``text()``, SQLAlchemy's statement handling and its
conversion of the array parameter cost ~0.9 ms an append, as much as the append itself;
``exec_driver_sql`` another ~0.3 ms."""

_APPEND_ORDER = (
    "at", "user_name", "role", "action", "target_codes", "query_wkb", "purpose", "row_count",
    "outcome", "client_addr", "head", "tail",
)  # fmt: skip


def append_row(
    session: Session, *, values: dict[str, Any], query_wkb: bytes | None, head: bytes, tail: bytes
) -> tuple[int, bytes]:
    """Append one row in one round trip; returns ``(id, hash)``.

    ``audit_append`` (migration 0007) takes the transaction-scoped advisory lock that serialises
    appends (released at commit or rollback, so the next writer reads the hash written here),
    reads the newest row's hash after it, draws the id, hashes ``prev_hash || head || id ||
    tail`` and inserts. ``values`` are the row's columns but ``id``, ``query_geom`` and the
    hashes; ``query_wkb`` is EPSG:4490 WKB.
    """
    params = {**values, "query_wkb": query_wkb, "head": head, "tail": tail}
    params["target_codes"] = list(params["target_codes"])
    row = driver_row(session, _APPEND, tuple(params[name] for name in _APPEND_ORDER))
    return int(row[0]), bytes(row[1])


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
