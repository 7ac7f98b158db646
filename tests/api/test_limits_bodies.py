"""Limits (OWASP API4) on what a request carries: body size 413; NUL bytes, huge integers 422."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.deps import SessionDep
from gis.settings import Settings
from gis.users.models import Role
from tests.access_world import World, bearer, client_for, login


def test_a_body_over_the_limit_is_413(client: TestClient) -> None:
    big = {"name": "x", "password": "p" * (1024 * 1024 + 10)}
    response = client.post("/api/auth/login", json=big)
    assert response.status_code == 413
    assert response.json()["detail"][0]["loc"] == ["body"]


def test_a_chunked_body_over_the_limit_is_413(settings: Settings, db: Session) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"x" * 1024

    with client_for(settings, db, max_body_bytes=10 * 1024) as client:
        response = client.post("/api/auth/login", content=chunks())
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("method", "url", "body", "loc"),
    [
        ("GET", "/api/audit?user=a%00b", None, ["query"]),
        ("GET", "/api/audit?user=a%00", None, ["query"]),
        ("GET", "/api/aud%00it", None, ["path"]),
        ("POST", "/api/auth/login", '{"name": "a\\u0000", "password": "x"}', ["body", "name"]),
        ("POST", "/api/auth/login", '{"name": "a", "password": "x\\u0000"}', ["body", "password"]),
        (
            "POST",
            "/api/occupants/search",
            '{"area": {"type": "Polygon", "coordinates": [[[1, 2], [3, "\\u0000"]]]}}',
            ["body", "area", "coordinates", 0, 1, 1],
        ),
        ("POST", "/api/auth/login", '{"na\\u0000me": "a", "password": "x"}', ["body", "name"]),
        ("POST", "/api/auth/login", b'{"name": "a\x00", "password": "x"}', ["body"]),
    ],
)
def test_nul_bytes_are_422_naming_where(
    client: TestClient, method: str, url: str, body: str | bytes | None, loc: list[object]
) -> None:
    """A NUL in a JSON document is refused naming the member that holds it (a raw NUL, which
    JSON does not allow, names the body)."""
    response = client.request(
        method, url, content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": loc, "msg": "NUL bytes are not allowed", "type": "InvalidInput"}
    ]


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(client: TestClient) -> None:
    """``"\\\\u0000"`` in JSON is the six characters ``\\u0000``: no NUL, so the request
    reaches the route (a failed login here, not the NUL refusal)."""
    response = client.post(
        "/api/auth/login",
        content='{"name": "a\\\\u0000", "password": "not the password"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/audit?before_id=99999999999999999999999", None),
        ("/api/audit?limit=-1", None),
        ("/api/audit?limit=99999999999999999999", None),
        ("/api/auth/login", {"name": 10**40, "password": "x"}),
    ],
)
def test_out_of_range_integers_are_422(
    client: TestClient, world: World, url: str, body: dict[str, object] | None
) -> None:
    token = login(client, world.users[Role.AUDITOR])
    method = "POST" if body else "GET"
    response = client.request(method, url, json=body, headers=bearer(token))
    assert response.status_code == 422


def test_a_value_the_database_refuses_is_422_not_500(settings: Settings, db: Session) -> None:
    with client_for(settings, db) as client:
        app = client.app
        assert isinstance(app, FastAPI)  # client_for's app

        @app.get("/test/int4")
        def int4(value: int, session: SessionDep) -> dict[str, int]:
            with session.begin_nested():
                return {"value": session.scalar(text("SELECT CAST(:v AS integer)"), {"v": value})}

        assert client.get("/test/int4", params={"value": 7}).json() == {"value": 7}
        response = client.get("/test/int4", params={"value": 2**40})
    assert response.status_code == 422
    assert "internal" not in response.text


SECRET = "Secret-Pass-XYZ"


@pytest.mark.parametrize(
    ("body", "content_type", "loc", "reason"),
    [
        ('{"name": "x", "password": "Secret-Pass-XYZ\\ud800"}', "application/json",
         ["body", "password"], "lone surrogate"),
        ('{"name\\udc00": "x", "password": "Secret-Pass-XYZ"}', "application/json",
         ["body", "name?"], "lone surrogate"),
        (b'{"name": "x", "password": "Secret-Pass-XYZ\xe9"}', "text/plain", ["body"], "valid"),
        ('{"name": "x", "password": ["Secret-Pass-XYZ"]}', "application/json",
         ["body", "password"], "valid string"),
    ],
)  # fmt: skip
def test_a_body_no_column_could_store_is_422_and_never_echoed_nor_logged(
    client: TestClient,
    caplog: pytest.LogCaptureFixture,
    body: str | bytes,
    content_type: str,
    loc: list[str],
    reason: str,
) -> None:
    """A lone surrogate (``\\ud800``) or bytes that are not UTF-8 made FastAPI's own 422 handler
    fail writing the input back as JSON: a 500 whose logged traceback held the password. Every
    422 now names the field and the reason, and never carries the input."""
    with caplog.at_level(logging.DEBUG):
        response = client.post(
            "/api/auth/login", content=body, headers={"content-type": content_type}
        )
    assert response.status_code == 422
    first = response.json()["detail"][0]
    assert set(first) == {"loc", "msg", "type"}
    assert first["loc"] == loc and reason in first["msg"]
    assert SECRET not in response.text and SECRET not in caplog.text


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"name": "R\xe9view", "password": "x"}', "not UTF-8: byte 0xe9 at position 11"),
        (b"[" * 100_000, "nested too deeply to read"),
        (b'{"name": "x", "password": ', "not JSON: Expecting value"),
        (b'{"name": ' + b"9" * 5000 + b', "password": "x"}', "a number is too long to read"),
    ],
)
def test_a_json_body_that_cannot_be_read_is_422_on_body_saying_why(
    client: TestClient, body: bytes, reason: str
) -> None:
    """FastAPI answered bytes that are not UTF-8 and deep nesting with a 400 naming nothing
    (``"detail": "There was an error parsing the body"``)."""
    response = client.post(
        "/api/auth/login", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"][0] == "body" and error["msg"].startswith(reason)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", f"/api/residences/{uuid.uuid4()}/deregister"),
        ("PATCH", f"/api/people/{uuid.uuid4()}"),
        ("POST", "/api/occupants/search"),
    ],
)
def test_an_integer_too_long_to_read_is_422_naming_the_body_on_every_route(
    client: TestClient, method: str, path: str
) -> None:
    """``{"moved_out": 999…}`` (5,000 digits) was FastAPI's 400 ``{"detail": "There was an
    error parsing the body"}``: Python reads no integer of more than 4,300 digits."""
    body = b'{"moved_out": ' + b"9" * 5000 + b"}"
    response = client.request(
        method, path, content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json() == {
        "detail": [
            {
                "loc": ["body"],
                "msg": "a number is too long to read: an integer has at most 4300 digits",
                "type": "InvalidInput",
            }
        ]
    }
    # the same digits in a text, or a number of 4,300 digits, are read (and refused by the
    # route's own rules, not as unreadable)
    for readable in (
        b'{"moved_out": "' + b"9" * 5000 + b'"}',
        b'{"moved_out": ' + b"9" * 4300 + b"}",
    ):
        answer = client.request(
            method, path, content=readable, headers={"content-type": "application/json"}
        )
        assert "too long to read" not in answer.text, answer.text
