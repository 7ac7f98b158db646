"""Tables of events and their steps and photos, the moves of open events due when grid versions
end, residence permits and exchange batches."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Sequence,
    String,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from gis.columns import created_at_column, enum_type
from gis.db import Base


class EventKind(StrEnum):
    """What was found: 安全隐患, 出租屋消防隐患, 矛盾纠纷, 治安 (public order), other."""

    SAFETY_HAZARD = "safety_hazard"
    RENTED_FIRE_RISK = "rented_fire_risk"
    DISPUTE = "dispute"
    PUBLIC_ORDER = "public_order"
    OTHER = "other"


class EventStatus(StrEnum):
    """Where an event is in its lifecycle (``gis/events/lifecycle.py`` holds the table)."""

    REPORTED = "reported"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DISPATCHED = "dispatched"
    HANDLED = "handled"
    CHECKED = "checked"
    CLOSED = "closed"


class EventSource(StrEnum):
    OFFICER = "officer"
    IMPORT = "import"


class Event(Base):
    """A problem found in a grid (事件), from its report to its closure. ``grid_code`` and the
    division codes are those of the grid live for its place when it was reported and, while it
    is open, of the grid live for its place today (:class:`EventMoveDue`): they decide who sees
    it. A closed or rejected event keeps the grid it was handled in."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_open_due_at", "due_at", postgresql_where=text("closed_at IS NULL")),
        Index(
            "uq_events_source_id",
            "source_id",
            unique=True,
            postgresql_where=text("source_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    kind: Mapped[EventKind] = mapped_column(enum_type(EventKind, "event_kind"))
    status: Mapped[EventStatus] = mapped_column(enum_type(EventStatus, "event_status"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4490, spatial_index=True))
    building_uid: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("buildings.uid"))
    house_uid: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("houses.uid"))
    grid_code: Mapped[str | None] = mapped_column(String(15), index=True)
    community_code: Mapped[str | None] = mapped_column(String(12))
    district_code: Mapped[str | None] = mapped_column(String(6), index=True)
    source: Mapped[EventSource] = mapped_column(enum_type(EventSource, "event_source"))
    reported_by: Mapped[str] = mapped_column(String(64))
    reported_at: Mapped[datetime] = created_at_column()
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    assignee: Mapped[str | None] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(100))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    source_id: Mapped[str | None] = mapped_column(String(100))
    """The event's id in the file it was imported from (re-importing the file skips it)."""
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    """The import that brought the event (``None``: reported in gridhouse)."""


class EventStep(Base):
    """One step of an event's lifecycle: from which status to which, who, when, why."""

    __tablename__ = "event_steps"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    from_status: Mapped[EventStatus | None] = mapped_column(enum_type(EventStatus, "from_status"))
    to_status: Mapped[EventStatus] = mapped_column(enum_type(EventStatus, "to_status"))
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = created_at_column()
    note: Mapped[str | None] = mapped_column(Text)


class EventPhoto(Base):
    """A photo attached to an event, stored on disk under ``GRIDHOUSE_DATA_DIR/events/``."""

    __tablename__ = "event_photos"
    __table_args__ = (CheckConstraint("size_bytes > 0", name="size_positive"),)

    uid: Mapped[uuid.UUID] = mapped_column(
        Uuid, primary_key=True, server_default=func.gen_random_uuid()
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    path: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(20))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = created_at_column()


PERMIT_NUMBERS = Sequence("residence_permit_numbers", metadata=Base.metadata)
"""Issues the running part of residence permit numbers (never reused)."""


class EventMoveDue(Base):
    """A grid version that ends on ``due_on``: from that day the open events of ``grid_code``
    whose place it no longer holds belong to the grid live there (``gis/events/move_queries.py``
    moves them, before events are read, and deletes the row). Written with every version a grid
    switch closes, whatever its effective date."""

    __tablename__ = "event_moves_due"

    due_on: Mapped[date] = mapped_column(Date, primary_key=True)
    grid_code: Mapped[str] = mapped_column(String(15), primary_key=True)


class ResidencePermit(Base):
    """A residence permit (居住证): valid from ``issued_on`` until the earliest of
    ``endorsed_until`` (moved on a year by each yearly endorsement, 签注), ``expires_on`` and
    ``revoked_on`` (注销, with ``revoke_reason``)."""

    __tablename__ = "residence_permits"
    __table_args__ = (
        CheckConstraint("endorsed_until > issued_on", name="endorsed_after_issue"),
        CheckConstraint("expires_on > issued_on", name="expires_after_issue"),
        CheckConstraint(
            "(revoked_on IS NULL) = (revoke_reason IS NULL) AND revoked_on >= issued_on",
            name="revoked_with_reason",
        ),
    )

    uid: Mapped[uuid.UUID] = mapped_column(
        Uuid, primary_key=True, server_default=func.gen_random_uuid()
    )
    number: Mapped[str] = mapped_column(String(20), unique=True)
    person_uid: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.uid"), index=True)
    house_uid: Mapped[uuid.UUID] = mapped_column(ForeignKey("houses.uid"), index=True)
    district_code: Mapped[str] = mapped_column(String(6), index=True)
    issued_on: Mapped[date] = mapped_column(Date)
    endorsed_until: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    endorsements: Mapped[int] = mapped_column(Integer, server_default="0")
    issued_by: Mapped[str] = mapped_column(String(64))
    revoked_on: Mapped[date | None] = mapped_column(Date)
    """The first day the permit is no longer valid (注销)."""
    revoke_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_at_column()


class ExchangeBatch(Base):
    """One exchange with another region: an export of our inflow or a reconciliation of their
    outflow against it, with its counts (a reconciliation keeps its follow-up records in
    :class:`ExchangeFollowUp`; an export keeps none)."""

    __tablename__ = "exchange_batches"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    direction: Mapped[str] = mapped_column(String(16))
    region_code: Mapped[str] = mapped_column(String(12))
    other_region_code: Mapped[str | None] = mapped_column(String(12))
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    record_count: Mapped[int] = mapped_column(Integer)
    matched: Mapped[int | None] = mapped_column(Integer)
    here_not_there: Mapped[int | None] = mapped_column(Integer)
    there_not_here: Mapped[int | None] = mapped_column(Integer)
    made_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()


class FollowUpSide(StrEnum):
    """Which list of a reconciliation a follow-up (协查) record is on."""

    HERE_NOT_THERE = "here_not_there"
    THERE_NOT_HERE = "there_not_here"


class ExchangeFollowUp(Base):
    """One person a reconciliation left unmatched, kept so the follow-up list (协查) can be read
    again; the citizen ID number is encrypted like ``people.id_number_enc``."""

    __tablename__ = "exchange_followups"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("exchange_batches.id"), index=True)
    side: Mapped[FollowUpSide] = mapped_column(enum_type(FollowUpSide, "followup_side"))
    citizen_id_enc: Mapped[bytes] = mapped_column(LargeBinary)
    name: Mapped[str] = mapped_column(String(100))
    hukou_division: Mapped[str] = mapped_column(String(12))
    residence_division: Mapped[str] = mapped_column(String(12))
