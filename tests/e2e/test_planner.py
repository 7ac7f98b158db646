"""A planner drafts a plan, drags a grid vertex, sees the impact change (from the edit's own
answer, equal to the whole impact read again), and publishes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from gis.db import make_engine
from gis.users.models import Role
from tests.e2e.conftest import Browser, Server
from tests.e2e.world import BOX, COMMUNITY, GRID_EAST, GRID_WEST, SPLIT_LON, USERS

pytestmark = pytest.mark.e2e


def households(browser: Browser, code: str) -> str:
    return browser.page.locator(f'tr:has(td[title="{code}"]) td.gh-households').inner_text()


def test_planner_edits_a_grid_sees_the_impact_and_publishes(
    browser: Browser, server: Server, e2e_database: str
) -> None:
    page = browser.page
    browser.login(USERS[Role.PLANNER], then="/planner")
    page.click("#gh-new-plan-box summary")
    page.select_option("#gh-plan-division", COMMUNITY)
    page.fill("#gh-new-plan input[name=plan_name]", "e2e 西网格扩大")
    page.click("#gh-plan-create")
    expect(page.locator(f'td[title="{GRID_WEST}"]')).to_be_visible()
    west_before, east_before = households(browser, GRID_WEST), households(browser, GRID_EAST)
    page.wait_for_selector("body[data-tiles=loaded]")
    browser.screenshot("1-plan")
    # a grid's name is text in its tooltip, never markup (it ran a script once)
    east = page.evaluate(
        """([lat, lon]) => {
            const map = Gridhouse.plannerMap;
            const box = map.getContainer().getBoundingClientRect();
            const a = map.latLngToContainerPoint([lat, lon]);
            return [a.x + box.left, a.y + box.top];
        }""",
        [(BOX[1] + BOX[3]) / 2, (SPLIT_LON + BOX[2]) / 2],
    )
    page.mouse.move(*east)
    expect(page.locator(".leaflet-tooltip")).to_contain_text('东网格<img src=x onerror="')
    assert page.evaluate("document.body.dataset.xss") is None

    # drag the shared top vertex of the two grids east, by 60% of the east grid's width
    page.click(".leaflet-pm-icon-edit")
    version = page.get_attribute("body", "data-impact-version")
    reads: list[str] = []
    page.on("request", lambda request: reads.append(request.url))
    start, end = page.evaluate(
        """([lat, lon, lon2]) => {
            const map = Gridhouse.plannerMap;
            const box = map.getContainer().getBoundingClientRect();
            const a = map.latLngToContainerPoint([lat, lon]);
            const b = map.latLngToContainerPoint([lat, lon2]);
            return [[a.x + box.left, a.y + box.top], [b.x + box.left, b.y + box.top]];
        }""",
        [BOX[3], SPLIT_LON, SPLIT_LON + 0.6 * (BOX[2] - SPLIT_LON)],
    )
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move((start[0] + end[0]) / 2, start[1], steps=5)
    page.mouse.move(*end, steps=5)
    page.mouse.up()
    page.wait_for_function(
        "(v) => document.body.getAttribute('data-impact-version') !== v "
        "&& document.body.getAttribute('data-busy') !== 'true'",
        arg=version,
    )
    west_after, east_after = households(browser, GRID_WEST), households(browser, GRID_EAST)
    assert int(west_after) > int(west_before)
    assert int(east_after) < int(east_before)
    assert int(west_after) + int(east_after) == int(west_before) + int(east_before)
    expect(page.locator(f'tr.gh-changed:has(td[title="{GRID_WEST}"])')).to_be_visible()
    edits = [url for url in reads if "/api/plans/" in url]
    assert len(edits) == 1 and "/grids/" in edits[0], edits  # no second read of the impact
    browser.screenshot("2-edited")

    # the numbers shown after the edit are those of the whole impact read again
    shown = page.locator("#gh-impact").inner_text(), page.locator("#gh-diff").inner_text()
    version = page.get_attribute("body", "data-impact-version")
    page.evaluate("Gridhouse.planner.openPlan(Gridhouse.planner.state.plan.id)")
    page.wait_for_function(
        "(v) => document.body.getAttribute('data-impact-version') !== v", arg=version
    )
    assert (page.locator("#gh-impact").inner_text(), page.locator("#gh-diff").inner_text()) == shown

    expect(page.locator("#gh-publish-button")).to_be_enabled()
    page.click("#gh-publish-button")
    expect(page.locator("#gh-published")).to_be_visible()
    expect(page.locator("#gh-plan-status")).to_have_attribute("data-status", "published")
    expect(page.locator("#gh-plan-status")).to_have_text("已发布")
    expect(page.locator(".leaflet-pm-toolbar").first).to_be_hidden()  # read only now
    browser.screenshot("3-published")
    # the plans list and the publish result follow the language (they stayed Chinese)
    plan_id = page.evaluate("() => Gridhouse.planner.state.plan.id")
    chosen = page.locator(f'#gh-plan-select option[value="{plan_id}"]')
    expect(chosen).to_have_text(f"#{plan_id} e2e 西网格扩大 (已发布)")
    page.click("#gh-lang")
    expect(chosen).to_have_text(f"#{plan_id} e2e 西网格扩大 (published)")
    expect(page.locator("#gh-plan-select")).to_have_value(str(plan_id))
    words = page.locator("#gh-plan-select").inner_text()
    assert "草案" not in words and "已发布" not in words and "已废弃" not in words, words
    expect(page.locator("#gh-published")).to_contain_text("Published ")
    page.click("#gh-lang")
    expect(page.locator("#gh-published")).to_contain_text("已发布 ")

    # a session ending mid-use: a login dialog over the plan (tests/e2e/test_session.py), whose
    # way to log in as someone else comes back to the same plan (the query was lost)
    plan_id = page.evaluate("() => Gridhouse.planner.state.plan.id")
    browser.context.clear_cookies()
    page.evaluate("() => { Gridhouse.api('GET', '/api/auth/me'); }")
    expect(page.locator("#gh-session")).to_be_visible()
    expect(page.locator("#gh-session-other")).to_have_attribute(
        "href", f"/login?next=%2Fplanner%3Fplan%3D{plan_id}"
    )
    page.click("#gh-session-other")
    page.wait_for_url(f"**/login?next=%2Fplanner%3Fplan%3D{plan_id}")

    engine = make_engine(e2e_database, pool_size=1)
    with engine.connect() as connection:
        versions = connection.execute(
            text("SELECT count(*) FROM grids WHERE code = :code"), {"code": GRID_WEST}
        ).scalar_one()
    engine.dispose()
    assert versions == 2  # the edit opened a new version of the west grid


def new_plan(browser: Browser, name: str) -> None:
    """Create a draft plan of the community on the page and wait for its impact."""
    page = browser.page
    page.click("#gh-new-plan-box summary")
    page.select_option("#gh-plan-division", COMMUNITY)
    page.fill("#gh-new-plan input[name=plan_name]", name)
    version = page.get_attribute("body", "data-impact-version")
    page.click("#gh-plan-create")
    page.wait_for_function(
        "(v) => document.body.getAttribute('data-impact-version') !== v", arg=version
    )


def draw_grid(browser: Browser, ring: list[tuple[float, float]]) -> None:
    """A polygon drawn with the editor (``ring``: lon, lat), and the edit's answer awaited."""
    page = browser.page
    version = page.get_attribute("body", "data-impact-version")
    page.evaluate(
        """(ring) => {
            const map = Gridhouse.plannerMap;
            const layer = L.polygon(ring.map(([lon, lat]) => [lat, lon])).addTo(map);
            map.fire('pm:create', {layer: layer, shape: 'Polygon'});
        }""",
        ring,
    )
    page.wait_for_function(
        "(v) => document.body.getAttribute('data-impact-version') !== v "
        "&& document.body.getAttribute('data-busy') === 'false'",
        arg=version,
    )


def test_planner_refusals_read_in_chinese_naming_the_field(browser: Browser) -> None:
    page = browser.page
    browser.login(USERS[Role.PLANNER], then="/planner")
    new_plan(browser, "e2e 拒绝")

    # refused edits read in Chinese, the field named by its label (it was `geometry：` and
    # the English message)
    far = [(113.95, 22.60), (113.951, 22.60), (113.951, 22.601), (113.95, 22.601)]
    draw_grid(browser, far)
    expect(page.locator("#gh-toast")).to_have_text("网格图形：该网格不在任何社区内")
    lon, lat = SPLIT_LON - 0.001, (BOX[1] + BOX[3]) / 2
    bowtie = [(lon, lat), (lon + 0.0005, lat + 0.0005), (lon + 0.0005, lat), (lon, lat + 0.0005)]
    draw_grid(browser, bowtie)
    expect(page.locator("#gh-toast")).to_have_text(
        re.compile(r"^网格图形：多边形无效：自相交，位置")
    )


def test_planner_hidden_figures_say_why(browser: Browser, server: Server) -> None:
    """A count of 1 to 4 is "<5"; a share or a deviation hidden for giving one away is "–"
    (they were all "<5", which a deviation of −300 is not), each with its reason as title."""
    page = browser.page
    browser.login(USERS[Role.PLANNER], then="/planner")
    new_plan(browser, "e2e 隐藏")
    # a small grid around the resident's building: its households are few (hidden as <5), and
    # its deviation and floating share are hidden for giving them away, not for being small
    lon, lat = server.world.building_point
    d = 0.00005
    draw_grid(
        browser, [(lon - d, lat - d), (lon + d, lat - d), (lon + d, lat + d), (lon - d, lat + d)]
    )
    rows = page.evaluate("() => Gridhouse.planner.state.impact.grids")
    assert any(row["deviation"] is None for row in rows), rows
    for row in rows:
        cells = page.locator(f'#gh-impact tr[data-grid="{row["ref"]}"]')
        small, derived = (
            ("<5", "1至4，为保护个人信息不显示"),
            ("–", "不显示：由它可推算出一个1至4的数"),
        )
        for key, selector, (shown, why) in (
            ("households", "td.gh-households", small),
            ("resident_count", "td.gh-residents", small),
            ("deviation", "td.gh-deviation", derived),
            ("floating_share", "td.gh-floating-share", derived),
        ):
            if row[key] is None:
                expect(cells.locator(selector)).to_have_text(shown)
                expect(cells.locator(f"{selector} span")).to_have_attribute("title", why)
    # the impact's note on what its figures leave out, in the page's language (never shown)
    notes = page.locator("#gh-impact-notes li")
    expect(notes.first).to_have_text(
        "草案中的网格不计未结事件（事件属于现行网格）：预测类别按事件率为0计"
    )
    page.click("#gh-lang")
    expect(notes.first).to_have_text(re.compile(r"^draft grids count no open events"))
    hidden = page.locator('#gh-impact [data-hidden="deviation"]').first
    expect(hidden).to_have_attribute("title", "Hidden: it would give away a count of 1 to 4")
