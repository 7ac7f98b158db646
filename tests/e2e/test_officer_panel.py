"""The officer's side panel: a refusal names its field in either language."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from gis.users.models import Role
from tests.e2e.conftest import Browser, Server
from tests.e2e.world import USERS
from tests.people_world import citizen_id

pytestmark = pytest.mark.e2e


def open_building(page: Page, code: str) -> None:
    page.evaluate("(code) => Gridhouse.officer.openBuilding(code)", code)
    expect(page.locator("#gh-building-code")).to_be_visible()
    expect(page.locator("#gh-occupant-note")).to_be_empty()


def test_a_refusal_names_its_field_in_english_too(browser: Browser, server: Server) -> None:
    world = server.world
    page = browser.page
    browser.login(USERS[Role.OFFICER], then="/map")
    page.click("#gh-lang")
    open_building(page, world.building_code)
    house = page.locator(f'#gh-houses > li[data-code="{world.house_code}"]')
    house.locator(".gh-register").click()
    register = house.locator("form.gh-register-form")
    new_id = citizen_id("350102", date(1996, 6, 6), 62)
    wrong = new_id[:17] + ("0" if new_id[17] != "0" else "1")
    register.locator("input[name=name]").fill("Test")
    register.locator("input[name=id_number]").fill(wrong)
    register.locator("button[type=submit]").click()
    # the label, as in Chinese (it was the API's path: `person.id_number: …`)
    expect(register.locator(".gh-form-error")).to_have_text(
        f"ID number: the check character does not match: expected '{new_id[17]}', "
        f"got '{wrong[17]}' (ISO 7064 MOD 11-2); the number is mistyped"
    )
    register.locator(".gh-cancel").click()
