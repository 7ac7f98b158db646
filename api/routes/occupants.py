"""Occupant queries: who lived in a house, a building, near a point, in a polygon or a grid, on
any date. Scoped, purpose-bound for police, audited; the JSON is built by PostgreSQL."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from sqlalchemy.orm import Session

from api.deps import SessionDep, each_statement_commits
from api.limits import DEFAULT_PAGE_SIZE, PageLimit
from api.personal import AtQuery, Audited, PurposeQuery, audited, on_date
from gis.errors import InvalidInput
from gis.people import occupancy
from gis.people.occupancy import MAX_RADIUS_M, MIN_RADIUS_M, OccupantResult
from gis.people.schemas import OccupantSearch, OccupantsPage

router = APIRouter(tags=["occupants"])

CodePath = Annotated[str, Path(max_length=40, description="a 25-character code, grouped or not")]
AfterQuery = Annotated[
    str | None, Query(max_length=80, description="the `next` of the previous page")
]


def _respond(session: Session, audit: Audited, result: OccupantResult) -> Response:
    audit.record(
        session,
        row_count=result.page.returned,
        target_codes=result.target_codes,
        query_geom=result.query_geom,
    )
    # the row is durable when its statement returns (autocommit: each_statement_commits);
    # ending the session here, on the route's worker thread, spares get_session a thread hop
    session.commit()
    return Response(content=result.page.json, media_type="application/json")


@router.get("/api/houses/{code}/occupants", response_model=OccupantsPage)
def read_house_occupants(
    code: CodePath,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("occupants.house"))],
    at: AtQuery = None,
    purpose: PurposeQuery = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    after: AfterQuery = None,
) -> Response:
    """The people whose residence in this house covered ``at`` (default today)."""
    audit.state_purpose(purpose, targets=[code])
    each_statement_commits(session)
    result = occupancy.house_occupants(
        session, scope=audit.scope, code=code, at=on_date(at), limit=limit, after=after
    )
    return _respond(session, audit, result)


@router.get("/api/buildings/{code}/occupants", response_model=OccupantsPage)
def read_building_occupants(
    code: CodePath,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("occupants.building"))],
    at: AtQuery = None,
    purpose: PurposeQuery = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    after: AfterQuery = None,
) -> Response:
    """The people of the building's houses on ``at``, grouped by house."""
    audit.state_purpose(purpose, targets=[code])
    each_statement_commits(session)
    result = occupancy.building_occupants(
        session, scope=audit.scope, code=code, at=on_date(at), limit=limit, after=after
    )
    return _respond(session, audit, result)


@router.get("/api/occupants", response_model=OccupantsPage)
def read_occupants_near(
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("occupants.radius"))],
    lon: Annotated[float, Query(description="longitude (east) in `crs`")],
    lat: Annotated[float, Query(description="latitude (north) in `crs`")],
    radius_m: Annotated[
        float,
        Query(ge=MIN_RADIUS_M, le=MAX_RADIUS_M, allow_inf_nan=False, description="metres"),
    ],
    crs: Annotated[
        str | None, Query(max_length=20, description="EPSG:4326, EPSG:4490, GCJ02 or BD09")
    ] = None,
    at: AtQuery = None,
    purpose: PurposeQuery = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    after: AfterQuery = None,
) -> Response:
    """The people of houses in buildings whose footprint lies within ``radius_m`` metres of
    the point, on ``at``."""
    audit.state_purpose(purpose)
    each_statement_commits(session)
    result = occupancy.radius_occupants(
        session, scope=audit.scope, lon=lon, lat=lat, radius_m=radius_m, crs=crs,
        at=on_date(at), limit=limit, after=after,
    )  # fmt: skip
    return _respond(session, audit, result)


@router.post("/api/occupants/search", response_model=OccupantsPage)
def search_occupants(
    search: OccupantSearch,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("occupants.search"))],
) -> Response:
    """The people of houses in buildings that intersect a GeoJSON polygon, or that belong to a
    grid (its version valid on ``at``)."""
    audit.state_purpose(search.purpose, targets=[search.grid] if search.grid else [])
    at = on_date(search.at)
    if (search.polygon is None) == (search.grid is None):
        raise InvalidInput("give either polygon or grid", field="polygon")
    each_statement_commits(session)
    if search.grid is not None:
        result = occupancy.grid_occupants(
            session, scope=audit.scope, code=search.grid, at=at, limit=search.limit,
            after=search.after,
        )  # fmt: skip
    else:
        assert search.polygon is not None
        result = occupancy.polygon_occupants(
            session, scope=audit.scope, polygon=search.polygon, crs=search.crs, at=at,
            limit=search.limit, after=search.after,
        )  # fmt: skip
    return _respond(session, audit, result)
