"""``/ogc``: OGC API Features (Part 1 core and GeoJSON, Part 2 CRS) for QGIS and GDAL.

Thin: parameters are checked by :mod:`gis.ogc.service`, rows filtered by the caller's scope in
:mod:`gis.ogc.collections`, GeoJSON built by PostGIS. Each collection has its own item path
(``/ogc/collections/buildings/items/{code}``); any other collection name is a 404. JSON is
the only encoding: ``f=json`` (or no ``f``) and any ``Accept`` get it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from api import public_url
from api.deps import ScopeDep, SessionDep
from gis.clock import today_in_china
from gis.errors import InvalidInput
from gis.ogc import documents, service
from gis.ogc.collections import COLLECTIONS
from gis.ogc.crs import parse_crs_uri

router = APIRouter(prefix="/ogc", tags=["ogc"])

Format = Annotated[str | None, Query(description="json (the only encoding offered)")]
Crs = Annotated[
    str | None, Query(description="output CRS URI: CRS84 (default), EPSG/0/4490 or EPSG/0/4326")
]


def _check_format(f: str | None) -> None:
    if f is not None and f.lower() not in {"json", "geojson"}:
        raise InvalidInput("only json is offered", field="f")


def _root(request: Request) -> str:
    """``…/ogc``: every link is built on it, from ``GRIDHOUSE_PUBLIC_URL`` when set."""
    return public_url.base_url(request) + router.prefix


@router.get("", response_class=JSONResponse)
def landing_page(request: Request, scope: ScopeDep, f: Format = None) -> dict[str, Any]:
    """Links to the API definition, the conformance classes and the collections."""
    _check_format(f)
    openapi = public_url.base_url(request) + (request.app.openapi_url or "/openapi.json")
    return documents.landing_page(_root(request), openapi_url=openapi)


@router.get("/conformance")
def read_conformance(scope: ScopeDep, f: Format = None) -> dict[str, Any]:
    """The conformance classes this API implements."""
    _check_format(f)
    return documents.conformance()


@router.get("/collections")
def list_collections(
    request: Request, session: SessionDep, scope: ScopeDep, f: Format = None
) -> dict[str, Any]:
    """The collections the caller may read, with the extent of their rows in each."""
    _check_format(f)
    infos = service.list_collections(session, scope=scope, on=today_in_china())
    return documents.collections_document(_root(request), infos)


@router.get("/collections/{collection_id}")
def read_collection(
    collection_id: str, request: Request, session: SessionDep, scope: ScopeDep, f: Format = None
) -> dict[str, Any]:
    """One collection (buildings, grids or divisions) and the extent of your rows in it."""
    _check_format(f)
    info = service.describe_collection(
        session, collection_id=collection_id, scope=scope, on=today_in_china()
    )
    return documents.collection_document(_root(request), info)


ITEMS_PARAMETERS = frozenset({"limit", "bbox", "bbox-crs", "crs", "datetime", "after", "f"})
ITEM_PARAMETERS = frozenset({"crs", "datetime", "f"})
Datetime = Annotated[
    str | None, Query(description="grids: the date they are valid on (default today)")
]


def _check_known_parameters(request: Request, known: frozenset[str] = ITEMS_PARAMETERS) -> None:
    """OGC API Features (/req/core/query-param-unknown): a parameter the API does not define
    is refused, so a client paging by ``offset`` is not silently given the first page again
    (nor a misspelt ``datetime`` today's grid)."""
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        names = ", ".join(sorted(known))
        raise InvalidInput(f"unknown parameter {unknown[0]!r}; known: {names}", field=unknown[0])


@router.get(
    "/collections/{collection_id}/items",
    response_class=Response,
    responses={200: {"content": {documents.GEOJSON: {}}}},
)
def read_items(
    collection_id: str,
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = service.DEFAULT_LIMIT,
    bbox: Annotated[str | None, Query(description="in bbox-crs axis order")] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs")] = None,
    crs: Crs = None,
    datetime: Datetime = None,
    after: Annotated[str, Query(max_length=25, description="from a `next` link")] = "",
    f: Format = None,
) -> Response:
    """A page of a collection's features as GeoJSON in id order; follow `next` for more."""
    _check_format(f)
    _check_known_parameters(request)
    items = service.parse_items_request(
        limit=limit, bbox=bbox, bbox_crs=bbox_crs, crs=crs, after=after, datetime_value=datetime
    )
    page = service.items_page(
        session, collection_id=collection_id, scope=scope, request=items, today=today_in_china()
    )
    root = _root(request)
    url = f"{root}/collections/{collection_id}/items"
    params = dict(request.query_params)
    next_url = None
    if page.next_after is not None:
        next_url = documents.page_url(url, params, after=page.next_after)
    body = documents.feature_collection_text(
        self_url=documents.page_url(url, params),
        next_url=next_url,
        collection_url=f"{root}/collections/{collection_id}",
        page=page,
    )
    return Response(body, media_type=documents.GEOJSON, headers=documents.crs_header(items.crs))


def _item_route(collection_id: str) -> Callable[..., Response]:
    def read_item(
        code: str, request: Request, session: SessionDep, scope: ScopeDep,
        crs: Crs = None, datetime: Datetime = None, f: Format = None,
    ) -> Response:  # fmt: skip
        _check_format(f)
        _check_known_parameters(request, ITEM_PARAMETERS)
        output_crs = parse_crs_uri(crs)
        feature = service.item(
            session, collection_id=collection_id, feature_id=code, scope=scope,
            crs=output_crs, today=today_in_china(),
            on=service.parse_instant(datetime) if datetime else None,
        )  # fmt: skip
        root = _root(request)
        body = documents.feature_text(
            feature=feature,
            self_url=documents.page_url(
                f"{root}/collections/{collection_id}/items/{code}", dict(request.query_params)
            ),
            collection_url=f"{root}/collections/{collection_id}",
        )
        return Response(
            body, media_type=documents.GEOJSON, headers=documents.crs_header(output_crs)
        )

    read_item.__doc__ = f"One feature of {collection_id} by its code."
    return read_item


# one item route per collection: ``{code}`` is a building, grid or division code
for _id in COLLECTIONS:
    router.add_api_route(
        f"/collections/{_id}/items/{{code}}", _item_route(_id), methods=["GET"],
        name=f"read_{_id}_item", response_class=Response,
        responses={200: {"content": {documents.GEOJSON: {}}}},
    )  # fmt: skip
