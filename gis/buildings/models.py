"""Tables of buildings, their footprint history, lineage, code counters and import batches."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gis.columns import created_at_column, enum_type
from gis.db import Base, valid_geometry_check

CODE_PATTERN = "^[0-9]{24}[0-9X]$"


class BuildingStatus(StrEnum):
    """Lifecycle of a building code (DESIGN §5)."""

    PROVISIONAL = "provisional"
    ACTIVE = "active"
    PENDING_REMOVAL = "pending_removal"
    RETIRED = "retired"


class LineageEvent(StrEnum):
    """Why one code descends from another."""

    SPLIT = "split"
    MERGE = "merge"
    REPLACE = "replace"


class ImportKind(StrEnum):
    DIVISIONS = "divisions"
    BUILDINGS = "buildings"
    HOUSES = "houses"
    PEOPLE = "people"
    GRIDS = "grids"
    EVENTS = "events"


class ImportStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ChangeKind(StrEnum):
    """One line of a re-survey changelog."""

    ADDED = "added"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    PENDING_REMOVAL = "pending_removal"
    REVIEW = "review"


class ImportBatch(Base):
    """One run of an import: what file, when, and what came of it."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[ImportKind] = mapped_column(enum_type(ImportKind, "import_kind"))
    source: Mapped[str] = mapped_column(Text)
    status: Mapped[ImportStatus] = mapped_column(enum_type(ImportStatus, "import_status"))
    started_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")


class Building(Base):
    """A building footprint and its permanent 25-character code."""

    __tablename__ = "buildings"
    __table_args__ = (
        CheckConstraint(f"code ~ '{CODE_PATTERN}'", name="code_format"),
        CheckConstraint("structure_class IN (1, 2, 3)", name="structure_class"),
        CheckConstraint("seq BETWEEN 1 AND 999999", name="seq_range"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("district_code = left(community_code, 6)", name="district_prefix"),
        UniqueConstraint("community_code", "seq"),
        Index("ix_buildings_status", "status", postgresql_where=text("status <> 'active'")),
        valid_geometry_check(),
    )

    uid: Mapped[uuid.UUID] = mapped_column(
        Uuid, primary_key=True, server_default=func.gen_random_uuid()
    )
    code: Mapped[str] = mapped_column(String(25), unique=True)
    district_code: Mapped[str] = mapped_column(String(6), index=True)
    # no foreign key: a trigger on divisions guards it (cheaper per imported row; migration 0003)
    community_code: Mapped[str] = mapped_column(String(12))
    structure_class: Mapped[int] = mapped_column(SmallInteger, server_default="1")
    seq: Mapped[int] = mapped_column(Integer)
    status: Mapped[BuildingStatus] = mapped_column(enum_type(BuildingStatus, "building_status"))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4490, spatial_index=True)
    )
    height_m: Mapped[float | None] = mapped_column(Float)
    floors: Mapped[int | None] = mapped_column(SmallInteger)
    use: Mapped[str | None] = mapped_column(String(20))
    source_id: Mapped[str | None] = mapped_column(String(100))
    batch_id: Mapped[int | None] = mapped_column(BigInteger)  # no foreign key: see migration 0003
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retired_reason: Mapped[str | None] = mapped_column(String(20))


class BuildingFootprint(Base):
    """Every footprint a building has had, one row per version; the current one included."""

    __tablename__ = "building_footprints"
    __table_args__ = (valid_geometry_check(),)

    building_uid: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("buildings.uid", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4490, spatial_index=True)
    )
    valid_from: Mapped[datetime] = created_at_column()
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    reason: Mapped[str | None] = mapped_column(Text)


class Lineage(Base):
    """Parent code → child code, written by splits, merges and replacements."""

    __tablename__ = "lineage"
    __table_args__ = (CheckConstraint("parent_code <> child_code", name="not_self"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    parent_code: Mapped[str] = mapped_column(ForeignKey("buildings.code"), index=True)
    child_code: Mapped[str] = mapped_column(ForeignKey("buildings.code"), index=True)
    event: Mapped[LineageEvent] = mapped_column(enum_type(LineageEvent, "lineage_event"))
    happened_on: Mapped[date] = mapped_column(Date, server_default=func.current_date())
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class BuildingCodeCounter(Base):
    """The last building sequence issued in a community; codes are never reissued."""

    __tablename__ = "building_code_counters"
    __table_args__ = (CheckConstraint("last_seq BETWEEN 0 AND 999999", name="last_seq_range"),)

    community_code: Mapped[str] = mapped_column(
        String(12), ForeignKey("divisions.code"), primary_key=True
    )
    last_seq: Mapped[int] = mapped_column(Integer, server_default="0")


class ImportChange(Base):
    """One line of a batch changelog (added, changed, unchanged, pending_removal, review)."""

    __tablename__ = "import_changes"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"), index=True)
    change: Mapped[ChangeKind] = mapped_column(enum_type(ChangeKind, "change_kind"))
    code: Mapped[str | None] = mapped_column(String(25))
    source_id: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")


PUBLIC_COLUMNS = (
    Building.code,
    Building.status,
    Building.version,
    Building.community_code,
    Building.structure_class,
    Building.height_m,
    Building.floors,
    Building.use,
)
"""What anyone who may see a building may read of it, footprint aside: the properties of the
API's features, of /ogc and of exports."""
