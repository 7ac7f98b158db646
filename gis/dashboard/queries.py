"""SQL of the pages' aggregates: which divisions hold live grids."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from gis.divisions.models import Division
from gis.grids.models import Grid
from gis.tiles.queries import current_grid_clause


@dataclass(frozen=True)
class DivisionRow:
    code: str
    name: str
    level: str


def divisions_with_grids(session: Session) -> list[DivisionRow]:
    """Communities with grids valid today, and the townships and counties above them, in code
    order (what a planner may draft a plan for, what a dashboard may be asked about)."""
    community = Grid.community_code
    codes = union(
        select(community).where(current_grid_clause()),
        select(func.rpad(func.left(community, 9), 12, "0")).where(current_grid_clause()),
        select(func.rpad(func.left(community, 6), 12, "0")).where(current_grid_clause()),
    ).subquery("codes")
    rows = session.execute(
        select(Division.code, Division.name, Division.level)
        .join(codes, codes.c[0] == Division.code)
        .order_by(Division.code)
    )
    return [DivisionRow(code, name, str(level)) for code, name, level in rows]
