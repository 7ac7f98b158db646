"""The ``divisions`` table: one row per administrative division, with an optional boundary."""

from __future__ import annotations

from enum import StrEnum

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import CheckConstraint, ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from gis.columns import enum_type
from gis.db import Base, valid_geometry_check


class DivisionLevel(StrEnum):
    """Levels of the statistical division code, with the digits each level fills."""

    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"

    @property
    def digits(self) -> int:
        """How many leading digits of the 12-digit code are significant at this level."""
        return {"province": 2, "city": 4, "county": 6, "township": 9, "village": 12}[self.value]

    @property
    def rank(self) -> int:
        return list(DivisionLevel).index(self) + 1


class Division(Base):
    """A division (行政区划), keyed by its 12-digit statistical code padded with zeros."""

    __tablename__ = "divisions"
    __table_args__ = (
        CheckConstraint("code ~ '^[0-9]{12}$'", name="code_format"),
        CheckConstraint("rank BETWEEN 1 AND 5", name="rank_range"),
        valid_geometry_check(nullable=True),
    )

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[DivisionLevel] = mapped_column(enum_type(DivisionLevel, "division_level"))
    rank: Mapped[int] = mapped_column(SmallInteger)
    parent_code: Mapped[str | None] = mapped_column(
        String(12), ForeignKey("divisions.code"), index=True
    )
    geom: Mapped[WKBElement | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4490, spatial_index=True), nullable=True
    )
