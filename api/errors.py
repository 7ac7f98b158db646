"""One table from domain errors to HTTP statuses, and the handlers that apply it."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg import errors as pg_errors
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from gis.db import race_conflict
from gis.errors import (
    AuthenticationFailed,
    Conflict,
    DatabaseUnavailable,
    EnvironmentProblem,
    Forbidden,
    GisError,
    InvalidInput,
    NotFound,
    RateLimited,
    TopologyViolation,
)

logger = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[GisError], int] = {
    NotFound: 404,
    AuthenticationFailed: 401,
    Forbidden: 403,
    RateLimited: 429,
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
    """``{"detail": [{"loc": [field], "msg": ..., "type": ...}]}``, shaped like FastAPI's 422;
    a topology refusal adds ``problems`` (a GeoJSON FeatureCollection a map can draw)."""
    loc = [error.field] if error.field else []
    body: dict[str, object] = {
        "detail": [{"loc": loc, "msg": error.message, "type": type(error).__name__}]
    }
    if isinstance(error, TopologyViolation):
        body["problems"] = error.problems
    return body


def error_response(error: GisError) -> JSONResponse:
    """The response for a domain error, with ``WWW-Authenticate`` or ``Retry-After`` when due."""
    headers: dict[str, str] = {}
    if isinstance(error, AuthenticationFailed):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after_s)
    return JSONResponse(status_code=status_for(error), content=error_body(error), headers=headers)


def _printable(value: object) -> object:
    """A location part or message that JSON encodes as UTF-8: a lone surrogate (``\\ud800`` in
    a key the caller sent) becomes ``?`` instead of failing the response."""
    return value.encode("utf-8", "replace").decode("utf-8") if isinstance(value, str) else value


def validation_body(error: RequestValidationError) -> dict[str, object]:
    """FastAPI's 422 shape without the ``input`` (and ``ctx``, ``url``) of each error: the
    input may be a password, or bytes or text that cannot be written back as JSON (which made
    FastAPI's own handler a 500 that logged the whole body)."""
    return {
        "detail": [
            {
                "loc": [_printable(part) for part in item.get("loc", ())],
                "msg": _printable(_message(item)),
                "type": item.get("type", ""),
            }
            for item in error.errors()
        ]
    }


def _message(item: dict[str, Any]) -> str:
    """The error's message; for a body that is not JSON, with the parser's reason (FastAPI
    keeps it in ``ctx``, which is not sent: it may hold the input)."""
    if item.get("type") == "json_invalid":
        reason = (item.get("ctx") or {}).get("error", "")
        return f"not JSON: {reason}" if reason else "not JSON"
    return str(item.get("msg", ""))


def install_error_handlers(app: FastAPI) -> None:
    async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse(status_code=422, content=validation_body(exc))

    async def handle_domain_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, GisError)
        return error_response(exc)

    async def handle_data_error(request: Request, exc: Exception) -> JSONResponse:
        # a value PostgreSQL refuses (integer out of range, bad text): the caller's fault, 422
        logger.info("data error on %s %s: %s", request.method, request.url.path, exc)
        return error_response(InvalidInput("a value is out of range or malformed"))

    async def handle_integrity_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, IntegrityError)
        conflict = race_conflict(exc)
        if conflict is None:
            return await handle_unexpected(request, exc)
        # another request stored the same thing first, between this one's check and its write
        logger.warning("lost a race on %s %s: %s", request.method, request.url.path, exc.orig)
        return error_response(conflict)

    async def handle_operational_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, OperationalError)
        if isinstance(exc.orig, pg_errors.QueryCanceled):
            message = "the database did not answer in time; narrow the request"
        elif isinstance(exc.orig, pg_errors.DeadlockDetected | pg_errors.SerializationFailure):
            # a concurrent change got in the way (two moves between the same two buildings in
            # opposite directions at the same moment wait for each other's building counts):
            # PostgreSQL rolled this one back, nothing was stored, the same request succeeds
            # when sent again
            logger.warning("rolled back on %s %s: %s", request.method, request.url.path, exc.orig)
            retry = "a concurrent change got in the way; nothing was stored, send the request again"
            response = error_response(DatabaseUnavailable(retry))
            response.headers["Retry-After"] = "1"
            return response
        else:
            logger.error("database unavailable on %s %s: %s", request.method, request.url.path, exc)
            message = "the database is unavailable"
        return error_response(DatabaseUnavailable(message))

    async def handle_pool_timeout(request: Request, exc: Exception) -> JSONResponse:
        # every pooled connection stayed busy for the pool's timeout: overloaded, not broken
        logger.warning("no free database connection on %s %s", request.method, request.url.path)
        response = error_response(
            DatabaseUnavailable("every database connection is busy; try again shortly")
        )
        response.headers["Retry-After"] = "2"
        return response

    async def handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(status_code=500, content={"detail": "internal error"})

    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(GisError, handle_domain_error)
    app.add_exception_handler(DataError, handle_data_error)
    app.add_exception_handler(IntegrityError, handle_integrity_error)
    app.add_exception_handler(OperationalError, handle_operational_error)
    app.add_exception_handler(PoolTimeout, handle_pool_timeout)
    app.add_exception_handler(Exception, handle_unexpected)
