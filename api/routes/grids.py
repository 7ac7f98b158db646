"""``/api/grids``: grid outlines valid on a date (GeoJSON), one grid with its history, its
statistics (full within the caller's scope, suppressed for planners), topology problems."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from api.deps import ScopeDep, SessionDep
from api.routes.grid_config import class_config
from gis.access.scope import division_prefix
from gis.buildings.features import parse_bbox
from gis.clock import IsoDate, today_in_china
from gis.divisions.service import pad_code
from gis.grids import service
from gis.grids.classes import ClassConfig
from gis.grids.schemas import GridStats, GridStatsAggregate
from gis.grids.validation import validate_live
from gis.users.models import Role

router = APIRouter(prefix="/api/grids", tags=["grids"])

GEOJSON = "application/geo+json"
At = Annotated[
    IsoDate | None, Query(description="the date the grids are valid on (YYYY-MM-DD; default today)")
]
Division = Annotated[
    str,
    Query(
        pattern=r"^[0-9]{6}([0-9]{3}([0-9]{3})?)?$", description="a 6, 9 or 12-digit division code"
    ),
]
ConfigDep = Annotated[ClassConfig, Depends(class_config)]


class GridFeature(BaseModel):
    """A grid version as a GeoJSON Feature, with its versions and lineage."""

    type: str
    id: str
    geometry: dict[str, Any]
    properties: dict[str, Any]
    versions: list[dict[str, Any]]
    lineage: list[dict[str, Any]]


@router.get("", response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def list_grids(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    at: At = None,
    bbox: Annotated[str | None, Query(description="min_lon,min_lat,max_lon,max_lat")] = None,
    division: Annotated[str | None, Query(pattern=r"^[0-9]{6}([0-9]{3}([0-9]{3})?)?$")] = None,
    building: Annotated[str | None, Query(max_length=40, description="a building code")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_GRID_PAGE)] = 100,
    after: Annotated[str, Query(max_length=15)] = "",
) -> Response:
    """Grid versions valid on ``at`` as a FeatureCollection (EPSG:4326), in code order, paged
    by ``after``; ``building`` gives the grid of a building the caller may see."""
    body, next_after = service.grid_page(
        session,
        scope=scope,
        on=at or today_in_china(),
        bbox=parse_bbox(bbox) if bbox else None,
        prefix=division_prefix(pad_code(division)) if division else None,
        building_code=building,
        limit=limit,
        after=after,
    )
    headers = {}
    if next_after is not None:
        params = {k: v for k, v in request.query_params.items() if k != "after"}
        params["after"] = next_after
        headers["Link"] = f'<{request.url.path}?{urlencode(params)}>; rel="next"'
    return Response(content=body, media_type=GEOJSON, headers=headers)


@router.get("/problems")
def read_problems(
    session: SessionDep, scope: ScopeDep, division: Division, at: At = None
) -> dict[str, Any]:
    """Every topology problem of the grids valid on ``at`` in a division, as a FeatureCollection
    (planners and admins)."""
    scope.require_role(Role.PLANNER, Role.ADMIN)
    report = validate_live(
        session, prefix=division_prefix(pad_code(division)), on=at or today_in_china()
    )
    return {
        **report.feature_collection(),
        "errors": len(report.errors),
        "warnings": len(report.warnings),
    }


@router.get("/{code}", response_model=GridFeature)
def read_grid(code: str, session: SessionDep, scope: ScopeDep, at: At = None) -> dict[str, Any]:
    """The version of a grid valid on ``at``, with every version, its lineage and its class
    explanation."""
    return service.grid_detail(session, code=code, on=at or today_in_china(), scope=scope)


@router.get("/{code}/stats", response_model=GridStats | GridStatsAggregate)
def read_grid_stats(
    code: str, session: SessionDep, scope: ScopeDep, config: ConfigDep, at: At = None
) -> GridStats | GridStatsAggregate:
    """Indicators of a grid on ``at``: in full for grids in the caller's scope, with counts
    from 1 to 4 suppressed for planners."""
    return service.grid_stats(
        session, code=code, on=at or today_in_china(), scope=scope, config=config
    )
