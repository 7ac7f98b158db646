"""Use cases of live grids: pages of outlines, one grid with its history, its statistics.

Outlines and suppressed counts are not personal data: every role but the auditor reads them.
Full statistics follow the caller's scope (``Scope.grids_clause``): an officer's own grids, a
police jurisdiction, everything for admins; planners get the suppressed aggregate instead.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.buildings import service as building_service
from gis.codes import is_ascii_digits, parse_grid_code
from gis.errors import InvalidInput, NotFound
from gis.grids import queries
from gis.grids.classes import ClassConfig, officers_needed
from gis.grids.explain import ESTIMATED_NOTE
from gis.grids.indicators import measure_live_grids
from gis.grids.models import Grid
from gis.grids.schemas import (
    GridStats,
    GridStatsAggregate,
    full_stats,
    suppressed_stats,
)
from gis.users.models import Role

MAX_GRID_PAGE = 1000


def grid_page(
    session: Session,
    *,
    scope: Scope,
    on: date,
    bbox: queries.Bbox | None = None,
    prefix: str | None = None,
    building_code: str | None = None,
    limit: int = 100,
    after: str = "",
) -> tuple[str, str | None]:
    """Grid versions valid on ``on`` as a FeatureCollection page; ``building_code`` gives the
    grid of one building the caller may see (a building outside the scope is not found)."""
    scope.require_aggregates()
    if not 1 <= limit <= MAX_GRID_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_GRID_PAGE}", field="limit")
    if after and not (len(after) == 15 and is_ascii_digits(after)):
        raise InvalidInput("not a cursor of this list (a grid code from `next`)", field="after")
    code = None
    if building_code is not None:
        code = building_service.get_building(
            session, code=building_code, scope=scope, field="building"
        ).code
    return queries.grids_geojson(
        session, on=on, bbox=bbox, prefix=prefix, building_code=code, limit=limit, after=after
    )


def get_grid(session: Session, *, code: str, on: date, scope: Scope) -> Grid:
    """The version of a grid valid on ``on``; NotFound when none is."""
    scope.require_aggregates()
    parsed = parse_grid_code(code)
    grid = queries.select_grid(session, code=parsed, on=on)
    if grid is None:
        raise NotFound(f"no grid has this code on {on}", field="code")
    return grid


def grid_detail(session: Session, *, code: str, on: date, scope: Scope) -> dict[str, Any]:
    """The grid as a Feature, with its versions, lineage, class and explanation."""
    grid = get_grid(session, code=code, on=on, scope=scope)
    feature = queries.grid_feature(session, uid=grid.uid)
    explanation = grid.class_explanation or {}
    in_scope = queries.select_grid(session, code=grid.code, on=on, where=scope.grids_clause())
    feature["properties"]["class_explanation"] = (
        explanation if in_scope is not None else redacted_explanation(explanation)
    )
    feature["versions"] = [
        {**row, "grid_class": None if row["grid_class"] is None else str(row["grid_class"])}
        for row in queries.select_versions(session, code=grid.code)
    ]
    feature["lineage"] = [
        {
            "parent_code": row.parent_code,
            "child_code": row.child_code,
            "event": str(row.event),
            "happened_on": row.happened_on,
        }
        for row in queries.select_grid_lineage(session, code=grid.code)
    ]
    return feature


def grid_stats(
    session: Session, *, code: str, on: date, scope: Scope, config: ClassConfig
) -> GridStats | GridStatsAggregate:
    """A grid's indicators on ``on``: in full within the caller's scope, suppressed for
    planners; a grid outside an officer's or police user's scope is not found."""
    scope.require_aggregates()
    parsed = parse_grid_code(code)
    where = None if scope.role is Role.PLANNER else scope.grids_clause()
    grid = queries.select_grid(session, code=parsed, on=on, where=where)
    if grid is None:
        raise NotFound(f"no grid has this code on {on}", field="code")
    indicators = measure_live_grids(session, grids=[(grid.uid, grid.community_code)], on=on)[
        str(grid.uid)
    ]
    grid_class = None if grid.grid_class is None else str(grid.grid_class)
    officers = officers_needed(indicators, grid_class, config)
    notes = [ESTIMATED_NOTE] if indicators.households_estimated else []
    build = suppressed_stats if scope.role is Role.PLANNER else full_stats
    return build(
        code=grid.code,
        on=on.isoformat(),
        indicators=indicators,
        officers=officers,
        grid_class=grid_class,
        notes=notes,
    )


def redacted_explanation(explanation: dict[str, Any]) -> dict[str, Any]:
    """A class explanation without the indicator values (small counts could point at a person):
    for callers who may not see the grid's statistics in full."""
    keep = (
        "class",
        "score_class",
        "previous_class",
        "percentile",
        "cut_offs",
        "margin",
        "deciding",
        "trigger_names",
        "hysteresis",
    )
    return {key: explanation[key] for key in keep if key in explanation}
