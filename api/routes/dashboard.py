"""``GET /api/dashboard``: the dashboard's figures as JSON (aggregates; the page draws the same)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ScopeDep, SessionDep
from gis.dashboard.schemas import DashboardRead, dashboard_read
from gis.dashboard.service import dashboard_data
from gis.people.periods import today_in_china

router = APIRouter(tags=["dashboard"])


@router.get("/api/dashboard", response_model=DashboardRead)
def read_dashboard(
    session: SessionDep,
    scope: ScopeDep,
    division: Annotated[
        str | None, Query(pattern=r"^[0-9]{12}$", description="only the grids under it")
    ] = None,
    after: Annotated[
        str | None, Query(pattern=r"^[0-9]{15}$", description="list the grids after this code")
    ] = None,
) -> DashboardRead:
    """In total for the grids the caller may see, and per grid for at most 100 of them in code
    order (the next ones with ``after`` = the answer's ``next``):
    households, residents, floating share, houses, rentals, class mix, the four quality rates,
    open events by kind, overdue events and the closure rate (closed / accepted events), and for
    officers, police and admins overdue declarations and departures. Planners get counts 1-4
    (and rates made from them) as null."""
    data = dashboard_data(session, scope=scope, division=division, on=today_in_china(), after=after)
    return dashboard_read(data)
