"""The ``houses`` table: units inside a building, each with its own 25-character code."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from gis.buildings.models import CODE_PATTERN
from gis.columns import created_at_column, enum_type
from gis.db import Base


class HouseUse(StrEnum):
    RESIDENTIAL = "residential"
    COMMERCIAL = "commercial"
    MIXED = "mixed"
    DORM = "dorm"
    OFFICE = "office"
    OTHER = "other"


class HouseStatus(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


class House(Base):
    """A house (房屋/户): a flat, room or shop; floor and room are attributes, not identity."""

    __tablename__ = "houses"
    __table_args__ = (
        CheckConstraint(f"code ~ '{CODE_PATTERN}'", name="code_format"),
        CheckConstraint("unit BETWEEN 1 AND 99999", name="unit_range"),
        CheckConstraint("area_m2 IS NULL OR area_m2 > 0", name="area_positive"),
        UniqueConstraint("building_uid", "unit"),
    )

    uid: Mapped[uuid.UUID] = mapped_column(
        Uuid, primary_key=True, server_default=func.gen_random_uuid()
    )
    code: Mapped[str] = mapped_column(String(25), unique=True)
    building_uid: Mapped[uuid.UUID] = mapped_column(ForeignKey("buildings.uid"))
    district_code: Mapped[str] = mapped_column(String(6))
    unit: Mapped[int] = mapped_column(Integer)
    floor: Mapped[int | None] = mapped_column(SmallInteger)
    room: Mapped[str | None] = mapped_column(String(20))
    use: Mapped[HouseUse] = mapped_column(enum_type(HouseUse, "house_use"))
    area_m2: Mapped[float | None] = mapped_column(Float)
    rooms: Mapped[int | None] = mapped_column(SmallInteger)
    is_rented: Mapped[bool] = mapped_column(Boolean, server_default="false")
    landlord_uid: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.uid", use_alter=True), index=True
    )
    is_estimated: Mapped[bool] = mapped_column(Boolean, server_default="false")
    status: Mapped[HouseStatus] = mapped_column(
        enum_type(HouseStatus, "house_status"), server_default="active"
    )
    created_at: Mapped[datetime] = created_at_column()
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
