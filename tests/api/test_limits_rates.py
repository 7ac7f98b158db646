"""Limits (OWASP API4) on how many requests: rate 429, concurrency lanes queued or 503."""

from __future__ import annotations

import asyncio

from sqlalchemy.orm import Session

from api.limits import (
    ASGIApp,
    AsgiScope,
    ConcurrencyLimitMiddleware,
    Message,
    Receive,
    Send,
    TokenBucketLimiter,
)
from gis.settings import Settings
from gis.users.models import Role
from tests.access_world import PASSWORD, World, bearer, client_for, login


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
