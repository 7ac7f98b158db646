"""``GET /tiles/{layer}/{z}/{x}/{y}.pbf``: Mapbox vector tiles built by PostGIS, per caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response

from api.deps import ScopeDep, SessionDep, each_statement_commits
from gis.db import set_statement_timeout
from gis.settings import Settings
from gis.tiles import service
from gis.tiles.service import MAX_ZOOM

router = APIRouter(prefix="/tiles", tags=["tiles"])

MVT = "application/vnd.mapbox-vector-tile"
COUNTS_STATEMENT_TIMEOUT_MS = 60_000
"""For tiles that count buildings again (the floating residents' layer), as for a division's
quality (``api.routes.quality``): the first over a district whose counts are all stale counts
the whole district in one statement (~6 s for 100,000 buildings)."""


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


@router.get(
    "/{layer}/{z}/{x}/{y}.pbf",
    response_class=Response,
    responses={
        200: {"content": {MVT: {}}, "description": "the tile (empty when nothing is in it)"},
        304: {"description": "the tile has not changed since the ETag given"},
    },
)
def read_tile(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    layer: Annotated[
        str,
        Path(
            max_length=60,
            description="buildings, grids, roads or floating, or several joined by + "
            "(roads+grids+buildings) for one tile holding each",
        ),
    ],
    z: Annotated[int, Path(ge=0, le=MAX_ZOOM)],
    x: Annotated[int, Path(ge=0, le=2**MAX_ZOOM)],
    y: Annotated[int, Path(ge=0, le=2**MAX_ZOOM)],
    if_none_match: Annotated[str | None, Header(max_length=1024)] = None,
) -> Response:
    """A tile of ``layer`` as the caller may see it: features from the layer's detail zoom,
    H3 counts below it (layer ``h3``); see ``gis/tiles/service.py`` for who sees what."""
    layers = service.parse_layers(layer)
    if service.stores_counts(layers):
        # the first tile over a district whose kept counts are all stale counts it whole
        set_statement_timeout(session, timeout_ms=COUNTS_STATEMENT_TIMEOUT_MS)
    else:
        each_statement_commits(session)  # a tile that only reads
    tile = service.render_tile(session, layers=layers, z=z, x=x, y=y, scope=scope)
    # on the route's worker thread, sparing get_session a thread hop (in autocommit: sends nothing)
    session.commit()
    settings: Settings = request.app.state.settings
    headers = {
        "ETag": tile.etag,
        # per user (scoped), so never in a shared cache
        "Cache-Control": f"private, max-age={settings.tile_max_age_s}",
        "Vary": "Authorization, Cookie",
    }
    if _matches(if_none_match, tile.etag):
        return Response(status_code=304, headers=headers)
    return Response(content=tile.content, media_type=MVT, headers=headers)
