"""``/docs`` works without the internet: Swagger UI from gridhouse's own files."""

from __future__ import annotations

from fastapi.testclient import TestClient

from gis.users.models import Role
from tests.access_world import World, bearer, login


def test_the_documentation_page_uses_no_cdn(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn." not in page.text and "https://" not in page.text
    for path in (
        "/vendor/swagger-ui-dist/swagger-ui-bundle.js",
        "/vendor/swagger-ui-dist/swagger-ui.css",
        "/openapi.json",
    ):
        assert f"'{path}'" in page.text or f'"{path}"' in page.text, path
        assert client.get(path).status_code == 200, path
    assert client.get("/redoc").status_code == 404  # ReDoc comes from a CDN only
    # the pages' headers: not framed, not cached (it was served with none of them)
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


def test_the_pages_without_a_top_bar_log_out_with_a_plain_form(
    client: TestClient, world: World
) -> None:
    """Auditors land on /docs and 403 pages had no way to log out but the API."""
    assert 'action="/logout"' in client.get("/docs").text
    token = login(client, world.users[Role.AUDITOR])  # keeps the session cookie
    forbidden = client.get("/map")
    assert forbidden.status_code == 403 and 'action="/logout"' in forbidden.text
    out = client.post("/logout", follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 401  # revoked
    again = client.post("/logout", follow_redirects=False)  # nothing left to revoke
    assert again.status_code == 303 and again.headers["location"] == "/login"
