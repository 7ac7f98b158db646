"""The pages over HTTP: login redirects, role checks, security headers, static files."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis.users import service as users
from gis.users.credentials import totp_code
from gis.users.models import Role
from maps.assets import missing_vendor_files
from tests.access_world import TEST_ACTOR, World, bearer, login


def page_config(html: str) -> dict[str, object]:
    """The JSON given to ``Gridhouse.<app>.start(map, config)``."""
    match = re.search(r"Gridhouse\.\w+\.start\([\w]+, (\{.*\})\);", html)
    assert match is not None
    config = json.loads(match.group(1))
    assert isinstance(config, dict)
    return config


def test_without_a_session_pages_redirect_to_the_login_page(client: TestClient) -> None:
    for path in ("/map", "/planner", "/dashboard", "/", "/map?lang=en"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=/")
    assert client.get("/api/auth/me").status_code == 401  # the API still answers 401


def test_a_page_with_a_huge_query_redirects_to_a_login_page_that_opens(client: TestClient) -> None:
    """The login page's ``next`` keeps the page without its query when the query is huge (the
    redirect used to lead to a 422 on ``next``)."""
    response = client.get("/map?x=" + "a" * 600, follow_redirects=False)
    assert response.headers["location"] == "/login?next=/map"
    assert client.get("/login?next=/map%3Fx%3D" + "a" * 600).status_code == 200


def test_the_login_page_never_sends_the_browser_off_site(client: TestClient) -> None:
    for sneak in ("%09", "%0A", "%0D", "%20"):
        response = client.get(f"/login?next=%2F{sneak}%2Fevil.example%2Fphish")
        assert page_config(response.text)["next"] == "/", sneak


def test_the_login_page_is_public_and_locked_down(client: TestClient) -> None:
    response = client.get("/login?next=//evil.example")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    assert page_config(response.text)["next"] == "/"


def test_each_role_gets_its_pages_and_a_403_page_for_others(
    client: TestClient, world: World
) -> None:
    officer = bearer(login(client, world.users[Role.OFFICER]))
    client.cookies.clear()
    config = page_config(client.get("/map", headers=officer).text)
    assert config["canRegister"] is True and config["needsPurpose"] is False
    assert client.get("/planner", headers=officer).status_code == 403
    home = client.get("/", headers=officer, follow_redirects=False)
    assert home.headers["location"] == "/map"

    police = bearer(login(client, world.users[Role.POLICE]))
    client.cookies.clear()
    config = page_config(client.get("/map", headers=police).text)
    assert config["canRegister"] is False and config["needsPurpose"] is True

    planner = bearer(login(client, world.users[Role.PLANNER]))
    client.cookies.clear()
    forbidden = client.get("/map", headers=planner)
    assert forbidden.status_code == 403 and 'href="/planner"' in forbidden.text
    assert client.get("/planner", headers=planner).status_code == 200
    dashboard = client.get("/dashboard", headers=planner)
    assert dashboard.status_code == 200
    assert "王自己" not in dashboard.text  # planners never see a name

    auditor = bearer(login(client, world.users[Role.AUDITOR]))
    client.cookies.clear()
    assert client.get("/", headers=auditor, follow_redirects=False).headers["location"] == "/docs"
    forbidden = client.get("/map", headers=auditor)
    assert forbidden.status_code == 403 and 'href="/docs"' in forbidden.text  # not an empty list


def test_a_page_knows_whether_its_user_logs_in_with_a_one_time_code(
    client: TestClient, db: Session, world: World
) -> None:
    """The login dialog of a page whose session ended asks for a code only when it is needed."""
    name = world.users[Role.OFFICER]
    officer = bearer(login(client, name))
    client.cookies.clear()
    for path in ("/map", "/dashboard"):
        user = page_config(client.get(path, headers=officer).text)["user"]
        assert user == {"name": name, "role": "officer", "totp": False}
    secret = users.enrol_totp(db, name=name, actor=TEST_ACTOR)  # ends the session
    officer = bearer(login(client, name, totp=totp_code(secret, at=datetime.now(UTC))))
    client.cookies.clear()
    user = page_config(client.get("/map", headers=officer).text)["user"]
    assert user == {"name": name, "role": "officer", "totp": True}


def test_the_dashboard_shows_an_officers_grids_only(client: TestClient, world: World) -> None:
    officer = bearer(login(client, world.users[Role.OFFICER]))
    client.cookies.clear()
    response = client.get("/dashboard?lang=en", headers=officer)
    assert response.status_code == 200
    assert 'data-grid="990101001001001"' in response.text
    assert "990101001002001" not in response.text and "990102001001001" not in response.text
    assert '<html lang="en">' in response.text


def test_static_files_are_served_without_a_session(client: TestClient) -> None:
    assert client.get("/static/officer.js").status_code == 200
    assert missing_vendor_files() == [], "run `make setup` (npm ci in maps/assets)"
    leaflet = client.get("/vendor/leaflet/dist/leaflet.js")
    assert leaflet.status_code == 200
    assert client.get("/vendor/../pyproject.toml").status_code == 404


def test_a_page_with_a_bad_address_is_a_page_saying_why(client: TestClient, world: World) -> None:
    """A person who opens ``/dashboard?division=440305`` (a county code where a township's
    12 digits go) gets an HTML page naming the field and the reason, not the API's JSON; the API
    keeps its JSON for the same mistake."""
    planner = bearer(login(client, world.users[Role.PLANNER]))
    client.cookies.clear()
    for address, status in (
        ("/dashboard?division=440305&lang=en", 422),
        ("/dashboard?division=990199999999&lang=en", 404),
    ):
        page = client.get(address, headers=planner)
        assert page.status_code == status, address
        assert page.headers["content-type"].startswith("text/html")
        assert "This page's address is not right" in page.text
        assert "<code>division</code>" in page.text and 'href="/dashboard"' in page.text
    api = client.get("/api/dashboard?division=440305", headers=planner)
    assert api.status_code == 422 and api.headers["content-type"] == "application/json"
