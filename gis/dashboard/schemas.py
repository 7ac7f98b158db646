"""The dashboard's figures as the JSON API returns them (aggregates only, for every role but the
auditor): the same numbers as the ``/dashboard`` page's cards, charts and table."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from gis.access.schemas import AggregateModel
from gis.dashboard.service import DashboardData, GridFigures
from gis.people.schemas_quality import QualityReport

Count = int | None
"""A count, or ``None`` where it is suppressed (planners: 1 to 4)."""


class GridDashboard(AggregateModel):
    code: str
    grid_name: str | None
    grid_class: str
    counts: dict[str, Count] = Field(
        description="households, resident_count, floating_count, houses, rented_houses, "
        "open_events, overdue_events, accepted_events, closed_events"
    )
    floating_share: float | None
    quality: QualityReport | None
    overdue_declarations: Count = Field(description="null for planners")
    overdue_departures: Count = Field(description="null for planners")
    open_events_by_kind: dict[str, Count]
    closure_rate: float | None = Field(description="closed / accepted events (结案率)")


class DashboardRead(AggregateModel):
    on: date
    division_code: str | None
    grids: list[GridDashboard]
    totals: dict[str, Count]
    floating_share: float | None
    class_mix: dict[str, int]
    quality: QualityReport | None
    has_overdue: bool
    is_truncated: bool = Field(
        description="more grids than listed (100): totals, class mix and events still cover "
        "them all; quality and overdue work cover the grids listed; narrow by division"
    )
    quality_grids: int = Field(description="how many grids the quality and overdue cover")
    next: str | None = Field(
        description="the `after` of the next grids to list (null: the last are listed)"
    )
    open_events_by_kind: dict[str, Count]
    closure_rate: float | None


def _grid(grid: GridFigures) -> GridDashboard:
    return GridDashboard(
        code=grid.code, grid_name=grid.name, grid_class=grid.grid_class, counts=grid.counts,
        floating_share=grid.floating_share, quality=grid.quality,
        overdue_declarations=grid.overdue_declarations,
        overdue_departures=grid.overdue_departures,
        open_events_by_kind=grid.open_events_by_kind, closure_rate=grid.closure_rate,
    )  # fmt: skip


def dashboard_read(data: DashboardData) -> DashboardRead:
    """The response of ``GET /api/dashboard``."""
    return DashboardRead(
        on=data.on, division_code=data.division_code, grids=[_grid(g) for g in data.grids],
        totals=data.totals, floating_share=data.floating_share, class_mix=data.class_mix,
        quality=data.quality, has_overdue=data.has_overdue, is_truncated=data.is_truncated,
        quality_grids=data.quality_grids, next=data.next_after,
        open_events_by_kind=data.open_events_by_kind,
        closure_rate=data.closure_rate,
    )  # fmt: skip
