"""One table from domain errors to HTTP statuses, and the handlers that apply it."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gis.errors import (
    Conflict,
    DatabaseUnavailable,
    EnvironmentProblem,
    GisError,
    InvalidInput,
    NotFound,
)

logger = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[GisError], int] = {
    NotFound: 404,
    InvalidInput: 422,
    Conflict: 409,
    DatabaseUnavailable: 503,
    EnvironmentProblem: 503,
}


def status_for(error: GisError) -> int:
    """The status of the most specific class in the table (subclasses inherit it)."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def error_body(error: GisError) -> dict[str, object]:
    """``{"detail": [{"loc": [field], "msg": ..., "type": ...}]}``, shaped like FastAPI's 422."""
    loc = [error.field] if error.field else []
    return {"detail": [{"loc": loc, "msg": error.message, "type": type(error).__name__}]}


def install_error_handlers(app: FastAPI) -> None:
    async def handle_domain_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, GisError)
        return JSONResponse(status_code=status_for(exc), content=error_body(exc))

    async def handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(status_code=500, content={"detail": "internal error"})

    app.add_exception_handler(GisError, handle_domain_error)
    app.add_exception_handler(Exception, handle_unexpected)
