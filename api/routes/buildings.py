"""``/api/buildings``: pages of footprints (GeoJSON built by PostGIS), one building, its houses."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from api.deps import ScopeDep, SessionDep
from api.limits import MAX_PAGE_SIZE, PageLimit
from gis.buildings import queries, service
from gis.buildings.features import MAX_PAGE, building_page, parse_bbox
from gis.clock import ChinaTime
from gis.codes import group_code
from gis.houses import queries as house_queries
from gis.houses.editing import HouseRead, house_read

router = APIRouter(prefix="/api/buildings", tags=["buildings"])

GEOJSON = "application/geo+json"


class FootprintVersion(BaseModel):
    version: int
    valid_from: ChinaTime
    valid_to: ChinaTime | None
    reason: str | None
    geometry: dict[str, Any]


class LineageRead(BaseModel):
    parent_code: str
    child_code: str
    event: str
    happened_on: date


class BuildingRead(BaseModel):
    """A building as a GeoJSON Feature plus its houses, footprint history and lineage."""

    type: str = "Feature"
    id: str
    geometry: dict[str, Any]
    properties: dict[str, Any]
    houses: list[HouseRead]
    history: list[FootprintVersion]
    lineage: list[LineageRead]


class FeatureCollectionSchema(BaseModel):
    """Documentation of the GeoJSON page (the body itself is built by PostGIS)."""

    type: str
    features: list[dict[str, Any]]
    numberReturned: int  # noqa: N815 - OGC API name
    next: str | None


@router.get(
    "",
    response_class=Response,
    responses={
        200: {"content": {GEOJSON: {"schema": FeatureCollectionSchema.model_json_schema()}}}
    },
)
def list_buildings(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    bbox: Annotated[
        str | None, Query(description="min_lon,min_lat,max_lon,max_lat (EPSG:4326)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1000,
    after: Annotated[str, Query(max_length=25, description="the `next` of the previous page")] = "",
    include_retired: bool = False,
) -> Response:
    """A page of the buildings in the caller's scope as an RFC 7946 FeatureCollection
    (EPSG:4326), in code order."""
    page = building_page(
        session,
        scope_clause=scope.buildings_clause(),
        bbox=parse_bbox(bbox) if bbox else None,
        limit=limit,
        after=after,
        include_retired=include_retired,
    )
    headers = {}
    if page.next_after is not None:
        params = {k: v for k, v in request.query_params.items() if k != "after"}
        params["after"] = page.next_after
        headers["Link"] = f'<{request.url.path}?{urlencode(params)}>; rel="next"'
    return Response(content=page.geojson, media_type=GEOJSON, headers=headers)


@router.get("/{code}", response_model=BuildingRead)
def read_building(code: str, session: SessionDep, scope: ScopeDep) -> BuildingRead:
    """One building in the caller's scope by code (grouped or not): feature, houses, footprint
    history, lineage."""
    building = service.get_building(session, code=code, scope=scope)
    feature = queries.select_building_feature(session, uid=building.uid)
    houses = house_queries.select_houses_of(session, building_uid=building.uid)
    return BuildingRead(
        id=building.code,
        geometry=feature["geometry"],
        properties=feature["properties"] | {"code_grouped": group_code(building.code)},
        houses=[house_read(h) for h in houses],
        history=[
            FootprintVersion(
                **{k: v for k, v in row.items() if k != "geojson"}, geometry=row["geojson"]
            )
            for row in queries.select_footprint_history(session, building_uid=building.uid)
        ],
        lineage=[
            LineageRead(
                parent_code=l.parent_code,
                child_code=l.child_code,
                event=l.event.value,
                happened_on=l.happened_on,
            )
            for l in queries.select_lineage(session, code=building.code)  # noqa: E741
        ],
    )


@router.get("/{code}/houses", response_model=list[HouseRead])
def read_building_houses(
    code: str,
    request: Request,
    response: Response,
    session: SessionDep,
    scope: ScopeDep,
    limit: PageLimit = MAX_PAGE_SIZE,
    after: Annotated[int, Query(ge=0, le=99_999, description="the unit the page follows")] = 0,
) -> list[HouseRead]:
    """The houses (units) of a building in the caller's scope, in unit order, a page at a time
    (a building may hold 99,999): a ``Link: <…>; rel="next"`` header while more follow."""
    building = service.get_building(session, code=code, scope=scope)
    houses = house_queries.select_houses_of(
        session, building_uid=building.uid, after=after, limit=limit + 1
    )
    if len(houses) > limit:
        houses = houses[:limit]
        params = {k: v for k, v in request.query_params.items() if k != "after"}
        params["after"] = str(houses[-1].unit)
        response.headers["Link"] = f'<{request.url.path}?{urlencode(params)}>; rel="next"'
    return [house_read(h) for h in houses]
