"""Login, logout, cookies, expiry, lockout and TOTP over HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text, update
from sqlalchemy.orm import Session

from api.main import create_app
from gis.db import AUTH_POOL_NAME, make_session_factory, transaction
from gis.settings import Settings
from gis.users import service as users
from gis.users.credentials import totp_code
from gis.users.models import AddressLock, Role, UserSession
from tests.access_world import PASSWORD, TEST_ACTOR, World, bearer, client_for, login


def test_login_returns_a_token_and_a_strict_http_only_cookie(
    client: TestClient, world: World
) -> None:
    response = client.post(
        "/api/auth/login", json={"name": world.users[Role.OFFICER], "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "role"}
    assert (body["token_type"], body["expires_in"], body["role"]) == ("bearer", 1800, "officer")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"gridhouse_session={body['access_token']};")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" not in cookie  # served over plain http here


def test_the_cookie_is_secure_over_https(settings: Settings, db: Session, world: World) -> None:
    with client_for(settings, db) as client:
        client.base_url = client.base_url.copy_with(scheme="https")
        response = client.post(
            "/api/auth/login", json={"name": world.users[Role.ADMIN], "password": PASSWORD}
        )
    assert response.status_code == 200
    assert "Secure" in response.headers["set-cookie"]


def test_token_from_header_or_cookie(client: TestClient, world: World) -> None:
    token = login(client, world.users[Role.POLICE])
    client.cookies.clear()
    me = client.get("/api/auth/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json() == {
        "name": "t_police", "role": "police", "grid_codes": [], "division_prefix": "990101"
    }  # fmt: skip
    client.cookies.set("gridhouse_session", token)
    assert client.get("/api/auth/me").status_code == 200


def test_the_cookie_works_only_from_this_sites_pages(
    client: TestClient, world: World, db: Session
) -> None:
    """A page on another port of the same host is "same-site": SameSite=Strict sends it the
    cookie. Its form POST names its origin, its <img> is marked by Sec-Fetch-Site: both refused
    (a house was retired, a people search audited in the officer's name)."""
    token = login(client, world.users[Role.OFFICER])
    client.cookies.set("gridhouse_session", token)
    house = world.objects["empty_houses"]["own"]
    other = {"origin": "http://testserver:8199"}
    retire = client.post(f"/api/houses/{house}/retire", headers=other)
    assert retire.status_code == 403 and "another site" in retire.text
    image = {"sec-fetch-site": "same-site", "sec-fetch-mode": "no-cors", "sec-fetch-dest": "image"}
    search = client.get("/api/search/people", params={"q": "王小"}, headers=image)
    assert search.status_code == 403
    before = db.scalar(text("SELECT count(*) FROM audit_log WHERE action = 'people.search'"))
    assert before == 0  # refused before the route: nothing done in the officer's name
    # the site's own pages, a link followed from elsewhere, and bearer clients go through
    own = {"origin": "http://testserver", "sec-fetch-site": "same-origin", "sec-fetch-mode": "cors"}
    assert client.get("/api/auth/me", headers=own).status_code == 200
    link = {"sec-fetch-site": "same-site", "sec-fetch-mode": "navigate"}
    assert client.get("/api/auth/me", headers=link).status_code == 200
    client.cookies.clear()
    assert client.get("/api/auth/me", headers={**image, **bearer(token)}).status_code == 200


def test_behind_a_proxy_the_public_url_is_this_site(
    settings: Settings, db: Session, world: World
) -> None:
    """A proxy that passes its own Host (``127.0.0.1:8000``) made every change from the site's
    pages "from another site", and over plain http to the proxy the cookie lost ``Secure``:
    with GRIDHOUSE_PUBLIC_URL the public origin is this site and its scheme decides."""
    house = world.objects["empty_houses"]["own"]
    public = {"origin": "https://grid.example.org"}
    with client_for(settings, db) as client:  # unset: the Host decides, as before
        login(client, world.users[Role.OFFICER])
        refused = client.post(f"/api/houses/{house}/retire", headers=public)
        assert refused.status_code == 403 and "another site" in refused.text
    with client_for(settings, db, public_url="https://grid.example.org") as client:
        response = client.post(
            "/api/auth/login", json={"name": world.users[Role.OFFICER], "password": PASSWORD}
        )
        assert "Secure" in response.headers["set-cookie"]  # the proxy's scheme, not this one
        client.cookies.set("gridhouse_session", response.json()["access_token"])
        other = client.post(
            f"/api/houses/{house}/retire", headers={"origin": "https://evil.example"}
        )
        assert other.status_code == 403 and "another site" in other.text
        # the same host over plain http is another origin (a page an attacker serves there)
        plain = client.post(
            f"/api/houses/{house}/retire", headers={"origin": "http://grid.example.org"}
        )
        assert plain.status_code == 403 and "another site" in plain.text
        retired = client.post(f"/api/houses/{house}/retire", headers=public)
        assert retired.status_code == 200, retired.text
    # a domain name in Chinese: browsers send (and links need) its IDNA form
    idna = {"origin": "https://xn--0xvs72c.xn--fiqs8s"}
    configured = Settings(public_url="https://网格.中国/").public_url  # as the environment gives it
    assert configured == "https://xn--0xvs72c.xn--fiqs8s"
    with client_for(settings, db, public_url=configured) as client:
        response = client.post(
            "/api/auth/login", json={"name": world.users[Role.OFFICER], "password": PASSWORD}
        )
        client.cookies.set("gridhouse_session", response.json()["access_token"])
        again = client.post(f"/api/houses/{house}/retire", headers=idna)
        assert again.status_code == 409, again.text  # through the check: retired already


def test_missing_or_forged_tokens_are_401_with_a_challenge(client: TestClient) -> None:
    for headers in ({}, bearer("forged"), {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = client.get("/api/auth/me", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


def test_logout_revokes_the_token(client: TestClient, world: World) -> None:
    token = login(client, world.users[Role.PLANNER])
    response = client.post("/api/auth/logout", headers=bearer(token))
    assert response.status_code == 204
    assert 'gridhouse_session=""' in response.headers["set-cookie"]
    client.cookies.clear()
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 401
    assert client.post("/api/auth/logout", headers=bearer(token)).status_code == 401


def test_idle_tokens_expire(client: TestClient, db: Session, world: World) -> None:
    token = login(client, world.users[Role.AUDITOR])
    client.cookies.clear()
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 200
    db.execute(
        update(UserSession).values(
            last_seen_at=text("now() - interval '32 minutes'"),
            created_at=text("now() - interval '32 minutes'"),
        )
    )
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 401


def test_bad_credentials_look_alike(client: TestClient, world: World) -> None:
    wrong = client.post(
        "/api/auth/login", json={"name": world.users[Role.ADMIN], "password": "wrong password!"}
    )
    unknown = client.post("/api/auth/login", json={"name": "nobody", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_lockout_over_http(client: TestClient, db: Session, world: World) -> None:
    name = world.users[Role.OFFICER]
    failures = [
        client.post("/api/auth/login", json={"name": name, "password": f"wrong-{n}-password"})
        for n in range(5)
    ]
    assert {response.status_code for response in failures} == {401}
    right = client.post("/api/auth/login", json={"name": name, "password": PASSWORD})
    assert right.status_code == 401
    assert right.json() == failures[0].json()
    assert {u.name: u.is_locked for u in users.list_users(db)}[name]  # users list says so
    # the lock is this address's (testclient): it runs out, and the right password works
    db.execute(update(AddressLock).values(locked_until=datetime.now(UTC)))
    assert client.post("/api/auth/login", json={"name": name, "password": PASSWORD}).is_success


def test_totp_required_for_police_and_officers(
    settings: Settings, db: Session, world: World
) -> None:
    with client_for(settings, db, require_totp=True) as client:
        police = world.users[Role.POLICE]
        refused = client.post("/api/auth/login", json={"name": police, "password": PASSWORD})
        assert refused.status_code == 401
        secret = users.enrol_totp(db, name=police, actor=TEST_ACTOR)
        code = totp_code(secret, at=datetime.now(UTC))
        assert login(client, police, totp=code)
        assert login(client, world.users[Role.PLANNER])  # planners need no second factor


@pytest.fixture
def committed_user(engine: Engine) -> Iterator[str]:
    """A user committed for real (so the app's own transactions and role are exercised)."""
    name = f"lock-{uuid.uuid4().hex[:8]}"
    with transaction(make_session_factory(engine)) as session:
        users.add_user(session, name=name, role=Role.PLANNER, password=PASSWORD, actor=TEST_ACTOR)
    yield name
    with transaction(make_session_factory(engine)) as session:
        users.set_disabled(session, name=name, is_disabled=True, actor=TEST_ACTOR)


def test_failures_commit_although_the_answer_is_401(
    settings: Settings, committed_user: str
) -> None:
    """No shared test session here: each request is its own transaction, run as gridhouse_app."""
    app = create_app(settings)
    with TestClient(app) as client:
        for n in range(5):
            body = {"name": committed_user, "password": f"wrong-{n}-password"}
            assert client.post("/api/auth/login", json=body).status_code == 401
        body = {"name": committed_user, "password": PASSWORD}
        assert client.post("/api/auth/login", json=body).status_code == 401
        engine = app.state.engine
        with engine.connect() as connection:
            role = connection.execute(text("SELECT current_user")).scalar_one()
    assert role == "gridhouse_app"


def test_the_service_looks_sessions_up_on_its_own_connections(
    settings: Settings, engine: Engine, committed_user: str
) -> None:
    """The production path (no shared test session): the session lookup runs on the service's
    async pool, as gridhouse_app, and sees a logout, a disabled account and a restarted server."""
    with TestClient(create_app(settings)) as client:
        token = login(client, committed_user)
        assert client.get("/api/auth/me", headers=bearer(token)).json()["name"] == committed_user
        assert client.post("/api/auth/logout", headers=bearer(token)).status_code == 204
        assert client.get("/api/auth/me", headers=bearer(token)).status_code == 401

        token = login(client, committed_user)
        with engine.begin() as connection:  # the lookup's connections, ended by the server
            ended = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :name"
                ),
                {"name": AUTH_POOL_NAME},
            ).scalar_one()
        assert ended >= 1
        assert client.get("/api/auth/me", headers=bearer(token)).status_code == 200

        with transaction(make_session_factory(engine)) as session:
            users.set_disabled(session, name=committed_user, is_disabled=True, actor=TEST_ACTOR)
        assert client.get("/api/auth/me", headers=bearer(token)).status_code == 401
