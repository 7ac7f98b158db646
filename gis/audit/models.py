"""The ``audit_log`` table: append-only, each row chained to the previous one by hash."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, INET
from sqlalchemy.orm import Mapped, mapped_column

from gis.db import Base, valid_geometry_check


class AuditEntry(Base):
    """One audited action: a read of personal data or a change.

    Written only by :func:`gis.audit.service.record_audit`; ``hash`` is SHA-256 over the row's
    canonical content and ``prev_hash`` (see :mod:`gis.audit.chain`). Migration 0002 adds a
    trigger refusing UPDATE, and DELETE of rows younger than 180 days.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        valid_geometry_check("query_geom", nullable=True),
        # the auditors' list filters by user or action, newest first (keyset by id)
        Index("ix_audit_log_user_name_id", "user_name", "id"),
        Index("ix_audit_log_action_id", "action", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    user_name: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    target_codes: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    query_geom: Mapped[WKBElement | None] = mapped_column(
        Geometry("GEOMETRY", srid=4490, spatial_index=True), nullable=True
    )
    purpose: Mapped[str | None] = mapped_column(Text)
    row_count: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    client_addr: Mapped[str | None] = mapped_column(INET)
    prev_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    hash: Mapped[bytes | None] = mapped_column(LargeBinary)
