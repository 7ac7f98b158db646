"""The FastAPI application factory: ``create_app(settings)`` with the database in its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.access_log import redact_access_log
from api.errors import install_error_handlers
from api.headers import ResponseHeadersMiddleware
from api.limits import ConcurrencyLimitMiddleware, RequestGuardMiddleware, TokenBucketLimiter
from api.routes import (
    audit,
    auth,
    buildings,
    dashboard,
    docs,
    events,
    grids,
    health,
    houses,
    occupants,
    ogc,
    organizations,
    pages,
    people,
    plans,
    quality,
    search,
    tiles,
)
from api.routes.auth import LOGIN_PATH
from gis.db import APP_ROLE, database_url, make_async_pool, make_engine, make_session_factory
from gis.errors import EnvironmentProblem, InvalidInput
from gis.grids.classes import ClassConfig
from gis.people.periods import WorkCalendar
from gis.settings import Settings, get_settings
from gis.users.credentials import HASHES_AT_ONCE
from maps.assets import STATIC_DIR, STATIC_URL, VENDOR_DIR, VENDOR_URL


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; the engine is created at startup and disposed at shutdown.

    The embedded cluster is not started here (``gridhouse serve`` does that first), so building
    an app never has side effects on the machine.
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redact_access_log()  # after the server has set its logging up
        url = database_url(settings, start_embedded=False)
        engine = make_engine(
            url,
            pool_size=settings.pool_size,
            role=APP_ROLE if settings.db_use_app_role else None,
            statement_timeout_ms=settings.statement_timeout_ms,
        )
        app.state.engine = engine
        app.state.session_factory = make_session_factory(engine)
        auth_pool = make_async_pool(
            url,
            max_size=settings.pool_size,
            role=APP_ROLE if settings.db_use_app_role else None,
            statement_timeout_ms=settings.statement_timeout_ms,
        )
        await auth_pool.open(wait=False)
        app.state.auth_pool = auth_pool
        try:
            yield
        finally:
            await auth_pool.close()
            engine.dispose()

    app = FastAPI(
        title="gridhouse",
        version="0.1.0",
        summary="Grid-based community management and house coding on PostGIS",
        lifespan=lifespan,
        docs_url=None,  # api.routes.docs serves Swagger UI from gridhouse's own files
        redoc_url=None,  # ReDoc comes from a CDN only
    )
    app.state.settings = settings
    app.state.class_config = load_class_config(settings)
    app.state.work_calendar = load_work_calendar(settings)
    app.state.rate_limiter = TokenBucketLimiter(
        per_minute=settings.rate_limit_per_minute, burst=settings.rate_limit_burst
    )
    app.state.login_rate_limiter = TokenBucketLimiter(
        per_minute=settings.login_rate_limit_per_minute, burst=settings.login_rate_limit_burst
    )
    app.state.tile_rate_limiter = TokenBucketLimiter(
        per_minute=settings.tile_rate_limit_per_minute, burst=settings.tile_rate_limit_burst
    )
    app.add_middleware(
        ConcurrencyLimitMiddleware,
        limit=settings.pool_size,
        exempt_prefixes=(STATIC_URL, VENDOR_URL),
        lanes={LOGIN_PATH: HASHES_AT_ONCE},
        lane_limiter=app.state.login_rate_limiter,  # per address, before a login may queue
    )
    app.add_middleware(RequestGuardMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(ResponseHeadersMiddleware)  # outermost: the guard's refusals too
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(docs.router)
    app.include_router(buildings.router)
    app.include_router(houses.router)
    app.include_router(auth.router)
    app.include_router(audit.router)
    app.include_router(occupants.router)
    app.include_router(people.router)
    app.include_router(organizations.router)
    app.include_router(quality.router)
    app.include_router(tiles.router)
    app.include_router(search.router)
    app.include_router(pages.router)
    app.include_router(grids.router)
    app.include_router(plans.router)
    app.include_router(events.router)
    app.include_router(dashboard.router)
    app.include_router(ogc.router)
    pages.install_login_redirect(app)
    # the pages' scripts and styles, served here (no CDN): public, like any static file
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")
    app.mount(VENDOR_URL, StaticFiles(directory=VENDOR_DIR, check_dir=False), name="vendor")
    return app


def load_work_calendar(settings: Settings) -> WorkCalendar:
    """The holiday file of declaration deadlines, read before the app serves (a broken one made
    every registration fail)."""
    try:
        return WorkCalendar.from_file(settings.holidays_file)
    except InvalidInput as error:
        raise EnvironmentProblem(f"GRIDHOUSE_HOLIDAYS_FILE: {error.message}") from None


def load_class_config(settings: Settings) -> ClassConfig:
    """The grid classes' weights, cut-offs and staffing rules, checked before the app serves."""
    try:
        return ClassConfig.load(settings.grid_classes_file)
    except InvalidInput as error:
        raise EnvironmentProblem(
            f"GRIDHOUSE_GRID_CLASSES_FILE ({settings.grid_classes_file}): {error}"
        ) from None
