"""``GET /healthz`` against a live and a dead database."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
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


def test_healthz_answers_head_for_monitors(client: TestClient) -> None:
    response = client.head("/healthz")
    assert response.status_code == 200 and response.content == b""


def test_healthz_is_503_when_the_database_is_down_and_tells_only_the_log_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The public answer names no host, port or user (anyone may call it); the log does."""
    port = free_port()
    dead = f"postgresql://nobody:secret@127.0.0.1:{port}/gridhouse"
    app = create_app(Settings(database_url=dead, data_dir=tmp_path))
    with caplog.at_level(logging.ERROR, logger="api.routes.health"), TestClient(app) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "reason": "database unreachable (see the server log)",
    }
    assert str(port) in caplog.text and "secret" not in caplog.text


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
