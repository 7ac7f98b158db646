"""Limits (OWASP API4): body size 413, NUL bytes and huge integers 422, rate 429, timeout 503."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg import errors as pg_errors
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from api.deps import SessionDep
from api.limits import (
    ASGIApp,
    AsgiScope,
    ConcurrencyLimitMiddleware,
    Message,
    Receive,
    Send,
    TokenBucketLimiter,
)
from api.main import create_app
from gis.driver_sql import driver_row
from gis.settings import Settings
from gis.users.models import Role
from tests.access_world import PASSWORD, World, bearer, client_for, login


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


def test_the_rate_limit_answers_429_with_retry_after(
    settings: Settings, db: Session, world: World
) -> None:
    with client_for(settings, db, rate_limit_burst=3, rate_limit_per_minute=1) as client:
        token = login(client, world.users[Role.PLANNER])
        statuses = [client.get("/api/auth/me", headers=bearer(token)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = client.get("/api/auth/me", headers=bearer(token))
        assert int(limited.headers["retry-after"]) >= 1
        other = login(client, world.users[Role.ADMIN])  # another user has a bucket of its own
        assert client.get("/api/auth/me", headers=bearer(other)).status_code == 200


def test_tiles_have_a_bucket_of_their_own(settings: Settings, db: Session, world: World) -> None:
    """A map asks for a screenful of tiles at a time: they neither spend nor are stopped by the
    bucket of the other routes, and have a limit of their own."""
    limits = {"rate_limit_burst": 2, "rate_limit_per_minute": 1}
    tile_limits = {"tile_rate_limit_burst": 5, "tile_rate_limit_per_minute": 1}
    with client_for(settings, db, **limits, **tile_limits) as client:
        token = login(client, world.users[Role.OFFICER])
        tile = "/tiles/buildings/16/53503/28561.pbf"
        tiles = [client.get(tile, headers=bearer(token)).status_code for _ in range(6)]
        assert tiles == [200] * 5 + [429]
        statuses = [client.get("/api/auth/me", headers=bearer(token)).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]


def test_the_login_rate_limit_is_per_address(settings: Settings, db: Session, world: World) -> None:
    """Logins have a limit of their own (the general one, 300 a minute, is more than the
    password hashes can do, so one address could keep every login waiting)."""
    assert settings.login_rate_limit_per_minute < settings.rate_limit_per_minute
    limits = {"login_rate_limit_burst": 2, "login_rate_limit_per_minute": 1}
    with client_for(settings, db, **limits) as client:
        body = {"name": world.users[Role.ADMIN], "password": PASSWORD}
        statuses = [client.post("/api/auth/login", json=body).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


async def _no_receive() -> Message:
    raise AssertionError("the app under test reads no request body")


async def _no_send(message: Message) -> None:
    raise AssertionError(f"the app under test sends nothing, not {message}")


def _held_until(release: asyncio.Event) -> ASGIApp:
    """An ASGI app that answers 200 once ``release`` is set (a login hashing its password)."""

    async def held(scope: AsgiScope, receive: Receive, send: Send) -> None:
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return held


def test_a_full_lane_answers_503_at_once() -> None:
    """One request hashing, two waiting in the login lane: a fourth and a fifth are answered
    503 with Retry-After instead of queueing without end; other paths are not affected."""
    sent: dict[int, list[Message]] = {}

    async def scenario() -> None:
        release = asyncio.Event()
        slow = _held_until(release)
        guard = ConcurrencyLimitMiddleware(slow, limit=10, lanes={"/login": 1}, lane_backlog=3)

        async def call(number: int, path: str) -> None:
            sent[number] = []

            async def send(message: Message) -> None:
                sent[number].append(message)

            await guard({"type": "http", "path": path}, _no_receive, send)

        tasks = [asyncio.create_task(call(n, "/login")) for n in range(5)]
        tasks.append(asyncio.create_task(call(5, "/other")))
        for _ in range(20):
            await asyncio.sleep(0)
        assert sorted(n for n, messages in sent.items() if messages) == [3, 4]
        release.set()
        await asyncio.gather(*tasks)

    asyncio.run(scenario())
    assert sent[3][0]["status"] == sent[4][0]["status"] == 503
    assert (b"retry-after", b"2") in sent[3][0]["headers"]
    assert [sent[n][0]["status"] for n in (0, 1, 2, 5)] == [200, 200, 200, 200]


def _sleep_through_the_session(session: Session) -> None:
    session.execute(text("SELECT pg_sleep(2)"))


def _sleep_through_the_driver(session: Session) -> None:
    # the occupant pages and audit rows bypass SQLAlchemy's execution (``driver_row``): their
    # cancelled statements must still come back as the 503 of a slow database, not a 500
    driver_row(session, "SELECT pg_sleep(2)", ())


@pytest.mark.parametrize("sleep_on", [_sleep_through_the_session, _sleep_through_the_driver])
def test_a_slow_statement_is_cancelled_503_and_frees_the_connection(
    settings: Settings, sleep_on: Callable[[Session], None]
) -> None:
    """A real app (its own engine, role and transactions): the pool gets its connection back."""
    app = create_app(settings.model_copy(update={"statement_timeout_ms": 100, "pool_size": 1}))

    @app.get("/test/sleep")
    def sleep(session: SessionDep) -> dict[str, str]:
        sleep_on(session)
        return {"slept": "yes"}

    with TestClient(app) as client:
        response = client.get("/test/sleep")
        assert response.status_code == 503
        assert response.json()["detail"][0]["msg"].startswith("the database did not answer")
        assert app.state.engine.pool.checkedout() == 0
        for _ in range(3):  # more requests than the pool has connections
            assert client.get("/healthz").status_code == 200


def test_a_pool_without_a_free_connection_answers_503_not_500(settings: Settings) -> None:
    """SQLAlchemy raises its TimeoutError when every pooled connection stays busy (a burst of
    requests): the caller is told to retry, not that the server broke."""
    app = create_app(settings)

    @app.get("/test/busy")
    def busy() -> dict[str, str]:
        raise PoolTimeout("QueuePool limit of size 10 overflow 10 reached")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/test/busy")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert "busy" in response.json()["detail"][0]["msg"]


def test_no_more_requests_work_at_once_than_the_limit_static_files_aside() -> None:
    """The concurrency limit queues requests beyond it (they all finish); static files pass."""
    running = {"api": 0, "static": 0}
    peak = {"api": 0, "static": 0}
    done: list[str] = []

    async def app(scope: AsgiScope, receive: Receive, send: Send) -> None:
        kind = "static" if scope["path"].startswith("/static") else "api"
        running[kind] += 1
        peak[kind] = max(peak[kind], running[kind] + (running["api"] if kind == "static" else 0))
        await asyncio.sleep(0.02)
        running[kind] -= 1
        done.append(scope["path"])

    guarded = ConcurrencyLimitMiddleware(app, limit=2, exempt_prefixes=("/static",))

    async def burst() -> None:
        calls = [
            guarded({"type": "http", "path": f"/api/{n}"}, _no_receive, _no_send) for n in range(7)
        ]
        calls += [guarded({"type": "http", "path": "/static/a.css"}, _no_receive, _no_send)]
        await asyncio.gather(*calls)

    asyncio.run(burst())
    assert len(done) == 8
    assert peak["api"] == 2  # never more than the limit, and the limit was reached
    assert peak["static"] == 3  # the static file ran beside two requests, not after them


def test_a_lane_queues_its_path_apart_from_the_other_requests() -> None:
    """A burst of logins waits in the login lane while other requests pass through the general
    slots beside it: here no login can finish before every tile has, so the tiles would never
    finish (timeout) if they queued behind the logins."""
    finished: list[str] = []
    tiles_done = asyncio.Event()
    peak_logins = [0, 0]  # running, peak

    async def app(scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/api/auth/login":
            peak_logins[0] += 1
            peak_logins[1] = max(peak_logins)
            await tiles_done.wait()
            peak_logins[0] -= 1
        else:
            await asyncio.sleep(0.01)
        finished.append(scope["path"])
        if sum(path.startswith("/tiles") for path in finished) == 4:
            tiles_done.set()

    guarded = ConcurrencyLimitMiddleware(app, limit=2, lanes={"/api/auth/login": 1})

    async def burst() -> None:
        login = {"type": "http", "path": "/api/auth/login"}
        logins = [guarded(login, _no_receive, _no_send) for _ in range(6)]
        tiles = [
            guarded({"type": "http", "path": f"/tiles/{n}"}, _no_receive, _no_send)
            for n in range(4)
        ]
        await asyncio.wait_for(asyncio.gather(*logins, *tiles), timeout=30)

    asyncio.run(burst())
    assert finished[:4] == [f"/tiles/{n}" for n in range(4)]
    assert finished[4:] == ["/api/auth/login"] * 6
    assert peak_logins[1] == 1  # the lane's own limit


def test_a_deadlock_between_two_moves_answers_503_asking_to_send_again(
    settings: Settings, engine: Engine
) -> None:
    """Two transactions marking the counts of the same two buildings in opposite orders (two
    moves between them at the same moment) deadlock; the one PostgreSQL rolls back answers 503
    with Retry-After, and nothing of it is stored."""
    a, b = sorted(str(uuid.uuid4()) for _ in range(2))
    bump = text("SELECT building_counts_bump(ARRAY[CAST(:u AS uuid)])")
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO building_counts (building_uid) VALUES (:a), (:b)"), {"a": a, "b": b}
        )
    errors: list[OperationalError] = []
    first_holds = threading.Event()

    def forwards() -> None:
        with Session(engine) as session:
            session.execute(bump, {"u": a})
            first_holds.set()
            time.sleep(0.3)
            try:
                session.execute(bump, {"u": b})
                session.commit()
            except OperationalError as error:
                errors.append(error)

    try:
        thread = threading.Thread(target=forwards)
        thread.start()
        first_holds.wait(5)
        with Session(engine) as session:
            session.execute(bump, {"u": b})
            try:
                session.execute(bump, {"u": a})
                session.commit()
            except OperationalError as error:
                errors.append(error)
        thread.join(10)
        assert len(errors) == 1 and isinstance(errors[0].orig, pg_errors.DeadlockDetected)

        app = create_app(settings)

        @app.get("/test/deadlock")
        def deadlock() -> None:
            raise errors[0]

        with TestClient(app) as client:
            response = client.get("/test/deadlock")
        assert response.status_code == 503 and response.headers["Retry-After"] == "1"
        assert "send the request again" in response.json()["detail"][0]["msg"]
    finally:
        with engine.begin() as connection:
            connection.execute(
                text("DELETE FROM building_counts WHERE building_uid IN (:a, :b)"),
                {"a": a, "b": b},
            )


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


def test_one_address_flooding_the_login_lane_does_not_keep_others_out() -> None:
    """Each address is charged before it may queue: the flood's extra logins are 429 at once
    instead of filling the lane, and another address still gets in (all of a real user's
    logins were 503 while one address sent 70 at a time)."""
    sent: dict[int, list[Message]] = {}

    async def scenario() -> None:
        release = asyncio.Event()
        slow = _held_until(release)
        limiter = TokenBucketLimiter(per_minute=1, burst=2)
        guard = ConcurrencyLimitMiddleware(slow, limit=10, lanes={"/login": 1}, lane_backlog=3,
                                           lane_limiter=limiter)  # fmt: skip

        async def call(number: int, address: str) -> None:
            sent[number] = []

            async def send(message: Message) -> None:
                sent[number].append(message)

            scope = {"type": "http", "path": "/login", "client": (address, 40000)}
            await guard(scope, _no_receive, send)

        tasks = [asyncio.create_task(call(n, "10.0.0.66")) for n in range(6)]
        tasks.append(asyncio.create_task(call(6, "10.0.0.7")))
        for _ in range(20):
            await asyncio.sleep(0)
        release.set()
        await asyncio.gather(*tasks)

    asyncio.run(scenario())
    statuses = [sent[n][0]["status"] for n in range(7)]
    assert statuses == [200, 200, 429, 429, 429, 429, 200], statuses
