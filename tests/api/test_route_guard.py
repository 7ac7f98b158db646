"""Every route depends on the scope (directly or through another dependency) or is public."""

from __future__ import annotations

from fastapi import FastAPI

from api.deps import get_scope
from api.main import create_app
from gis.settings import Settings
from tests.api.route_walk import depends_on, walk_routes

PUBLIC_PATHS = frozenset(
    {"/healthz", "/api/auth/login", "/docs", "/openapi.json"}
    | {"/login"}  # the login page: a form posting to /api/auth/login
)
"""The whole public surface (plus mounted static files): anything else needs a caller's scope."""


def unguarded_routes(app: FastAPI) -> list[str]:
    """Routes that are neither public nor scoped, as ``METHODS path``."""
    return [
        str(route)
        for route in walk_routes(app)
        if not route.is_static
        and route.path not in PUBLIC_PATHS
        and not (route.dependant is not None and depends_on(route.dependant, get_scope))
    ]


def test_every_route_is_scoped_or_public(settings: Settings) -> None:
    app = create_app(settings)
    unguarded = set(unguarded_routes(app))
    assert unguarded == set(), (
        "these routes must depend on api.deps.ScopeDep or be added to PUBLIC_PATHS with a reason"
    )
    paths = {route.path for route in walk_routes(app)}
    assert {"/healthz", "/api/auth/logout", "/api/auth/me", "/api/audit"} <= paths


def test_the_walk_catches_unscoped_routes(settings: Settings) -> None:
    app = create_app(settings)

    @app.get("/api/leaky")
    def leaky() -> dict[str, str]:
        return {}

    assert "GET /api/leaky" in unguarded_routes(app)
