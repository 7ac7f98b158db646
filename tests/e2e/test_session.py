"""A session that ends while a page is open (idle, or revoked elsewhere): the page stays as it is,
a login dialog over it asks for the same user's password, and what was refused meanwhile (the
officer's registration, the map's tiles) is sent again. It went to the login page at once, the
typed registration and the open building lost, or, when only the map moved, drew nothing."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import date

import pytest
from playwright.sync_api import expect

from gis.access.masking import mask_id_number
from gis.users.models import Role
from tests.access_world import PASSWORD
from tests.e2e.conftest import Browser, Server
from tests.e2e.world import USERS
from tests.people_world import citizen_id

pytestmark = pytest.mark.e2e

RETURNING = ("回来了", citizen_id("350102", date(1993, 3, 3), 71))


def end_session(browser: Browser) -> None:
    """Revoke the browser's session on the server, leaving its cookie in place (as an idle
    session expires)."""
    token = next(c["value"] for c in browser.context.cookies() if c["name"] == "gridhouse_session")
    request = urllib.request.Request(  # noqa: S310 - the test's own server, over http
        f"{browser.base_url}/api/auth/logout",
        method="POST",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request) as response:  # noqa: S310
        assert response.status == 204


def test_a_registration_typed_when_the_session_ends_is_kept_and_sent_after_logging_in(
    browser: Browser, server: Server
) -> None:
    world = server.world
    page = browser.page
    browser.login(USERS[Role.OFFICER], then="/map")
    page.evaluate("(code) => Gridhouse.officer.openBuilding(code)", world.building_code)
    expect(page.locator("#gh-occupant-note")).to_be_empty()
    house = page.locator(f'#gh-houses > li.gh-house:not([data-code="{world.house_code}"])').nth(1)
    house.locator(".gh-register").click()
    form = house.locator("form.gh-register-form")
    form.locator("input[name=name]").fill(RETURNING[0])
    form.locator("input[name=id_number]").fill(RETURNING[1])
    end_session(browser)
    form.locator("button[type=submit]").click()

    dialog = page.locator("#gh-session")
    expect(dialog).to_be_visible()
    expect(dialog.locator("h2")).to_have_text("您的会话已结束，请重新登录")
    expect(dialog.locator("#gh-session-name")).to_have_value(USERS[Role.OFFICER])
    expect(dialog.locator("#gh-session-totp")).to_have_count(0)  # the account has no code
    assert page.url == f"{server.url}/map"  # not sent to the login page
    expect(form.locator("input[name=name]")).to_have_value(RETURNING[0])
    browser.screenshot("1-session-ended")
    # the login page's rules and words
    dialog.locator("#gh-session-password").fill("not the password")
    dialog.locator("#gh-session-submit").click()
    expect(dialog.locator("#gh-session-error")).to_have_text(
        "用户名、密码或动态码错误，或账户已锁定"
    )
    dialog.locator("#gh-session-password").fill(PASSWORD)
    dialog.locator("#gh-session-submit").click()
    expect(dialog).to_have_count(0)
    # the refused registration was sent again: the new resident is listed, masked
    listed = house.locator(".gh-occupant", has_text=RETURNING[0])
    expect(listed).to_be_visible()
    expect(listed.locator(".gh-id")).to_have_text(mask_id_number(RETURNING[1]) or "")
    expect(page.locator("#gh-building-code")).to_be_visible()
    assert RETURNING[1] not in page.content()
    for storage in ("localStorage", "sessionStorage"):  # nothing personal kept in the browser
        kept = page.evaluate(f"() => JSON.stringify({{...{storage}}})")
        assert RETURNING[0] not in kept and RETURNING[1] not in kept


def test_tiles_refused_when_the_session_ends_ask_for_it_and_are_drawn_again(
    browser: Browser, server: Server
) -> None:
    page = browser.page
    browser.login(USERS[Role.OFFICER], then="/map")
    lon, lat = server.world.building_point
    page.evaluate("([lat, lon]) => Gridhouse.officerMap.setView([lat, lon], 17)", [lat, lon])
    page.wait_for_selector("body[data-tiles=loaded]")
    end_session(browser)
    with page.expect_response(lambda r: "/tiles/" in r.url and r.status == 401):
        page.evaluate("([lat, lon]) => Gridhouse.officerMap.setView([lat, lon], 18)", [lat, lon])
    dialog = page.locator("#gh-session")
    expect(dialog).to_be_visible()  # the map went blank and nothing said why
    dialog.locator("#gh-session-password").fill(PASSWORD)
    with page.expect_response(lambda r: "/tiles/" in r.url and r.status == 200):
        dialog.locator("#gh-session-submit").click()
    expect(dialog).to_have_count(0)
    page.wait_for_selector("body[data-tiles=loaded]")
    page.wait_for_function(
        "() => document.querySelectorAll('.leaflet-tile-container svg path').length > 50"
    )


def test_a_request_refused_before_logging_in_again_is_sent_again_without_asking_twice(
    browser: Browser,
) -> None:
    page = browser.page
    browser.login(USERS[Role.OFFICER], then="/map")
    end_session(browser)
    # a request whose refusal (401) arrives only after the user has logged in again
    page.evaluate(
        """() => {
            const fetchNow = window.fetch;
            let release;
            const held = new Promise((resolve) => { release = resolve; });
            window.releaseHeld = release;
            window.fetch = (url, options) => {
                const answer = fetchNow(url, options);
                const late = answer.then((r) => held.then(() => r));
                return String(url).endsWith('?held=1') ? late : answer;
            };
            window.heldAnswer = Gridhouse.api('GET', '/api/auth/me?held=1');
            Gridhouse.api('GET', '/api/auth/me');
        }"""
    )
    dialog = page.locator("#gh-session")
    dialog.locator("#gh-session-password").fill(PASSWORD)
    dialog.locator("#gh-session-submit").click()
    expect(dialog).to_have_count(0)
    answer = page.evaluate(
        """() => {
            window.releaseHeld();
            const waited = new Promise((resolve) => setTimeout(() => resolve(null), 10000));
            return Promise.race([window.heldAnswer, waited]);
        }"""
    )
    assert answer is not None, "the held request waited on a second dialog"
    assert answer["ok"] and answer["data"]["name"] == USERS[Role.OFFICER]
    expect(dialog).to_have_count(0)  # not asked a second time


def test_a_page_left_alone_for_the_idle_limit_logs_out_and_hides_what_it_holds(
    browser: Browser, server: Server
) -> None:
    """An unattended screen kept showing what it had open (a revealed ID number) until someone
    touched it; after the idle limit without a key or a click the page now ends its session
    and covers itself with the dialog, and the same user carries on where they were."""
    page = browser.page
    page.clock.install()
    browser.login(USERS[Role.OFFICER], then="/map")
    page.evaluate("(code) => Gridhouse.officer.openBuilding(code)", server.world.building_code)
    expect(page.locator("#gh-building-code")).to_be_visible()
    token = next(c["value"] for c in browser.context.cookies() if c["name"] == "gridhouse_session")
    page.clock.fast_forward("29:00")
    expect(page.locator("#gh-session")).to_have_count(0)  # not yet
    page.mouse.click(5, 300)  # someone is there: the idle time starts again
    page.clock.fast_forward("29:00")
    expect(page.locator("#gh-session")).to_have_count(0)
    page.clock.fast_forward("02:00")
    dialog = page.locator("#gh-session")
    expect(dialog).to_be_visible()
    # opaque: nothing behind it shows; and the session is over on the server too
    background = dialog.evaluate("(box) => getComputedStyle(box).backgroundColor")
    assert background == "rgb(222, 226, 230)", background
    me = urllib.request.Request(f"{browser.base_url}/api/auth/me",  # noqa: S310
                                headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as ended:
        urllib.request.urlopen(me)  # noqa: S310
    assert ended.value.code == 401
    dialog.locator("#gh-session-password").fill(PASSWORD)
    dialog.locator("#gh-session-submit").click()
    expect(dialog).to_have_count(0)
    expect(page.locator("#gh-building-code")).to_be_visible()  # where they were
