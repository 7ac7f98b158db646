"""``/docs`` works without the internet: Swagger UI from gridhouse's own files."""

from __future__ import annotations

from fastapi.testclient import TestClient


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
