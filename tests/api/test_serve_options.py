"""``gridhouse serve``: X-Forwarded-For is believed only from the proxies named in
``GRIDHOUSE_TRUSTED_PROXIES`` (uvicorn's own default believes 127.0.0.1), and a broken grid
classes file or public URL stops the app before it serves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from api.cli.serve import uvicorn_options
from api.main import create_app
from gis.errors import EnvironmentProblem
from gis.settings import Settings
from tests.served import served_in_thread

GRIDHOUSE = Path(sys.executable).parent / "gridhouse"


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


def test_a_broken_holiday_file_stops_the_app_before_it_serves(tmp_path: Path) -> None:
    """A holiday file in GBK made every registration a 500, a misspelt date a 422 on the
    caller's ``holidays``; now the app is not made, naming the file and the line."""
    holidays = tmp_path / "holidays.txt"
    holidays.write_bytes("2026-10-01 国庆\n".encode("gbk"))
    with pytest.raises(EnvironmentProblem) as refused:
        create_app(Settings(data_dir=tmp_path, holidays_file=holidays))
    assert str(refused.value) == (
        f"GRIDHOUSE_HOLIDAYS_FILE: {holidays} is not UTF-8 (byte 11): save it as UTF-8"
    )
    holidays.write_text("2026-10-01\n2026-1O-02\n", encoding="utf-8")
    with pytest.raises(EnvironmentProblem, match="line 2: '2026-1O-02' is not a date"):
        create_app(Settings(data_dir=tmp_path, holidays_file=holidays))
    # a BOM is fine (Windows Notepad writes one); a misspelt 'work' is not a holiday
    holidays.write_text("\ufeff2026-10-01\n2026-10-11 work\n", encoding="utf-8")
    app = create_app(Settings(data_dir=tmp_path, holidays_file=holidays))
    assert app.state.work_calendar.workdays == {date(2026, 10, 11)}
    holidays.write_text("2026-10-11 wrok\n", encoding="utf-8")
    with pytest.raises(EnvironmentProblem, match="line 1: after the date, only 'work'"):
        create_app(Settings(data_dir=tmp_path, holidays_file=holidays))


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("https://grid.example.org/", "https://grid.example.org"),
        ("HTTPS://Grid.Example.org:443/gis/", "https://grid.example.org/gis"),
        ("http://10.0.0.5:8080", "http://10.0.0.5:8080"),
        ("  ", None),
    ],
)
def test_the_public_url_is_stored_without_its_trailing_slash(value: str, stored: str) -> None:
    assert Settings(public_url=value).public_url == stored


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("grid.example.org", "is not an http:// or https:// address"),
        ("ftp://grid.example.org/", "is not an http:// or https:// address"),
        ("https:///gis", "names no host"),
        ("https://grid.example.org/?a=1", "may not have a query (?) or a fragment (#)"),
        ("https://grid.example.org/#map", "may not have a query (?) or a fragment (#)"),
        ("https://user:secret@grid.example.org/", "may not hold a user name or password"),
        ("https://grid.example.org:99999/", "is not a valid address"),
        ("https://grid example.org/", "holds white space or a control character"),
        ("https://grid.example.org:0/", "port 0 is no port a client can reach"),
    ],
)
def test_a_bad_public_url_stops_start_up_with_one_line_naming_the_variable(
    tmp_path: Path, value: str, reason: str
) -> None:
    """``gridhouse serve`` reads the settings first: a bad GRIDHOUSE_PUBLIC_URL is one line and
    exit 1 before anything listens (a password in it is never echoed)."""
    with pytest.raises(ValidationError) as refused:
        Settings(public_url=value)
    assert refused.value.errors()[0]["loc"] == ("public_url",)
    env = {**os.environ, "GRIDHOUSE_PUBLIC_URL": value, "GRIDHOUSE_DATA_DIR": str(tmp_path)}
    started = subprocess.run(
        [str(GRIDHOUSE), "serve", "--port", "9"], capture_output=True, text=True, env=env,
        timeout=120, check=False,
    )  # fmt: skip
    assert started.returncode == 1
    [line] = started.stderr.splitlines()
    assert line.startswith("error: GRIDHOUSE_PUBLIC_URL: ") and reason in line, line
    assert "Value error" not in line and "secret" not in line
