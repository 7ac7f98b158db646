"""SQL of the divisions domain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from gis.crs import STORAGE_SRID
from gis.divisions.models import Division, DivisionLevel


def select_division_index(session: Session) -> dict[str, tuple[str, str | None]]:
    """code → (name, parent_code) of every stored division."""
    rows = session.execute(select(Division.code, Division.name, Division.parent_code))
    return {code: (name, parent) for code, name, parent in rows}


def insert_divisions(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(Division.__table__), list(rows))  # type: ignore[arg-type]


def update_divisions(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Rename or re-parent divisions; rows carry ``b_code``, ``name``, ``parent_code``."""
    if rows:
        statement = (
            update(Division)
            .where(Division.code == bindparam("b_code"))
            .values(name=bindparam("name"), parent_code=bindparam("parent_code"))
        )
        session.connection().execute(statement, list(rows))


def update_boundary(session: Session, *, code: str, wkb: bytes) -> int:
    """Set one division's boundary unless it already equals it; returns rows changed (0 or 1)."""
    new_geom = func.ST_Multi(func.ST_GeomFromWKB(wkb, STORAGE_SRID))
    statement = (
        update(Division)
        .where(Division.code == code)
        .where(Division.geom.is_(None) | ~func.ST_Equals(Division.geom, new_geom))
        .values(geom=new_geom)
    )
    return session.execute(statement).rowcount  # type: ignore[attr-defined, no-any-return]


def select_known_codes(session: Session, codes: Sequence[str]) -> set[str]:
    return set(session.scalars(select(Division.code).where(Division.code.in_(codes))))


def count_by_level(session: Session) -> dict[DivisionLevel, int]:
    statement = select(Division.level, func.count()).group_by(Division.level)
    return {level: count for level, count in session.execute(statement).all()}  # noqa: C416


def select_boundaries(session: Session, codes: Sequence[str]) -> dict[str, bytes]:
    """The stored boundaries (WKB, EPSG:4490) of those of ``codes`` that have one."""
    rows = session.execute(
        select(Division.code, func.ST_AsBinary(Division.geom)).where(
            Division.code.in_(codes), Division.geom.is_not(None)
        )
    )
    return {code: bytes(wkb) for code, wkb in rows}


def select_boundary_extent(session: Session) -> tuple[float, float, float, float] | None:
    """(min_lon, min_lat, max_lon, max_lat) of every stored boundary; None when there is none."""
    box = session.execute(
        select(
            func.min(func.ST_XMin(Division.geom)),
            func.min(func.ST_YMin(Division.geom)),
            func.max(func.ST_XMax(Division.geom)),
            func.max(func.ST_YMax(Division.geom)),
        ).where(Division.geom.is_not(None))
    ).one()
    if box[0] is None:
        return None
    return (float(box[0]), float(box[1]), float(box[2]), float(box[3]))
