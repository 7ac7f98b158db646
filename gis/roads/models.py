"""The ``roads`` table: road centrelines (OSM ``highway`` classes), used to suggest grids."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import BigInteger, CheckConstraint, Identity, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gis.columns import created_at_column
from gis.db import Base


class Road(Base):
    """One road centreline (a MultiLineString in EPSG:4490)."""

    __tablename__ = "roads"
    __table_args__ = (CheckConstraint("NOT ST_IsEmpty(geom)", name="geom_not_empty"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    highway: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTILINESTRING", srid=4490, spatial_index=True)
    )
    created_at: Mapped[datetime] = created_at_column()
