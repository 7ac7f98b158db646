"""Schemathesis over the OpenAPI document, for each role's token: generated requests for every
operation answer without a server error and as the document says: 50 each for administrators,
who reach every route past its checks, 20 each for the other roles, whose requests mostly end at
their scope (the time goes to generating requests: 5 roles x 50 took ~4.7 of the suite's 17 min)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy.orm import Session

from gis.settings import Settings
from gis.users.models import Role
from tests.access_world import World, bearer, client_for, login

EXAMPLES = {Role.ADMIN: 50}
OTHER_ROLES_EXAMPLES = 20
SKIPPED = {
    ("POST", "/api/auth/logout"),  # would end the session the run uses
    ("POST", "/api/auth/login"),  # generated passwords would lock the account out
}
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture
def app_for_schemathesis(settings: Settings, db: Session) -> Iterator[Any]:
    """The app on the test's transaction, no rate limit; its lifespan, which schemathesis
    starts once per app and keeps, is stopped afterwards."""
    unlimited = {"rate_limit_burst": 1_000_000, "rate_limit_per_minute": 1_000_000}
    with client_for(settings, db, **unlimited) as client:
        yield client
    asgi.shutdown_lifespans()


@pytest.mark.parametrize("role", list(Role))
def test_generated_requests_conform(app_for_schemathesis: Any, world: World, role: Role) -> None:
    client = app_for_schemathesis
    token = login(client, world.users[role])
    client.cookies.clear()
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    problems: list[str] = []
    timings: list[str] = []
    operations = 0
    examples = EXAMPLES.get(role, OTHER_ROLES_EXAMPLES)
    with asgi.get_client(client.app) as http:
        http.trust_env = False  # no proxy lookups in the environment on every call
        for result in schema.get_all_operations():
            if isinstance(result, Err):
                raise result.err()
            operation = result.ok()
            method = operation.method.upper()
            if (method, operation.path) in SKIPPED or not operation.path.startswith("/api"):
                continue
            operations += 1
            calls = 0

            @given(case=operation.as_strategy())
            @hypothesis_settings(
                max_examples=examples, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck),
            )  # fmt: skip
            def run(case: Any) -> None:
                nonlocal calls
                calls += 1
                response = case.call(headers=bearer(token), session=http)
                case.validate_response(response, checks=CHECKS)

            started = time.perf_counter()
            try:
                run()
            except Exception as error:  # collect every operation's problem
                problems.append(f"{method} {operation.path}: {str(error)[:2000]}")
            timings.append(
                f"{time.perf_counter() - started:5.2f}s {calls:3d} {method} {operation.path}"
            )
            # an operation without any input has a single possible request
            has_inputs = any(
                len(getattr(operation, part)) for part in ("path_parameters", "query", "body")
            )
            assert calls >= (examples if has_inputs else 1) or problems, (operation.path, calls)
    print("\n".join(timings))
    assert operations >= 15
    assert problems == []
