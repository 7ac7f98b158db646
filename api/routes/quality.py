"""Data quality (the four rates) per grid or division, and a grid's overdue work."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from api.deps import ScopeDep, SessionDep
from api.personal import AtQuery, Audited, PurposeQuery, audited, on_date
from gis.db import set_statement_timeout
from gis.errors import InvalidInput
from gis.people import quality
from gis.people.schemas_quality import OverdueList, QualityReport

router = APIRouter(tags=["quality"])

DIVISION_STATEMENT_TIMEOUT_MS = 60_000
"""The rates of a township or district read every resident of it: ~9 s for the demo's district
(694,516 residents) on a quiet 2-core machine, past the per-request limit, which answered 503
"narrow the request" to the one question a district's staff ask of it. As for a plan's routes
(``api.routes.plans``), this aggregate route lifts the limit."""

GridPath = Annotated[str, Path(pattern=r"^[0-9]{15}$", description="a 15-digit grid code")]


@router.get("/api/quality", response_model=QualityReport)
def read_quality(
    session: SessionDep,
    scope: ScopeDep,
    grid: Annotated[str | None, Query(pattern=r"^[0-9]{15}$", description="a grid code")] = None,
    division: Annotated[
        str | None, Query(pattern=r"^[0-9]{12}$", description="a 12-digit division code")
    ] = None,
    at: AtQuery = None,
) -> QualityReport:
    """Registration coverage, accuracy, late deregistration and residence permits of a grid
    or a division, each against its threshold (aggregates: planners may read them)."""
    if (grid is None) == (division is None):
        raise InvalidInput("give either grid or division", field="grid")
    on = on_date(at)
    if grid is not None:
        return quality.grid_quality(session, scope=scope, code=grid, on=on)
    assert division is not None
    set_statement_timeout(session, timeout_ms=DIVISION_STATEMENT_TIMEOUT_MS)
    return quality.division_quality(session, scope=scope, code=division, on=on)


@router.get("/api/grids/{code}/overdue", response_model=OverdueList)
def read_overdue(
    code: GridPath,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("grids.overdue"))],
    purpose: PurposeQuery = None,
) -> OverdueList:
    """Tenants whose landlord has not declared them within 3 working days, and departures not
    deregistered within 7 days (and those still within them), in a grid of the caller's scope,
    as of today."""
    audit.state_purpose(purpose, targets=[code])
    listing = quality.overdue(session, scope=audit.scope, code=code, on=on_date(None))
    listed = listing.declarations + listing.departures + listing.pending_departures
    audit.record(session, row_count=len(listed))
    return listing
