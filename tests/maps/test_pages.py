"""The page builders: pure HTML, every script and style served by gridhouse, words in both
languages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from html.parser import HTMLParser

import folium
import pytest
from folium.plugins import Fullscreen

from gis.dashboard.service import DashboardData, GridFigures
from maps import assets, i18n
from maps.dashboard import DashboardView, build_dashboard
from maps.login_page import build_login_page, safe_next
from maps.officer_map import BaseMap, OfficerMapView, build_officer_map
from maps.page import Viewer, home_path, pages_for, safe_json
from maps.planner_page import PlannerView, build_planner_page

BOUNDS = (113.91, 22.53, 113.92, 22.54)


class Resources(HTMLParser):
    """Every URL a page makes the browser load (scripts, styles, images, frames)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("script", "img", "iframe") and values.get("src"):
            self.urls.append(str(values["src"]))
        if tag == "link" and values.get("href") and values.get("rel") != "icon":
            self.urls.append(str(values["href"]))


def resources(page: str) -> list[str]:
    parser = Resources()
    parser.feed(page)
    return parser.urls


def officer_page(basemap: BaseMap | None = None, lang: i18n.Lang = "zh") -> str:
    return build_officer_map(
        OfficerMapView(
            viewer=Viewer(name="o1", role="officer", lang=lang), basemap=basemap or BaseMap(),
            bounds=BOUNDS, can_register=True, needs_purpose=False, can_search_people=True,
            today=date(2026, 5, 3),
        )
    )  # fmt: skip


def planner_page() -> str:
    return build_planner_page(
        PlannerView(
            viewer=Viewer(name="p1", role="planner"), basemap=BaseMap(), bounds=BOUNDS,
            divisions=[("440305005001", "东角头社区")], today=date(2026, 5, 3), plan_id=3,
        )
    )  # fmt: skip


def dashboard_page() -> str:
    grid = GridFigures(
        code="440305005001001", name="西", grid_class="key",
        counts={"households": 400, "resident_count": 900, "floating_count": None, "houses": 420,
                "rented_houses": 120},
        floating_share=None, quality=None, overdue_declarations=None, overdue_departures=None,
    )  # fmt: skip
    data = DashboardData(
        on=date(2026, 5, 3), division_code=None, grids=[grid],
        totals={"grids": 1, "households": 400, "resident_count": 900, "floating_count": None,
                "houses": 420, "rented_houses": 120, "overdue": None},
        floating_share=None, class_mix={"key": 1}, quality=None, has_overdue=False,
        is_truncated=False,
    )  # fmt: skip
    view = DashboardView(viewer=Viewer(name="p1", role="planner"), data=data, divisions=[])
    return build_dashboard(view)


PAGES: dict[str, Callable[[], str]] = {
    "map": officer_page,
    "planner": planner_page,
    "dashboard": dashboard_page,
    "login": lambda: build_login_page(lang="zh", next_path="/map"),
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_pages_load_nothing_from_elsewhere(name: str) -> None:
    page = PAGES[name]()
    urls = resources(page)
    assert urls, "a page loads its scripts"
    outside = [url for url in urls if not url.startswith(("/vendor/", "/static/"))]
    assert outside == []
    assert "cdn" not in page.lower() and "unpkg" not in page.lower()


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_file_a_page_loads_exists(name: str) -> None:
    assert assets.missing_vendor_files() == [], "run `make setup` (npm ci in maps/assets)"
    for url in resources(PAGES[name]()):
        if url.startswith("/vendor/"):
            assert (assets.VENDOR_DIR / url.removeprefix("/vendor/")).is_file(), url
        else:
            assert (assets.STATIC_DIR / url.removeprefix("/static/")).is_file(), url


def test_folium_defaults_are_replaced_by_name_and_unknown_plugins_refused() -> None:
    fmap = folium.Map(tiles=None)
    assets.localize(fmap)
    assert dict(fmap.default_js)["leaflet"] == "/vendor/leaflet/dist/leaflet.js"
    assert "glyphicons_css" not in dict(fmap.default_css)
    assert folium.Map.default_js[0][1].startswith("https://")  # the class is left alone
    Fullscreen().add_to(fmap)  # type: ignore[no-untyped-call]  # folium's __init__ is unannotated
    with pytest.raises(ValueError, match=r"package\.json"):
        assets.localize(fmap)


def test_a_configured_base_map_is_offered_and_offline_is_always_there() -> None:
    offline = officer_page()
    assert "tianditu.gov.cn" not in offline and "openstreetmap.org" not in offline
    assert "/tiles/roads+grids+buildings+events/" in offline
    tianditu = officer_page(BaseMap(kind="tianditu", tianditu_key="k123"))
    assert "tk=k123" in tianditu and "/tiles/grids+buildings+events/" in tianditu
    assert "离线底图" in tianditu


def test_pages_speak_chinese_by_default_and_english_when_asked() -> None:
    assert '<html lang="zh-CN">' in officer_page()
    english = officer_page(lang="en")
    assert '<html lang="en">' in english and ">Log out<" in english


def test_every_message_the_scripts_use_exists_in_both_languages() -> None:
    keys: set[str] = set()
    for script in assets.STATIC_DIR.glob("*.js"):
        keys |= set(re.findall(r"G\.t\('([a-z_0-9]+)'\)", script.read_text()))
    for page in PAGES.values():
        keys |= set(re.findall(r'data-i18n(?:-placeholder|-title)?="([a-z_0-9]+)"', page()))
    assert keys - set(i18n.MESSAGES) == set()


def test_config_json_cannot_close_the_script() -> None:
    text = safe_json({"name": "</script><script>alert(1)</script>"})
    assert "</script>" not in text and "<" not in text


def test_roles_land_on_their_pages() -> None:
    assert pages_for("officer") == ["map", "dashboard"]
    assert home_path("planner") == "/planner"
    assert home_path("auditor") is None


def test_after_login_only_local_paths() -> None:
    assert safe_next("/dashboard?division=440305000000") == "/dashboard?division=440305000000"
    for target in ("//evil.example", "https://evil.example/", "javascript:alert(1)", "/\\evil"):
        assert safe_next(target) == "/"
    # browsers drop tabs and line breaks, trim spaces and controls: each would make //evil
    for sneak in ("\t", "\n", "\r", " ", "\x00", "\x1f", "\u200b", "\u3000"):
        assert safe_next(f"/{sneak}/evil.example/phish") == "/", repr(sneak)
    assert safe_next("/" + "a" * 600) == "/"


def test_a_long_dashboard_links_its_next_grids_and_says_what_covers_what() -> None:
    grid = GridFigures(
        code="440305005001101", name="西", grid_class="key",
        counts={"households": 400, "resident_count": 900, "floating_count": None, "houses": 420,
                "rented_houses": 120},
        floating_share=None, quality=None, overdue_declarations=None, overdue_departures=None,
    )  # fmt: skip
    data = DashboardData(
        on=date(2026, 5, 3), division_code="440305005001", grids=[grid],
        totals={"grids": 152, "households": 60_000, "resident_count": 900, "floating_count": None,
                "houses": 420, "rented_houses": 120, "overdue": None}, floating_share=None,
        class_mix={"key": 152}, quality=None, has_overdue=False, is_truncated=True,
        quality_grids=1, next_after="440305005001101", after="440305005001100",
    )  # fmt: skip
    page = build_dashboard(
        DashboardView(viewer=Viewer(name="a1", role="admin"), data=data, divisions=[])
    )
    note = page[page.index('id="gh-truncated"') :].split("</p>")[0]
    assert '<span data-i18n="truncated">合计、网格类别和事件含全部网格' in note  # not escaped
    assert "&lt;" not in note
    assert 'href="/dashboard?division=440305005001&amp;after=440305005001101"' in note
    assert 'href="/dashboard?division=440305005001"' in note  # back to the first grids
