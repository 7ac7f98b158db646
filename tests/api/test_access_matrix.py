"""Runs the authorization matrix of ``tests/api/access_matrix.py`` against the app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.orm import Session

from api.main import create_app
from gis.settings import Settings
from gis.users.models import Role
from tests.access_world import World, bearer, session_token
from tests.api.access_matrix import CASES, PERSONAL, SEES_OTHER, Caller, RouteCase, Variant
from tests.api.route_walk import walk_routes
from tests.api.test_route_guard import PUBLIC_PATHS
from tests.people_world import CANARY, RESIDENTS

CALLERS: list[Caller] = [*Role, None]
DOCUMENTATION = PUBLIC_PATHS - {"/healthz", "/api/auth/login"}


def _params() -> Iterator[object]:
    for case in CASES:
        for caller in CALLERS:
            marks = [pytest.mark.xfail(reason=case.pending, strict=False)] if case.pending else []
            yield pytest.param(
                case, caller, id=f"{case.id} as {caller or 'anonymous'}", marks=marks
            )


def _request(client: TestClient, case: RouteCase, caller: Caller, world: World,
             variant: Variant, token: str | None) -> Response:  # fmt: skip
    headers = bearer(token) if token else {}
    json = case.body(caller, world) if case.body else None
    return client.request(case.method, case.url(world, variant), headers=headers, json=json)


def test_every_route_has_a_case(settings: Settings) -> None:
    cases = {case.id for case in CASES}
    routes = {
        f"{method} {route.path}"
        for route in walk_routes(create_app(settings))
        if not route.is_static and route.path not in DOCUMENTATION
        for method in route.methods - {"HEAD"}
    }
    assert routes - cases == set(), "add a RouteCase for each to tests/api/access_matrix.py"


@pytest.mark.parametrize(("case", "caller"), list(_params()))
def test_matrix(
    client: TestClient, db: Session, world: World, case: RouteCase, caller: Caller
) -> None:
    token = None
    if caller is not None:
        token = session_token(db, world.users[caller])
    client.cookies.clear()  # only the header speaks for the caller
    bodies: dict[Variant, Response] = {}
    for variant in case.variants:
        if case.revokes_token and caller is not None and variant != case.variants[0]:
            token = session_token(db, world.users[caller])
        response = _request(client, case, caller, world, variant, token)
        expected = case.expected_status(caller, variant)
        assert response.status_code == expected, (variant, response.text)
        bodies[variant] = response
        if response.is_success and case.allowed_keys is not None:
            assert set(response.json()) <= case.allowed_keys
        if case.lists == "buildings" and response.is_success:
            _check_list(response.text, caller, world)
        if case.lists == "people" and response.is_success:
            _check_people(response.text, caller)
    # out of scope answers exactly like missing, the requested code aside
    if case.objects and caller is not None and bodies["other"].status_code == 404:
        other = bodies["other"].text.replace(case.object_code(world, "other"), "?")
        assert other == bodies["missing"].text.replace(case.object_code(world, "missing"), "?")


def _check_list(text: str, caller: Caller, world: World) -> None:
    sees_own = caller in PERSONAL
    assert (world.buildings["own"] in text) is sees_own
    if caller not in SEES_OTHER:
        assert world.buildings["far"] not in text


def _check_people(text: str, caller: Caller) -> None:
    """The own building's resident is listed for roles that see people; the canary (in the far
    building) only for admins."""
    assert (RESIDENTS["own"][0] in text) is (caller in PERSONAL)
    if caller not in SEES_OTHER:
        assert all(needle not in text for needle in CANARY.needles)


def test_a_fresh_app_has_no_leftover_overrides(settings: Settings) -> None:
    assert create_app(settings).dependency_overrides == {}
