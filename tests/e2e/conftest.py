"""Browser tests: gridhouse served by uvicorn (in a thread, on a free port) over a database of
its own, driven by Playwright in Debian's headless Chromium on a closed network.

Every request the browser makes to a host other than 127.0.0.1 is aborted and fails the test,
and so does any uncaught script error. Screenshots go to ``test-artifacts/e2e/``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

import pytest
from PIL import Image, ImageStat
from playwright.sync_api import BrowserContext, Page, Playwright, Route, sync_playwright

from api.main import create_app
from gis import cluster
from gis.db import make_engine, make_session_factory
from gis.people.crypto import PeopleCipher
from gis.settings import Settings
from maps.assets import missing_vendor_files
from tests.access_world import PASSWORD
from tests.databases import own_database
from tests.e2e.world import E2EWorld, build_e2e_world
from tests.served import served_in_thread

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""Debian's Chromium on a machine without internet: no background connections at all."""
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
DATABASE = "e2e"

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Server:
    url: str
    world: E2EWorld


@pytest.fixture(scope="session")
def e2e_database(pg_cluster: cluster.Cluster) -> Iterator[str]:
    """A migrated database of its own, dropped at the end."""
    with own_database(pg_cluster, DATABASE) as url:
        yield url


@pytest.fixture(scope="session")
def server(
    e2e_database: str,
    shared_data: Path,
    cipher: PeopleCipher,
    people_key_file: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Server]:
    """The world committed, and the app serving it on 127.0.0.1 from a thread."""
    missing = missing_vendor_files()
    if missing:
        pytest.fail(f"the pages' libraries are not installed ({missing[0]}…): run `make setup`")
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make setup` as root (apt-get install chromium)")
    engine = make_engine(e2e_database, pool_size=2)
    world = build_e2e_world(make_session_factory(engine), shared_data=shared_data, cipher=cipher)
    engine.dispose()
    settings = Settings(
        database_url=e2e_database,
        data_dir=tmp_path_factory.mktemp("e2e-data"),
        people_key_file=people_key_file,
    )
    with served_in_thread(create_app(settings), log_level="warning", lifespan="on") as port:
        yield Server(url=f"http://127.0.0.1:{port}", world=world)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@dataclass
class Browser:
    """One test's browser: a page, the requests refused, the script errors seen."""

    context: BrowserContext
    page: Page
    base_url: str
    name: str
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def screenshot(self, step: str) -> bytes:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        return self.page.screenshot(path=ARTIFACTS / f"{self.name}-{step}.png")

    def login(self, user: str, *, then: str) -> None:
        """Log in through the login page, as a user would, and land on ``then``."""
        self.page.goto(f"{self.base_url}{then}")
        self.page.wait_for_url(re.compile(r"/login\?next="))
        self.page.fill("#gh-name", user)
        self.page.fill("#gh-password", PASSWORD)
        self.page.click("#gh-login-submit")
        self.page.wait_for_url(re.compile("^" + re.escape(f"{self.base_url}{then}")))
        self.page.wait_for_selector("body[data-ready]", timeout=30_000)


def _guard(outside: list[str]) -> Callable[[Route], None]:
    def handle(route: Route) -> None:
        host = urlsplit(route.request.url).hostname
        if host == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    return handle


def open_browser(
    playwright: Playwright,
    server: Server,
    profile: Path,
    name: str,
    *,
    width: int = 1280,
    height: int = 800,
) -> Browser:
    """Chromium with a fresh profile, every request outside 127.0.0.1 refused and recorded."""
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
        viewport={"width": width, "height": height}, locale="zh-CN", timezone_id="Asia/Shanghai",
    )  # fmt: skip
    browser = Browser(context=context, page=context.pages[0], base_url=server.url, name=name)
    context.route("**/*", _guard(browser.outside))
    browser.page.on("pageerror", lambda error: browser.errors.append(f"{error}\n{error.stack}"))
    browser.page.set_default_timeout(20_000)
    return browser


@pytest.fixture
def browser(
    playwright: Playwright, server: Server, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Browser]:
    opened = open_browser(playwright, server, tmp_path / "profile", request.node.name)
    yield opened
    opened.context.close()
    assert opened.outside == [], "the page asked for something beyond 127.0.0.1"
    assert opened.errors == [], "the page had script errors"


def pixel_spread(png: bytes) -> float:
    """The mean standard deviation of a screenshot's colour channels (0 for a blank image)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return float(sum(ImageStat.Stat(image).stddev) / 3)


def count_colour(png: bytes, rgb: tuple[int, int, int], *, tolerance: int = 6) -> int:
    """How many pixels are within ``tolerance`` of ``rgb`` in each channel."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    r0, g0, b0 = rgb
    # all bands of an RGB image: one (r, g, b) tuple per pixel
    pixels = cast("tuple[tuple[int, int, int], ...]", image.get_flattened_data())
    return sum(
        1
        for r, g, b in pixels
        if abs(r - r0) <= tolerance and abs(g - g0) <= tolerance and abs(b - b0) <= tolerance
    )


def hex_rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
