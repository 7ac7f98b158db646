"""``GET /healthz``: is the service up and can it reach PostGIS."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, OperationalError

from gis.db import postgis_version

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]
    postgis: str


class Unhealthy(BaseModel):
    status: Literal["unavailable"]
    reason: str


@router.get("/healthz", response_model=Health, responses={503: {"model": Unhealthy}})
def healthz(request: Request) -> Health | JSONResponse:
    """Answer from a real query of the PostGIS version; 503 with the reason when the database
    cannot be reached."""
    try:
        with request.app.state.session_factory() as session:
            version = postgis_version(session)
    except (OperationalError, DBAPIError) as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        body = Unhealthy(status="unavailable", reason=f"database unreachable: {reason}")
        return JSONResponse(status_code=503, content=body.model_dump())
    return Health(status="ok", postgis=version)
