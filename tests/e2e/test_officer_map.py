"""An officer on the map: grids and buildings drawn, a building opened, occupants masked, a new
resident registered; the same page on a phone; the language toggle."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Dialog, FilePayload, Playwright, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import text

from gis.access.masking import mask_id_number, mask_phone
from gis.clock import CHINA, today_in_china
from gis.db import make_engine
from gis.events.photos import MAX_PHOTO_BYTES
from gis.users.models import Role
from maps.error_text import translate
from maps.style import BUILDING_FILL, GRID_CLASS_COLOURS
from tests.e2e.conftest import Browser, Server, count_colour, hex_rgb, open_browser, pixel_spread
from tests.e2e.world import RESIDENT, USERS
from tests.maps.test_error_text import real_messages
from tests.people_world import citizen_id

pytestmark = pytest.mark.e2e

NEW_RESIDENT = ("林新来", citizen_id("350102", __import__("datetime").date(1998, 8, 8), 51))
MISTAKEN = ("错登记", citizen_id("350102", __import__("datetime").date(1999, 9, 9), 52))
MOVED = ("误迁移", citizen_id("350102", __import__("datetime").date(1997, 7, 7), 53))


def click_building(browser: Browser, lon: float, lat: float, *, zoom: int = 18) -> None:
    """Centre the map on the point, wait for its tiles, click it where it is drawn."""
    page = browser.page
    page.evaluate(
        "([lat, lon, z]) => Gridhouse.officerMap.setView([lat, lon], z)", [lat, lon, zoom]
    )
    page.wait_for_timeout(300)
    page.wait_for_selector("body[data-tiles=loaded]")
    x, y = page.evaluate(
        """([lat, lon]) => {
            const map = Gridhouse.officerMap;
            const p = map.latLngToContainerPoint([lat, lon]);
            const box = map.getContainer().getBoundingClientRect();
            return [p.x + box.left, p.y + box.top];
        }""",
        [lat, lon],
    )
    page.mouse.click(x, y)


def test_officer_sees_the_map_opens_a_building_and_registers_a_resident(
    browser: Browser, server: Server, e2e_database: str
) -> None:
    world = server.world
    page = browser.page
    browser.login(USERS[Role.OFFICER], then="/map")
    page.wait_for_selector("body[data-tiles=loaded]")
    page.wait_for_timeout(500)  # the SVG of the last tiles
    shot = browser.screenshot("1-map")
    assert pixel_spread(shot) > 12, "the map screenshot is blank"
    assert count_colour(shot, hex_rgb(BUILDING_FILL), tolerance=14) > 1_000, "no buildings drawn"
    assert count_colour(shot, hex_rgb(GRID_CLASS_COLOURS["key"])) > 200, "no key-class grid drawn"
    assert page.locator(".leaflet-tile-container svg path").count() > 50

    lon, lat = world.building_point
    click_building(browser, lon, lat)
    code = world.building_code
    grouped = f"{code[:12]}-{code[12]}-{code[13:19]}-{code[19:24]}-{code[24]}"
    expect(page.locator("#gh-building-code")).to_have_text(grouped)
    assert page.locator("#gh-houses > li").count() > 0
    house = page.locator(f'#gh-houses > li[data-code="{world.house_code}"]')
    name, id_number, phone = RESIDENT
    occupant = house.locator(".gh-occupant", has_text=name)
    expect(occupant).to_be_visible()
    expect(occupant.locator(".gh-id")).to_have_text(mask_id_number(id_number) or "")
    expect(occupant.locator(".gh-phone")).to_have_text(mask_phone(phone) or "")
    content = page.content()
    assert id_number not in content and phone not in content
    browser.screenshot("2-building")

    # marking the house let, and back (nothing on the page could set it)
    let = house.locator(".gh-let")
    was = let.get_attribute("data-rented")
    let.click()
    expect(house.locator(".gh-let")).to_have_attribute(
        "data-rented", "false" if was == "true" else "true"
    )
    expect(house.locator(".badge.text-bg-warning")).to_have_count(0 if was == "true" else 1)
    house.locator(".gh-let").click()
    expect(house.locator(".gh-let")).to_have_attribute("data-rented", str(was))

    house.locator(".gh-register").click()
    form = house.locator("form.gh-register-form")
    new_name, new_id = NEW_RESIDENT
    form.locator("input[name=name]").fill(new_name)
    # the server's reason, in the page's language (it answers in English)
    wrong = new_id[:17] + ("0" if new_id[17] != "0" else "1")
    form.locator("input[name=id_number]").fill(wrong)
    form.locator("button[type=submit]").click()
    expect(form.locator(".gh-form-error")).to_have_text(
        f"身份证号：校验码不符：应为{new_id[17]}，实为{wrong[17]}，号码有误"
    )
    form.locator("input[name=id_number]").fill(new_id)
    form.locator("select[name=kind]").select_option("tenant")
    today = today_in_china()
    form.locator("input[name=moved_in]").fill((today - timedelta(days=10)).isoformat())
    form.locator("button[type=submit]").click()
    listed = house.locator(".gh-occupant", has_text=new_name)
    expect(listed).to_be_visible()
    expect(listed.locator(".gh-id")).to_have_text(mask_id_number(new_id) or "")
    assert new_id not in page.content()
    browser.screenshot("3-registered")
    # a building's occupants come a page at a time (1,000): every page is shown (the first
    # alone was, and the houses of the others said nobody lived there)
    shown = page.locator("#gh-houses .gh-occupant").count()
    assert shown >= 2
    page.evaluate("(code) => { Gridhouse.officer.state.pageSize = 1; "
                  "Gridhouse.officer.openBuilding(code); }", code)  # fmt: skip
    expect(page.locator("#gh-occupant-note")).to_be_empty()
    expect(page.locator("#gh-houses .gh-occupant")).to_have_count(shown)
    page.evaluate("() => { Gridhouse.officer.state.pageSize = 1000; }")

    # a new phone (信息变更): a wrong one refused in Chinese, the right one shown masked
    listed.locator(".gh-edit-person").click()
    change = listed.locator("form.gh-person-form")
    change.locator("input[name=phone]").fill("12345")
    change.locator("button[type=submit]").click()
    expect(change.locator(".gh-form-error")).to_have_text(
        "电话：电话应为13-19开头的11位手机号，或0+区号+号码的固定电话"
    )
    change.locator("input[name=phone]").fill("139 1234 5678")
    change.locator("button[type=submit]").click()
    expect(house.locator(".gh-occupant", has_text=new_name).locator(".gh-phone")).to_have_text(
        "139****5678"
    )

    # a departure reported late is dated when it happened (it was always today)
    listed.locator(".gh-deregister").click()
    departure = listed.locator("form.gh-deregister-form")
    left = today - timedelta(days=3)
    departure.locator("input[name=moved_out]").fill(left.isoformat())
    departure.locator("button[type=submit]").click()
    expect(house.locator(".gh-occupant", has_text=new_name)).to_have_count(0)
    engine = make_engine(e2e_database, pool_size=1)
    with engine.connect() as connection:
        ended = connection.execute(
            text(
                "SELECT upper(r.period) FROM residences r JOIN people p ON p.uid = r.person_uid "
                "WHERE p.name = :name"
            ),
            {"name": new_name},
        ).scalar_one()
        assert ended == left

        # a registration made in error is voided, for a reason, as if never made
        house.locator(".gh-register").click()
        form = house.locator("form.gh-register-form")
        form.locator("input[name=name]").fill(MISTAKEN[0])
        form.locator("input[name=id_number]").fill(MISTAKEN[1])
        form.locator("button[type=submit]").click()
        mistaken = house.locator(".gh-occupant", has_text=MISTAKEN[0])
        expect(mistaken).to_be_visible()
        page.once("dialog", lambda dialog: dialog.accept("登记错了房屋"))
        mistaken.locator(".gh-void").click()
        expect(house.locator(".gh-occupant", has_text=MISTAKEN[0])).to_have_count(0)
        kept = connection.execute(
            text(
                "SELECT v.void_reason FROM voided_residences v JOIN people p "
                "ON p.uid = v.person_uid WHERE p.name = :name"
            ),
            {"name": MISTAKEN[0]},
        ).scalar_one()
        assert kept == "登记错了房屋"
        assert connection.execute(
            text("SELECT count(*) FROM residences r JOIN people p ON p.uid = r.person_uid "
                 "WHERE p.name = :name"), {"name": MISTAKEN[0]}
        ).scalar_one() == 0  # fmt: skip

        # a move made in error: voided, the person is back where they lived, as if never moved
        other = page.locator(f'#gh-houses > li:not([data-code="{world.house_code}"])').first
        for target, moved_in, ends_previous in ((house, 20, False), (other, 5, True)):
            target.locator(".gh-register").click()
            form = target.locator("form.gh-register-form")
            form.locator("input[name=name]").fill(MOVED[0])
            form.locator("input[name=id_number]").fill(MOVED[1])
            form.locator("input[name=moved_in]").fill(
                (today - timedelta(days=moved_in)).isoformat()
            )
            if ends_previous:
                form.locator("input[name=ends_previous]").check()
            form.locator("button[type=submit]").click()
            expect(target.locator(".gh-occupant", has_text=MOVED[0])).to_be_visible()
        expect(house.locator(".gh-occupant", has_text=MOVED[0])).to_have_count(0)
        asked: list[str] = []

        def answer(dialog: Dialog) -> None:
            asked.append(dialog.message)
            dialog.accept("并未搬迁" if dialog.type == "prompt" else None)

        page.on("dialog", answer)
        other.locator(".gh-occupant", has_text=MOVED[0]).locator(".gh-void").click()
        expect(house.locator(".gh-occupant", has_text=MOVED[0])).to_be_visible()
        expect(other.locator(".gh-occupant", has_text=MOVED[0])).to_have_count(0)
        page.remove_listener("dialog", answer)
        assert len(asked) == 2 and world.house_code in asked[1], asked
        periods = connection.execute(
            text("SELECT upper(r.period) FROM residences r JOIN people p ON p.uid = r.person_uid "
                 "WHERE p.name = :name"), {"name": MOVED[0]}
        ).scalars().all()  # fmt: skip
        assert periods == [None]
    engine.dispose()

    # the page's copy of the Chinese messages gives what maps/error_text.py gives
    messages = real_messages()
    in_page = page.evaluate("(ms) => ms.map((m) => Gridhouse.translateError(m))", messages)
    assert in_page == [translate(message) for message in messages]

    layers = page.locator(".leaflet-control-layers")
    expect(layers).to_contain_text("网格与楼栋")
    page.click("#gh-lang")
    expect(page.locator(".gh-nav.active")).to_have_text("Map")
    expect(page.locator("#gh-logout")).to_have_text("Log out")
    # the layer switcher and the title follow without a reload (they stayed Chinese)
    expect(layers).to_contain_text("Grids and buildings")
    expect(layers).not_to_contain_text("网格与楼栋")
    expect(page).to_have_title("Map")


def test_the_map_works_on_a_phone(playwright: Playwright, server: Server, tmp_path: Path) -> None:
    phone = open_browser(playwright, server, tmp_path / "phone", "phone", width=390, height=844)
    try:
        phone.login(USERS[Role.OFFICER], then="/map")
        page = phone.page
        page.wait_for_selector("body[data-tiles=loaded]")
        lon, lat = server.world.building_point
        click_building(phone, lon, lat)
        panel = page.locator("#gh-panel")
        expect(panel).to_be_visible()
        box = panel.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        expect(page.locator("#gh-building-code")).to_be_visible()
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        phone.screenshot("1-panel")
        assert phone.outside == [] and phone.errors == []
    finally:
        phone.context.close()


def test_a_visitor_without_a_session_is_sent_to_the_login_page(
    browser: Browser, server: Server
) -> None:
    browser.page.goto(f"{server.url}/map")
    expect(browser.page).to_have_url(re.compile(r"/login\?next=/map$"))
    expect(browser.page.locator("#gh-login")).to_be_visible()


def test_officer_finds_a_person_and_a_house_and_shows_the_heat_map(
    browser: Browser, server: Server
) -> None:
    world = server.world
    page = browser.page
    browser.login(USERS[Role.OFFICER], then="/map")
    name = RESIDENT[0]
    page.fill("#gh-search-input", name)
    page.click("#gh-search button[type=submit]")
    result = page.locator("#gh-search-results button", has_text=name)
    expect(result).to_be_visible()
    assert RESIDENT[1] not in page.content()
    result.click()
    code = world.building_code
    expect(page.locator("#gh-building-code")).to_have_text(
        f"{code[:12]}-{code[12]}-{code[13:19]}-{code[19:24]}-{code[24]}"
    )
    expect(
        page.locator(f'#gh-houses > li.gh-focus[data-code="{world.house_code}"]')
    ).to_be_visible()

    page.click("#gh-panel-close")
    page.fill("#gh-search-input", world.house_code)
    page.click("#gh-search button[type=submit]")
    expect(
        page.locator(f'#gh-houses > li.gh-focus[data-code="{world.house_code}"]')
    ).to_be_visible()

    # a house code with a wrong check character opens nothing (it opened the building)
    page.click("#gh-panel-close")
    code = world.house_code
    wrong = code[:24] + ("0" if code[24] != "0" else "1")
    page.fill("#gh-search-input", wrong)
    page.click("#gh-search button[type=submit]")
    expect(page.locator("#gh-toast")).to_have_text(f"编码的校验位不对（应为 {code[24]}）")
    expect(page.locator("#gh-panel")).to_be_hidden()

    page.evaluate("() => Gridhouse.officerMap.setZoom(16)")
    with page.expect_response(lambda r: "/tiles/floating/" in r.url and r.status == 200):
        page.hover(".leaflet-control-layers")
        page.get_by_text("流动人口热力（H3）").click()
    page.wait_for_timeout(800)
    assert page.locator(".leaflet-tile-container svg path").count() > 50
    browser.screenshot("1-heat")


def png_bytes(width: int, height: int, *, noise: int = 0) -> bytes:
    """A generated PNG: a colour gradient, with ``noise`` (± grey levels) so that it stays large
    as a PNG while a JPEG of it is small, like a photo."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 / width, y * 255 / height, (x + y) * 255 / (width + height)], -1)
    if noise:
        base = base + rng.integers(-noise, noise + 1, base.shape)
    out = io.BytesIO()
    Image.fromarray(np.clip(base, 0, 255).astype("uint8")).save(out, "PNG")
    return out.getvalue()


def test_officer_reports_an_event_from_the_map_with_a_photo_and_closes_it(
    browser: Browser, server: Server
) -> None:
    page = browser.page
    browser.login(USERS[Role.OFFICER], then="/map")
    page.fill("#gh-search-input", server.world.building_code)
    page.click("#gh-search button[type=submit]")
    expect(page.locator("#gh-building-code")).to_be_visible()
    expect(page.locator("#gh-panel-title")).to_have_text("楼栋")
    page.click("#gh-report-event")
    form = page.locator("#gh-event-form")
    form.locator("select[name=kind]").select_option("rented_fire_risk")
    form.locator("input[name=title]").fill("楼道堆放杂物")
    small = png_bytes(64, 48)
    form.locator("input[name=photo]").set_input_files(
        files=[FilePayload(name="hazard.png", mimeType="image/png", buffer=small)]
    )
    form.locator("button[type=submit]").click()
    # the building panel stays (its other forms with it); the saved event opens from it
    expect(page.locator("#gh-event-saved")).to_contain_text("楼道堆放杂物")
    expect(page.locator("#gh-photo-status")).to_have_text("")  # the photo was sent
    expect(page.locator("#gh-panel-title")).to_have_text("楼栋")
    page.click("#gh-event-saved .gh-open-event")
    status = page.locator("#gh-event-status")
    expect(status).to_have_attribute("data-status", "reported")
    expect(page.locator("#gh-panel-title")).to_have_text("事件 · 出租屋消防隐患")
    # times are shown in China's time, whatever the API's offset
    event = page.evaluate("() => Gridhouse.officer.state.event")
    # its dot on the map opens it (a click on a dot threw in Leaflet and opened nothing)
    page.click("#gh-panel-close")
    page.evaluate("() => Gridhouse.officer.state.data.redraw()")
    opened = "(id) => (Gridhouse.officer.state.event || {}).id === id"
    for _ in range(
        5
    ):  # until the redrawn tile shows the new dot (a click before hits its building)
        click_building(browser, event["lon"], event["lat"], zoom=19)
        try:
            page.wait_for_function(opened, arg=event["id"], timeout=3_000)
            break
        except PlaywrightTimeout:
            page.click("#gh-panel-close")
    else:
        raise AssertionError("a click on the event's dot never opened the event")
    expect(page.locator("#gh-panel-title")).to_have_text("事件 · 出租屋消防隐患")
    reported = datetime.fromisoformat(event["steps"][0]["at"]).astimezone(CHINA)
    expect(page.locator("#gh-event-steps > li").first).to_contain_text(
        reported.strftime("%Y-%m-%d %H:%M")
    )
    photos = page.locator("#gh-event-photos a.gh-photo")
    expect(photos).to_have_count(1)
    expect(photos.first).to_have_attribute("data-type", "image/png")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#gh-event-photos img')]"
        ".every(i => i.complete && i.naturalWidth === 64)"
    )
    # not an image, whatever its name says: the server's reason is shown (in Chinese), nothing
    # is added
    page.set_input_files("#gh-photo-input", files=[
        FilePayload(name="notes.png", mimeType="image/png", buffer=b"meeting notes, not a photo")
    ])  # fmt: skip
    expect(page.locator("#gh-photo-error")).to_have_text(
        "照片：不是JPEG、PNG或WebP图片（文件开头的字节不符）"
    )
    expect(photos).to_have_count(1)
    # a photo over the size limit is made smaller in the browser (a JPEG) before it is sent
    large = png_bytes(1600, 1200, noise=12)
    assert len(large) > MAX_PHOTO_BYTES
    page.set_input_files("#gh-photo-input", files=[
        FilePayload(name="large.png", mimeType="image/png", buffer=large)
    ])  # fmt: skip
    expect(photos).to_have_count(2)
    expect(photos.nth(1)).to_have_attribute("data-type", "image/jpeg")
    expect(page.locator("#gh-photo-error")).to_have_text("")
    browser.screenshot("4-event-photos")
    for step, note in (("accepted", ""), ("dispatched", ""), ("handled", "已清理杂物"),
                       ("checked", "现场核查通过"), ("closed", "结案")):  # fmt: skip
        if step == "checked":  # an event never checked is not offered closing
            expect(page.locator('.gh-step[data-status="closed"]')).to_have_count(0)
        if note:
            page.fill("#gh-step-form textarea[name=note]", note)
        page.click(f'#gh-step-form .gh-step[data-status="{step}"]')
        expect(status).to_have_attribute("data-status", step)
    expect(page.locator("#gh-event-steps > li")).to_have_count(6)
    expect(page.locator("#gh-step-form")).to_have_count(0)
    expect(page.locator("#gh-photo-input")).to_have_count(0)  # a closed event takes no photos
    expect(photos).to_have_count(2)
    page.click("#gh-lang")
    expect(page.locator("#gh-panel-title")).to_have_text("Event · Fire risk in a rented house")
    browser.screenshot("5-event-closed")
    assert browser.outside == [] and browser.errors == []


def test_events_at_the_same_spot_are_each_reached(browser: Browser, server: Server) -> None:
    """Two events reported at one building have the same point: one dot, whose click opened the
    one drawn last only. The click lists both, and each opens from the list."""
    page = browser.page
    browser.login(USERS[Role.OFFICER], then="/map")
    reported = [
        page.evaluate(
            "(body) => Gridhouse.api('POST', '/api/events', body).then((r) => r.data)",
            {"kind": "dispute", "title": title, "building_code": server.world.building_code},
        )
        for title in ("同一处甲", "同一处乙")
    ]
    first, second = reported
    assert (first["lon"], first["lat"]) == (second["lon"], second["lat"])
    page.evaluate("() => Gridhouse.officer.state.data.redraw()")
    listed = page.locator("#gh-event-list")
    for _ in range(5):  # until the redrawn tile shows the dot (a click before hits its building)
        click_building(browser, first["lon"], first["lat"], zoom=19)
        try:
            expect(listed).to_be_visible(timeout=3_000)
            break
        except AssertionError:
            page.click("#gh-panel-close")
    else:
        raise AssertionError("a click on the events' dot never listed them")
    expect(page.locator("#gh-panel-title")).to_have_text("此处的事件")
    for event in reported:
        expect(listed.locator(f'li[data-event="{event["id"]}"]')).to_contain_text(event["title"])
    listed.locator(f'.gh-open-event[data-event="{first["id"]}"]').click()
    expect(page.locator("#gh-event-status")).to_have_attribute("data-status", "reported")
    assert page.evaluate("() => Gridhouse.officer.state.event.id") == first["id"]
    # neither is left open on the building (other tests click its point)
    for event in reported:
        answer = page.evaluate(
            "(id) => Gridhouse.api('POST', '/api/events/' + id + '/steps',"
            " {status: 'rejected', note: 'e2e'}).then((r) => r.ok)",
            event["id"],
        )
        assert answer
