"""The ``grids`` table (one row per version of a grid) and the grid code counters."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gis.columns import created_at_column, enum_type
from gis.db import Base, valid_geometry_check


class GridClass(StrEnum):
    """加强型 / 重点型 / 常规型."""

    REINFORCED = "reinforced"
    KEY = "key"
    REGULAR = "regular"


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
        valid_geometry_check(),
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
