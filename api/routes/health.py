"""``GET /healthz``: is the service up and can it reach PostGIS."""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, OperationalError

from gis.db import postgis_version

logger = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]
    postgis: str


class Unhealthy(BaseModel):
    status: Literal["unavailable"]
    reason: str


@router.get("/healthz", response_model=Health, responses={503: {"model": Unhealthy}})
def healthz(request: Request) -> Health | JSONResponse:
    """Answer from a real query of the PostGIS version; 503 when the database cannot be
    reached. The route is public, so the database's own words (its host, port and user name)
    go to the server's log, not to the caller. ``HEAD`` too, for monitors that probe with it."""
    try:
        with request.app.state.session_factory() as session:
            version = postgis_version(session)
    except (OperationalError, DBAPIError) as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        logger.error("healthz: the database is unreachable: %s", reason)
        body = Unhealthy(status="unavailable", reason="database unreachable (see the server log)")
        return JSONResponse(status_code=503, content=body.model_dump())
    return Health(status="ok", postgis=version)


# HEAD for monitors, out of the schema (one operation id per route: both methods made two)
router.add_api_route(
    "/healthz", healthz, methods=["HEAD"], include_in_schema=False, response_model=Health
)
