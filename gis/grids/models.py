"""Tables of grids: versions (``grids``), code counters, lineage, draft plans and their grids."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import UserDefinedType

from gis.buildings.models import LineageEvent
from gis.columns import created_at_column, enum_type
from gis.db import Base, valid_geometry_check

GRID_CODE_PATTERN = "^[0-9]{15}$"


class GridClass(StrEnum):
    """加强型 / 重点型 / 常规型."""

    REINFORCED = "reinforced"
    KEY = "key"
    REGULAR = "regular"


class PlanStatus(StrEnum):
    """A draft plan is edited until it is published (or discarded); both end its life."""

    DRAFT = "draft"
    PUBLISHED = "published"
    DISCARDED = "discarded"


class Grid(Base):
    """One version of a grid cell, valid over ``[valid_from, valid_to)`` (open when NULL)."""

    __tablename__ = "grids"
    __table_args__ = (
        CheckConstraint("code ~ '^[0-9]{15}$'", name="code_format"),
        CheckConstraint("left(code, 12) = community_code", name="community_prefix"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="period_order"),
        CheckConstraint("version >= 1", name="version_positive"),
        UniqueConstraint("code", "version"),
        ExcludeConstraint(
            (text("code"), "="),
            (text("daterange(valid_from, valid_to)"), "&&"),
            using="gist",
            name="grids_one_version_at_a_time",
        ),
        # the polygon's validity is a trigger (migration 0012_grid_writes): a CHECK ran
        # ST_IsValid on every update, a classification's included; fillfactor 50 for HOT updates
        {"postgresql_with": {"fillfactor": 50}},
    )

    uid: Mapped[uuid.UUID] = mapped_column(
        Uuid, primary_key=True, server_default=func.gen_random_uuid()
    )
    code: Mapped[str] = mapped_column(String(15), index=True)
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    name: Mapped[str | None] = mapped_column(String(100))
    community_code: Mapped[str] = mapped_column(String(12), ForeignKey("divisions.code"))
    district_code: Mapped[str] = mapped_column(String(6), index=True)
    grid_class: Mapped[GridClass | None] = mapped_column(
        "class", enum_type(GridClass, "grid_class")
    )
    class_explanation: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    indicators: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    classified_on: Mapped[date | None] = mapped_column(Date)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POLYGON", srid=4490, spatial_index=True))
    created_at: Mapped[datetime] = created_at_column()


class GridCodeCounter(Base):
    """The last grid sequence issued in a community; retired grid codes are never reused."""

    __tablename__ = "grid_code_counters"
    __table_args__ = (CheckConstraint("last_seq BETWEEN 0 AND 999", name="last_seq_range"),)

    community_code: Mapped[str] = mapped_column(
        String(12), ForeignKey("divisions.code"), primary_key=True
    )
    last_seq: Mapped[int] = mapped_column(Integer, server_default="0")


class GridLineage(Base):
    """Parent grid code → child grid code, written when a split, merge or redraw is published."""

    __tablename__ = "grid_lineage"
    __table_args__ = (
        CheckConstraint("parent_code <> child_code", name="not_self"),
        CheckConstraint(
            "parent_code ~ '^[0-9]{15}$' AND child_code ~ '^[0-9]{15}$'", name="code_format"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    parent_code: Mapped[str] = mapped_column(String(15), index=True)
    child_code: Mapped[str] = mapped_column(String(15), index=True)
    event: Mapped[LineageEvent] = mapped_column(enum_type(LineageEvent, "lineage_event"))
    happened_on: Mapped[date] = mapped_column(Date)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("grid_plans.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class GridPlan(Base):
    """A draft of new grid boundaries for a division: a copy of its live grids, edited freely,
    then published with an effective date (or discarded)."""

    __tablename__ = "grid_plans"
    __table_args__ = (
        CheckConstraint(
            "target_min_households > 0 AND target_max_households > target_min_households",
            name="target_band",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    division_code: Mapped[str] = mapped_column(String(12), ForeignKey("divisions.code"))
    district_code: Mapped[str] = mapped_column(String(6), index=True)
    status: Mapped[PlanStatus] = mapped_column(
        enum_type(PlanStatus, "plan_status"), server_default="draft"
    )
    base_versions: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    problems: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    context: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    target_min_households: Mapped[int] = mapped_column(Integer, server_default="300")
    target_max_households: Mapped[int] = mapped_column(Integer, server_default="500")
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()
    effective_date: Mapped[date | None] = mapped_column(Date)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str | None] = mapped_column(String(64))


class PlanGrid(Base):
    """One grid of a draft plan. ``code`` is the live grid it copies (NULL for a new grid: codes
    are issued when the plan is published); ``stats`` caches its indicators, ``numbers`` the
    counts every edit ranks all grids by (``gis.grids.plan_queries.NUMBER_STATS``), ``predicted``
    what the last edit's answer said of its class."""

    __tablename__ = "plan_grids"
    __table_args__ = (
        CheckConstraint("code IS NULL OR code ~ '^[0-9]{15}$'", name="code_format"),
        UniqueConstraint("plan_id", "code"),
        valid_geometry_check(),
        # a plan's grids near a place: every plan ever drafted of an area lies there too
        Index("ix_plan_grids_plan_id_geom", "plan_id", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("grid_plans.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str | None] = mapped_column(String(15))
    source_version: Mapped[int | None] = mapped_column(Integer)
    community_code: Mapped[str] = mapped_column(String(12), ForeignKey("divisions.code"))
    name: Mapped[str | None] = mapped_column(String(100))
    parent_codes: Mapped[list[str]] = mapped_column(ARRAY(String(15)), server_default="{}")
    lineage_event: Mapped[LineageEvent | None] = mapped_column(
        enum_type(LineageEvent, "lineage_event")
    )
    is_changed: Mapped[bool] = mapped_column(Boolean, server_default="false")
    stats: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    numbers: Mapped[list[int]] = mapped_column(ARRAY(Integer), server_default="{}")
    predicted: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4490, spatial_index=False)
    )


class PlanBuilding(Base):
    """A building of a plan's area as the plan was drafted: its point on surface, the live grid
    it was in, and its counts. Edits re-sum these (an indexed point-in-polygon), so the impact
    of an edit costs the buildings it touches, not a walk through houses and residents."""

    __tablename__ = "plan_buildings"
    __table_args__ = (
        # a plan's buildings in a box: the plans drafted before of the same area lie there too
        Index("ix_plan_buildings_plan_id_geom", "plan_id", "geom", postgresql_using="gist"),
    )

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("grid_plans.id", ondelete="CASCADE"), primary_key=True
    )
    building_uid: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    building_code: Mapped[str] = mapped_column(String(25))
    community_code: Mapped[str | None] = mapped_column(String(12))
    live_code: Mapped[str | None] = mapped_column(String(15))
    counts: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4490, spatial_index=False))


class BuildingCounts(Base):
    """What a building holds (``gis.grids.snapshot_queries.COUNT_FIELDS`` order, then its
    floating residents by primary residence: ``gis.grids.building_counts.FLOATING_PRIMARY``) on
    the dates ``[valid_from, valid_until)``, as counted when ``counted_generation`` was its
    generation.

    Triggers on houses, residences, people and organizations (migration 0010_counts) bump
    ``generation`` whenever a statement changes what a building holds; a row is current for a
    date when the two generations are equal and the date is in its range
    (``gis.grids.building_counts``). No foreign key: buildings are never deleted (retired).
    """

    __tablename__ = "building_counts"

    building_uid: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, server_default="0")
    counted_generation: Mapped[int | None] = mapped_column(BigInteger)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    counts: Mapped[list[int] | None] = mapped_column(ARRAY(Integer))


class _PgSnapshot(UserDefinedType[str]):
    """PostgreSQL's ``pg_snapshot``: which transactions a snapshot saw."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "pg_snapshot"


class _Xid8(UserDefinedType[str]):
    """PostgreSQL's ``xid8``: a transaction id."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "xid8"


class BuildingGrid(Base):
    """A building whose point on surface a grid version covers, as found by
    ``gis.grids.placing`` (migration 0011_places). No foreign keys: a kept answer, made again
    whenever it may be out of date."""

    __tablename__ = "building_grids"

    grid_uid: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    building_uid: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, index=True)


class GridPlacement(Base):
    """When a grid version's ``building_grids`` rows were made: the snapshot they were read in,
    the transaction and the moment (an edit of buildings in the grid's box that the snapshot
    did not see, or made later by the same transaction, makes them stale)."""

    __tablename__ = "grid_placements"

    grid_uid: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    snapshot: Mapped[str] = mapped_column(_PgSnapshot())
    placed_xid: Mapped[str] = mapped_column(_Xid8())
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BuildingEdit(Base):
    """The box of the buildings one statement inserted, moved, retired or deleted, and the
    transaction that made it (written by triggers on ``buildings``, migration 0011_places)."""

    __tablename__ = "building_edits"
    __table_args__ = (Index("ix_building_edits_box", "box", postgresql_using="gist"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    xid: Mapped[str] = mapped_column(_Xid8(), server_default=text("pg_current_xact_id()"))
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("clock_timestamp()")
    )
    box: Mapped[WKBElement] = mapped_column(Geometry("GEOMETRY", srid=4490, spatial_index=False))
