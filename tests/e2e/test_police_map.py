"""A police user on the map: sees occupants only after stating a purpose, masked, and can
register nobody (no button, and the API refuses)."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from gis.access.masking import mask_id_number
from gis.clock import today_in_china
from gis.users.models import Role
from tests.e2e.conftest import Browser, Server
from tests.e2e.test_officer_map import click_building
from tests.e2e.world import RESIDENT, USERS
from tests.people_world import citizen_id

pytestmark = pytest.mark.e2e


def test_police_read_with_a_purpose_and_cannot_register(browser: Browser, server: Server) -> None:
    world = server.world
    page = browser.page
    browser.login(USERS[Role.POLICE], then="/map")
    page.wait_for_selector("body[data-tiles=loaded]")
    lon, lat = world.building_point
    click_building(browser, lon, lat)
    expect(page.locator("#gh-houses > li").first).to_be_visible()
    expect(page.locator("#gh-occupant-note .gh-note")).to_be_visible()  # a purpose first
    assert page.locator(".gh-register").count() == 0
    assert page.locator(".gh-deregister").count() == 0

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
