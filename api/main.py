"""The FastAPI application factory: ``create_app(settings)`` with the database in its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.errors import install_error_handlers
from api.routes import health
from gis.db import database_url, make_engine, make_session_factory
from gis.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; the engine is created at startup and disposed at shutdown.

    The embedded cluster is not started here (``gridhouse serve`` does that first), so building
    an app never has side effects on the machine.
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(
            database_url(settings, start_embedded=False), pool_size=settings.pool_size
        )
        app.state.engine = engine
        app.state.session_factory = make_session_factory(engine)
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="gridhouse",
        version="0.1.0",
        summary="Grid-based community management and house coding on PostGIS",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(health.router)
    return app
