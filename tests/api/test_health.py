"""``GET /healthz`` against a live and a dead database."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.main import create_app
from gis.cluster import free_port
from gis.settings import Settings


def test_healthz_reports_postgis_version(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["postgis"].startswith("3.3.")


def test_healthz_is_503_with_a_reason_when_the_database_is_down(tmp_path: Path) -> None:
    dead = f"postgresql://nobody:secret@127.0.0.1:{free_port()}/gridhouse"
    app = create_app(Settings(database_url=dead, data_dir=tmp_path))
    with TestClient(app) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert "database unreachable" in body["reason"]
    assert "secret" not in response.text


def test_a_signed_in_request_is_503_when_the_database_is_down(tmp_path: Path) -> None:
    """The session lookup waits a few seconds for a connection, then tells the caller the
    database is unavailable (not a 500, not a hang)."""
    dead = f"postgresql://nobody:secret@127.0.0.1:{free_port()}/gridhouse"
    app = create_app(Settings(database_url=dead, data_dir=tmp_path))
    with TestClient(app) as client:
        response = client.get("/api/auth/me", headers={"Authorization": "Bearer some-token"})
    assert response.status_code == 503
    assert "database is unavailable" in response.json()["detail"][0]["msg"]
    assert "secret" not in response.text
