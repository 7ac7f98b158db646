"""``gridhouse serve``: X-Forwarded-For is believed only from the proxies named in
``GRIDHOUSE_TRUSTED_PROXIES`` (uvicorn's own default believes 127.0.0.1), and a broken grid
classes file stops the app before it serves."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from api.cli.serve import uvicorn_options
from api.main import create_app
from gis.errors import EnvironmentProblem
from gis.settings import Settings
from tests.served import served_in_thread


async def echo_client(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The address the application is told the client has (what audit rows record)."""
    if scope["type"] != "http":
        return
    body = json.dumps({"client": scope["client"][0], "scheme": scope["scheme"]}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def _seen(port: int) -> dict[str, str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/",
        headers={"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - local
        return dict(json.loads(response.read()))


@pytest.mark.parametrize(
    ("trusted", "client", "scheme"),
    [
        ("", "127.0.0.1", "http"),
        ("127.0.0.1", "6.6.6.6", "https"),
        ("10.0.0.9", "127.0.0.1", "http"),
    ],
)
def test_forwarded_headers_only_from_trusted_proxies(
    tmp_path: Any, trusted: str, client: str, scheme: str
) -> None:
    settings = Settings(data_dir=tmp_path, trusted_proxies=trusted)
    options = {**uvicorn_options(settings), "log_level": "warning"}
    with served_in_thread(echo_client, lifespan="off", **options) as port:
        assert _seen(port) == {"client": client, "scheme": scheme}


def test_a_broken_grid_classes_file_stops_the_app_before_it_serves(tmp_path: Path) -> None:
    """Every grid statistics request answered a 422 on ``config`` (the caller's fault?) while
    the server ran as if nothing were wrong; now the app is not made, and ``gridhouse serve``
    prints this one line and exits 1."""
    broken = tmp_path / "classes.json"
    broken.write_text(json.dumps({"weights": {"population_load": "abc"}}))
    settings = Settings(data_dir=tmp_path, grid_classes_file=broken)
    with pytest.raises(EnvironmentProblem) as refused:
        create_app(settings)
    assert str(refused.value) == (
        f"GRIDHOUSE_GRID_CLASSES_FILE ({broken}): weights.population_load: 'abc' is not a number"
    )
