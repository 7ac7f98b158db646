"""A police user on the map: sees occupants only after stating a purpose, masked, and can
register nobody (no button, and the API refuses)."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from gis.access.masking import mask_id_number
from gis.clock import today_in_china
from gis.db import make_engine
from gis.users.models import Role
from tests.e2e.conftest import Browser, Server
from tests.e2e.test_officer_map import click_building
from tests.e2e.world import BOX, COMMUNITY, GRID_WEST, RESIDENT, USERS
from tests.people_world import citizen_id

pytestmark = pytest.mark.e2e


def test_police_read_with_a_purpose_and_cannot_register(
    browser: Browser, server: Server, e2e_database: str
) -> None:
    world = server.world
    page = browser.page
    engine = make_engine(e2e_database, pool_size=1)
    with engine.begin() as connection:
        event_id = connection.execute(
            text(
                "INSERT INTO events (kind, status, title, geom, source, reported_by, due_at, "
                "grid_code, community_code, district_code) VALUES ('dispute', 'reported', "
                "'邻里纠纷', ST_SetSRID(ST_MakePoint(:lon, :lat), 4490), 'import', 'e2e', "
                "now() + interval '1 day', :grid, :community, :district) RETURNING id"
            ),
            # in a corner of the grid, not over the building clicked below
            {"lon": BOX[0] + 0.0002, "lat": BOX[1] + 0.0002, "grid": GRID_WEST,
             "community": COMMUNITY, "district": COMMUNITY[:6]},
        ).scalar_one()  # fmt: skip
    engine.dispose()
    browser.login(USERS[Role.POLICE], then="/map")
    page.wait_for_selector("body[data-tiles=loaded]")
    # an event opened before a purpose is stated opens once it is (it stayed on the note)
    page.evaluate("(id) => Gridhouse.officer.openEvent(id)", event_id)
    expect(page.locator("#gh-panel-body .gh-note")).to_be_visible()
    page.fill("#gh-purpose", "A4403052026050001")
    page.dispatch_event("#gh-purpose", "change")
    expect(page.locator("#gh-event-status")).to_have_attribute("data-status", "reported")
    page.evaluate("() => sessionStorage.removeItem('gh-purpose')")
    page.fill("#gh-purpose", "")
    page.dispatch_event("#gh-purpose", "change")
    page.click("#gh-panel-close")
    lon, lat = world.building_point
    click_building(browser, lon, lat)
    expect(page.locator("#gh-houses > li").first).to_be_visible()
    expect(page.locator("#gh-occupant-note .gh-note")).to_be_visible()  # a purpose first
    assert page.locator(".gh-register").count() == 0
    assert page.locator(".gh-deregister").count() == 0
    assert page.locator("#gh-add-house").count() == 0  # police add no house

    page.fill("#gh-purpose", "A4403052026050001")
    page.dispatch_event("#gh-purpose", "change")
    name, id_number, _ = RESIDENT
    occupant = page.locator(
        f'#gh-houses > li[data-code="{world.house_code}"] .gh-occupant', has_text=name
    )
    expect(occupant).to_be_visible()
    expect(occupant.locator(".gh-id")).to_have_text(mask_id_number(id_number) or "")
    assert page.locator(".gh-register").count() == 0
    browser.screenshot("1-occupants")

    refused = page.request.post(
        f"{server.url}/api/residences",
        data={
            "house_code": world.house_code,
            "person": {"name": "不该登记", "id_number": citizen_id("110105", date(1990, 1, 1), 9)},
            "moved_in": today_in_china().isoformat(),
            "kind": "tenant",
        },
    )
    assert refused.status == 403, refused.text()

    # police see a full ID number for a stated reason (DESIGN §8), audited; the page had no way
    page.locator("#gh-purpose").blur()  # its change reloads the list: let it settle first
    expect(page.locator("#gh-occupant-note")).to_be_empty()
    page.once("dialog", lambda dialog: dialog.accept("A4403052026050001"))
    occupant.locator(".gh-reveal").click()
    expect(occupant.locator(".gh-id")).to_have_text(id_number)
    engine = make_engine(e2e_database, pool_size=1)
    with engine.connect() as connection:
        purpose = connection.execute(
            text("SELECT purpose FROM audit_log WHERE action = 'people.reveal' ORDER BY id DESC")
        ).scalar()
    engine.dispose()
    assert purpose == "A4403052026050001"


def test_police_ask_who_lived_in_a_building_on_a_past_day(browser: Browser, server: Server) -> None:
    """The police's date control passes ``at`` to the occupants read (DESIGN: "who lived here on
    3 May"); the page could only ask about today."""
    world = server.world
    page = browser.page
    browser.login(USERS[Role.POLICE], then="/map")
    at = page.locator("#gh-at")
    expect(at).to_have_value(today_in_china().isoformat())
    page.fill("#gh-purpose", "A4403052026050002")
    page.dispatch_event("#gh-purpose", "change")
    page.evaluate("(code) => Gridhouse.officer.openBuilding(code)", world.building_code)
    house = page.locator(f'#gh-houses > li[data-code="{world.house_code}"]')
    name = RESIDENT[0]
    expect(house.locator(".gh-occupant", has_text=name)).to_be_visible()  # since 2024-01-01
    with page.expect_request(lambda r: "/occupants?" in r.url and "at=2023-12-31" in r.url):
        at.fill("2023-12-31")
        at.dispatch_event("change")
    expect(house.locator(".gh-occupant", has_text=name)).to_have_count(0)
    expect(house.locator("ul.gh-occupants")).to_have_text("无登记人员")
    at.fill("2024-01-01")
    at.dispatch_event("change")
    expect(house.locator(".gh-occupant", has_text=name)).to_be_visible()
    page.click("#gh-lang")
    expect(page.locator('[data-i18n="occupants_on"]')).to_have_text("Living there on")
