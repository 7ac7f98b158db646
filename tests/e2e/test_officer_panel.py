"""The officer's side panel keeps what was typed: marking a house let or switching the language
leaves open forms as they are (they were drawn again, empty), the panel and an open event are
wholly in the new language, and a refusal names its field in either language."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect

from gis.people.periods import today_in_china
from gis.users.models import Role
from tests.e2e.conftest import Browser, Server
from tests.e2e.world import RESIDENT, USERS
from tests.people_world import citizen_id

pytestmark = pytest.mark.e2e

CHINESE = re.compile(r"[\u4e00-\u9fff]")
LEFT_AS_KEYS = """() => {
    const out = [];
    document.querySelectorAll('#gh-panel [data-i18n]').forEach((el) => {
        if (el.textContent.trim() === el.getAttribute('data-i18n')) out.push(el.outerHTML);
    });
    const panel = document.getElementById('gh-panel');
    const walker = document.createTreeWalker(panel, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (/^[a-z]+(_[a-z]+)+$/.test(node.textContent.trim())) out.push(node.textContent);
    }
    return out;
}"""
"""Texts of the panel left as message keys (``no_photos``) instead of words."""


def open_building(page: Page, code: str) -> None:
    page.evaluate("(code) => Gridhouse.officer.openBuilding(code)", code)
    expect(page.locator("#gh-building-code")).to_be_visible()
    expect(page.locator("#gh-occupant-note")).to_be_empty()


def type_registration(house: Locator, name: str, seq: int) -> tuple[Locator, str, str]:
    """Open the house's registration form and type ``name`` with an ID number whose check
    character is wrong: the form, the right number and the one typed."""
    house.locator(".gh-register").click()
    register = house.locator("form.gh-register-form")
    right = citizen_id("350102", date(1996, 6, 6), seq)
    wrong = right[:17] + ("0" if right[17] != "0" else "1")
    register.locator("input[name=name]").fill(name)
    register.locator("input[name=id_number]").fill(wrong)
    return register, right, wrong


def english_words(page: Page, selector: str) -> str:
    """The words of ``selector`` with its inputs' placeholders (not the names of people)."""
    return str(
        page.evaluate(
            """(selector) => {
                const root = document.querySelector(selector).cloneNode(true);
                root.querySelectorAll('.gh-name').forEach((name) => name.remove());
                const holders = [...root.querySelectorAll('[placeholder]')];
                return root.textContent + ' ' + holders.map((e) => e.placeholder).join(' ');
            }""",
            selector,
        )
    )


def test_open_forms_survive_a_house_marked_let_and_the_language(
    browser: Browser, server: Server
) -> None:
    world = server.world
    page = browser.page
    browser.login(USERS[Role.OFFICER], then="/map")
    open_building(page, world.building_code)
    first = page.locator(f'#gh-houses > li.gh-house:not([data-code="{world.house_code}"])').first
    register, new_id, wrong = type_registration(first, "周未存", 61)
    resident = page.locator(f'#gh-houses > li[data-code="{world.house_code}"] .gh-occupant').filter(
        has_text=RESIDENT[0]
    )
    resident.locator(".gh-edit-person").click()
    change = resident.locator("form.gh-person-form")
    change.locator("input[name=occupation]").fill("厨师")
    page.click("#gh-report-event")
    page.locator("#gh-event-form input[name=title]").fill("楼道堆放杂物")

    other = page.locator(f'#gh-houses > li[data-code="{world.house_code}"]')
    let = other.locator(".gh-let")
    was = let.get_attribute("data-rented")
    let.click()
    expect(other.locator(".gh-let")).to_have_attribute(
        "data-rented", "false" if was == "true" else "true"
    )
    # the forms are still open, with what was typed (they were all gone)
    expect(register.locator("input[name=name]")).to_have_value("周未存")
    expect(register.locator("input[name=id_number]")).to_have_value(wrong)
    expect(change.locator("input[name=occupation]")).to_have_value("厨师")
    expect(page.locator("#gh-event-form input[name=title]")).to_have_value("楼道堆放杂物")

    page.click("#gh-lang")
    expect(page.locator("#gh-panel-title")).to_have_text("Building")
    expect(register.locator("input[name=name]")).to_have_value("周未存")
    expect(change.locator("input[name=occupation]")).to_have_value("厨师")
    expect(page.locator("#gh-event-form input[name=title]")).to_have_value("楼道堆放杂物")
    # and in English, every word of them and of the panel
    expect(register.locator("input[name=name]")).to_have_attribute("placeholder", "Name")
    expect(register.locator("button[type=submit]")).to_have_text("Save")
    expect(register.locator("select[name=kind] option").first).to_have_text("Tenant")
    expect(resident).to_contain_text("since ")
    words = english_words(page, "#gh-panel-body")
    for value in ("周未存", "厨师", "楼道堆放杂物"):  # typed
        words = words.replace(value, "")
    assert not CHINESE.search(words), words
    assert page.evaluate(LEFT_AS_KEYS) == []
    # the house marked let again, in English
    other.locator(".gh-let").click()
    expect(other.locator(".gh-let")).to_have_attribute("data-rented", str(was))
    expect(other.locator(".gh-let")).to_have_text("Mark not let" if was == "true" else "Mark let")

    # a refusal in English names the field by its label (it was `person.id_number: …`), and
    # is worded again in Chinese when the language changes
    register.locator("button[type=submit]").click()
    error = register.locator(".gh-form-error")
    expect(error).to_have_text(
        f"ID number: the check character does not match: expected '{new_id[17]}', "
        f"got '{wrong[17]}' (ISO 7064 MOD 11-2); the number is mistyped"
    )
    page.click("#gh-lang")
    expect(error).to_have_text(f"身份证号：校验码不符：应为{new_id[17]}，实为{wrong[17]}，号码有误")
    expect(register.locator("input[name=name]")).to_have_attribute("placeholder", "姓名")
    register.locator(".gh-cancel").click()
    change.locator(".gh-cancel").click()
    page.locator("#gh-event-form .gh-cancel").click()


def test_an_open_event_follows_the_language_and_keeps_its_note(
    browser: Browser, server: Server
) -> None:
    page = browser.page
    browser.login(USERS[Role.OFFICER], then="/map")
    open_building(page, server.world.building_code)
    page.click("#gh-report-event")
    form = page.locator("#gh-event-form")
    form.locator("input[name=title]").fill("Stairs blocked")
    form.locator("button[type=submit]").click()
    page.click("#gh-event-saved .gh-open-event")
    expect(page.locator("#gh-event-status")).to_have_attribute("data-status", "reported")
    page.fill("#gh-step-form textarea[name=note]", "不予受理：重复上报")

    page.click("#gh-lang")
    expect(page.locator("#gh-panel-title")).to_have_text("Event · Safety hazard")
    expect(page.locator("#gh-event-status")).to_have_text("Reported")
    expect(page.locator("#gh-event-steps > li").first).to_contain_text("Reported · ")
    expect(page.locator("#gh-event-photos")).to_have_text("No photos yet")
    expect(page.locator('.gh-step[data-status="accepted"]')).to_have_text("Accept")
    expect(page.locator("#gh-step-form textarea[name=note]")).to_have_value("不予受理：重复上报")
    words = english_words(page, "#gh-panel").replace("不予受理：重复上报", "")
    assert not CHINESE.search(words), words  # "现场照片", "暂无照片", the steps stayed Chinese
    assert page.evaluate(LEFT_AS_KEYS) == []

    page.click("#gh-lang")
    expect(page.locator("#gh-event-status")).to_have_text("已上报")
    expect(page.locator("#gh-event-photos")).to_have_text("暂无照片")
    page.click('#gh-step-form .gh-step[data-status="rejected"]')
    expect(page.locator("#gh-event-status")).to_have_attribute("data-status", "rejected")


def test_reporting_an_event_keeps_the_building_and_its_open_forms(
    browser: Browser, server: Server
) -> None:
    """Saving the event form leaves the building panel and its other open forms as they are
    (the panel was replaced by the event's, with no way back); the event opens from there, and
    "back" gives the building panel again, its forms still typed in, in the page's language."""
    world = server.world
    page = browser.page
    browser.login(USERS[Role.OFFICER], then="/map")
    open_building(page, world.building_code)
    first = page.locator(f'#gh-houses > li.gh-house:not([data-code="{world.house_code}"])').first
    register, _, wrong = type_registration(first, "周未存", 63)
    page.click("#gh-add-house")
    page.locator("#gh-house-form input[name=room]").fill("3002")
    page.click("#gh-report-event")
    page.locator("#gh-event-form input[name=title]").fill("消防通道堵塞")
    page.locator("#gh-event-form button[type=submit]").click()

    saved = page.locator("#gh-event-saved")
    expect(saved).to_contain_text("已上报事件 #")
    expect(saved).to_contain_text("消防通道堵塞")
    expect(page.locator("#gh-event-form")).to_have_count(0)
    expect(page.locator("#gh-panel-title")).to_have_text("楼栋")
    expect(page.locator("#gh-building-code")).to_be_visible()
    expect(register.locator("input[name=name]")).to_have_value("周未存")
    expect(register.locator("input[name=id_number]")).to_have_value(wrong)
    expect(page.locator("#gh-house-form input[name=room]")).to_have_value("3002")

    # the saved event opens in the panel, with a way back to the building as it was
    saved.locator(".gh-open-event").click()
    expect(page.locator("#gh-event-status")).to_have_attribute("data-status", "reported")
    expect(page.locator("#gh-panel-title")).to_contain_text("事件")
    page.click("#gh-lang")
    expect(page.locator("#gh-back-building")).to_have_text("← Back to the building")
    page.click("#gh-back-building")
    expect(page.locator("#gh-panel-title")).to_have_text("Building")
    expect(register.locator("input[name=name]")).to_have_value("周未存")
    expect(register.locator("input[name=id_number]")).to_have_value(wrong)
    expect(register.locator("button[type=submit]")).to_have_text("Save")
    expect(page.locator("#gh-house-form input[name=room]")).to_have_value("3002")
    expect(page.locator("#gh-event-saved")).to_contain_text("Event reported: #")
    expect(page.locator(f'#gh-houses > li[data-code="{world.house_code}"]')).to_contain_text(
        RESIDENT[0]
    )
    expect(page.locator("#gh-houses .gh-since").first).to_contain_text("since ")
    assert page.evaluate("() => Gridhouse.officer.state.building !== null")
    assert page.evaluate(LEFT_AS_KEYS) == []
    # no open event left on the building (other tests click the building's point)
    page.click("#gh-event-saved .gh-open-event")
    page.fill("#gh-step-form textarea[name=note]", "Reported twice")
    page.click('#gh-step-form .gh-step[data-status="rejected"]')
    expect(page.locator("#gh-event-status")).to_have_attribute("data-status", "rejected")


def test_a_refusal_names_its_field_in_english_too(browser: Browser, server: Server) -> None:
    world = server.world
    page = browser.page
    browser.login(USERS[Role.OFFICER], then="/map")
    page.click("#gh-lang")
    open_building(page, world.building_code)
    house = page.locator(f'#gh-houses > li[data-code="{world.house_code}"]')
    register, new_id, wrong = type_registration(house, "Test", 62)
    register.locator("button[type=submit]").click()
    # the label, as in Chinese (it was the API's path: `person.id_number: …`)
    expect(register.locator(".gh-form-error")).to_have_text(
        f"ID number: the check character does not match: expected '{new_id[17]}', "
        f"got '{wrong[17]}' (ISO 7064 MOD 11-2); the number is mistyped"
    )
    register.locator(".gh-cancel").click()


def test_an_officer_adds_a_house_to_a_building(browser: Browser, server: Server) -> None:
    world = server.world
    page = browser.page
    browser.login(USERS[Role.OFFICER], then="/map")
    open_building(page, world.building_code)
    houses = page.locator("#gh-houses > li.gh-house")
    before = houses.count()
    expect(page.locator("#gh-house-count")).to_have_text(str(before))
    # a registration being typed stays while the house is added
    first = houses.first
    first.locator(".gh-register").click()
    first.locator("form.gh-register-form input[name=name]").fill("周未存")

    def add(floor: str, room: str) -> None:
        page.click("#gh-add-house")
        form = page.locator("#gh-house-form")
        form.locator("input[name=floor]").fill(floor)
        form.locator("input[name=room]").fill(room)
        form.locator("select[name=use]").select_option("commercial")
        form.locator("input[name=is_rented]").check()
        form.locator("button[type=submit]").click()

    add("30", "3001")
    added = houses.nth(before)
    expect(added).to_contain_text("30层 · 3001")
    expect(added.locator(".badge")).to_have_text(["商业", "出租"])
    expect(added.locator("ul.gh-occupants")).to_have_text("无登记人员")
    expect(page.locator("#gh-house-count")).to_have_text(str(before + 1))
    expect(page.locator("#gh-house-form")).to_have_count(0)
    code = added.get_attribute("data-code")
    assert code is not None and code[:19] == world.building_code[:19]
    # the same floor and room again: refused, the reason in the form (in Chinese)
    add("30", "3001")
    grouped = f"{code[:12]}-{code[12]}-{code[13:19]}-{code[19:24]}-{code[24]}"
    expect(page.locator("#gh-house-form .gh-form-error")).to_have_text(
        f"房号：本楼30层的3001室已是房屋{grouped}"
    )
    expect(houses).to_have_count(before + 1)
    page.click("#gh-house-form .gh-cancel")
    expect(first.locator("form.gh-register-form input[name=name]")).to_have_value("周未存")
    # a resident can be registered in it at once
    added.locator(".gh-register").click()
    expect(added.locator("form.gh-register-form")).to_be_visible()


def register_by_api(page: Page, body: dict[str, object]) -> dict[str, object]:
    """A registration posted with the page's session (as another officer's page would)."""
    answer = page.evaluate("(body) => Gridhouse.api('POST', '/api/residences', body)", body)
    assert answer["ok"], answer
    return dict(answer["data"])


def test_an_officer_deregisters_a_departure_whose_end_has_passed(
    browser: Browser, server: Server
) -> None:
    """A residence whose planned end (``until``) passed without a deregistration is listed under
    its house (its person no longer lives there, so is no occupant) and deregistered on its
    known day; the page found no residence to deregister (it looked for open ones only)."""
    world = server.world
    page = browser.page
    browser.login(USERS[Role.OFFICER], then="/map")
    open_building(page, world.building_code)
    code = page.locator(
        f'#gh-houses > li.gh-house:not([data-code="{world.house_code}"])'
    ).first.get_attribute("data-code")
    person = {"name": "离开未销", "id_number": citizen_id("350102", date(1990, 3, 3), 64)}
    residence = register_by_api(page, {
        "house_code": code, "person": person, "moved_in": "2025-01-06", "until": "2025-03-01",
        "kind": "tenant", "declared_by": "officer",
    })  # fmt: skip
    # one who left two days ago: not late yet, but no occupant any more either
    recent = today_in_china() - timedelta(days=2)
    register_by_api(page, {
        "house_code": code, "moved_in": "2025-01-06", "until": recent.isoformat(),
        "person": {"name": "刚刚离开", "id_number": citizen_id("350102", date(1990, 3, 3), 65)},
        "kind": "tenant", "declared_by": "officer",
    })  # fmt: skip
    open_building(page, world.building_code)
    house = page.locator(f'#gh-houses > li[data-code="{code}"]')
    expect(house.locator(".gh-occupant", has_text="离开未销")).to_have_count(0)
    item = house.locator(".gh-overdue-departure", has_text="离开未销")
    expect(item).to_contain_text("逾期未注销")
    expect(item).to_contain_text("离开日期 2025-03-01")
    pending = house.locator(".gh-overdue-departure", has_text="刚刚离开")
    expect(pending).to_contain_text("待注销")
    expect(pending).not_to_contain_text("逾期")
    expect(pending).to_contain_text(f"离开日期 {recent}")
    page.click("#gh-lang")
    expect(item).to_contain_text("Left, not deregistered")
    expect(pending).to_contain_text("Left, to deregister")
    pending.locator(".gh-deregister-overdue").click()
    expect(pending).to_have_count(0)
    item.locator(".gh-deregister-overdue").click()
    expect(item).to_have_count(0)
    read = page.evaluate(
        "(uid) => Gridhouse.api('GET', '/api/people/' + uid).then((r) => r.data)",
        residence["person_uid"],
    )
    [ended] = read["residences"]
    assert ended["until"] == "2025-03-01" and ended["deregistered_at"] is not None, ended


def declaration_of(page: Page, person_uid: object) -> dict[str, object]:
    read = page.evaluate(
        "(uid) => Gridhouse.api('GET', '/api/people/' + uid).then((r) => r.data)", person_uid
    )
    [residence] = read["residences"]
    return dict(residence["declaration"])


def test_who_declared_an_arrival_and_a_landlord_s_declaration_made_later(
    browser: Browser, server: Server
) -> None:
    """The register form asks who declared the arrival (it always sent 'officer', so every
    tenant of a let house became an overdue declaration), and a tenant's declaration due or
    overdue is recorded from the panel (房东已申报), as the API could."""
    world = server.world
    page = browser.page
    browser.login(USERS[Role.OFFICER], then="/map")
    open_building(page, world.building_code)
    house = page.locator(f'#gh-houses > li.gh-house:not([data-code="{world.house_code}"])').nth(2)
    code = house.get_attribute("data-code")
    if house.locator(".gh-let").get_attribute("data-rented") != "true":
        house.locator(".gh-let").click()
        expect(house.locator(".gh-let")).to_have_attribute("data-rented", "true")

    def register(name: str, seq: int, declared_by: str) -> None:
        house.locator(".gh-register").click()
        form = house.locator("form.gh-register-form")
        form.locator("input[name=name]").fill(name)
        form.locator("input[name=id_number]").fill(citizen_id("350102", date(1992, 2, 2), seq))
        form.locator("select[name=declared_by]").select_option(declared_by)
        form.locator("button[type=submit]").click()
        expect(house.locator(".gh-occupant", has_text=name)).to_be_visible()

    # declared by the landlord on arrival: nothing is due
    expect(house.locator(".gh-register")).to_be_visible()
    house.locator(".gh-register").click()
    options = house.locator("form.gh-register-form select[name=declared_by] option")
    expect(options).to_have_text(["网格员登记", "房东申报", "本人申报", "用工单位申报"])
    house.locator("form.gh-register-form .gh-cancel").click()
    register("房东报", 65, "landlord")
    uid = page.evaluate(
        "(name) => Object.values(Gridhouse.officer.state.occupants).flat()"
        ".find((o) => o.name === name).uid",
        "房东报",
    )
    declared = declaration_of(page, uid)
    assert declared["declared_by"] == "landlord" and declared["declared_at"] is not None
    # registered by the officer: the landlord's declaration is due, and recorded from the panel
    register("待申报", 66, "officer")
    tenant = house.locator(".gh-occupant", has_text="待申报")
    uid = page.evaluate(
        "(name) => Object.values(Gridhouse.officer.state.occupants).flat()"
        ".find((o) => o.name === name).uid",
        "待申报",
    )
    assert declaration_of(page, uid)["declared_at"] is None
    expect(house.locator(".gh-occupant", has_text="房东报").locator(".gh-declared")).to_have_count(
        0
    )
    tenant.locator(".gh-declared").click()
    expect(page.locator("#gh-toast")).to_have_text("已记录房东申报")
    assert declaration_of(page, uid)["declared_at"] is not None
    expect(tenant.locator(".gh-declared")).to_have_count(0)  # nothing due any more

    # an overdue declaration (moved in long ago) is listed under its house, and recorded
    register_by_api(page, {
        "house_code": code, "moved_in": "2025-02-03", "kind": "tenant",
        "person": {"name": "逾期报", "id_number": citizen_id("350102", date(1992, 2, 2), 67)},
    })  # fmt: skip
    open_building(page, world.building_code)
    late = page.locator(f'#gh-houses > li[data-code="{code}"] .gh-overdue-declaration')
    late = late.filter(has_text="逾期报")
    expect(late).to_contain_text("逾期未申报")
    page.click("#gh-lang")
    expect(late.locator(".gh-declared-overdue")).to_have_text("Landlord declared")
    owing = house.locator(".gh-occupant", has_text="逾期报").locator(".gh-declared")
    expect(owing).to_have_count(1)
    late.locator(".gh-declared-overdue").click()
    expect(late).to_have_count(0)
    expect(owing).to_have_count(0)  # the occupant's offer goes with it


def test_landlord_declared_is_offered_only_on_a_residence_that_owes_it(
    browser: Browser, server: Server
) -> None:
    """房东已申报 was offered on every tenant of a let house: one the landlord declared on
    arrival, one who moved in before the house was let (no declaration is owed: the API said
    'no declaration is due' when clicked). The occupant rows now carry the declaration still
    owed for their residence, and only such a tenant is offered it."""
    world = server.world
    page = browser.page
    browser.login(USERS[Role.OFFICER], then="/map")
    open_building(page, world.building_code)
    house = page.locator(f'#gh-houses > li.gh-house:not([data-code="{world.house_code}"])').nth(4)
    code = house.get_attribute("data-code")

    def let(is_rented: bool) -> None:
        answer = page.evaluate(
            "([code, rented]) => Gridhouse.api('PATCH', '/api/houses/' + code, "
            "{is_rented: rented}).then((r) => r.ok)",
            [code, is_rented],
        )
        assert answer

    def arrive(name: str, seq: int, kind: str, declared_by: str) -> None:
        register_by_api(page, {
            "house_code": code, "moved_in": (today_in_china() - timedelta(days=1)).isoformat(),
            "person": {"name": name, "id_number": citizen_id("350102", date(1991, 1, 1), seq)},
            "kind": kind, "declared_by": declared_by,
        })  # fmt: skip

    let(False)
    arrive("先住后租", 71, "tenant", "officer")  # before the house was let: nothing owed
    let(True)
    arrive("房东当场报", 72, "tenant", "landlord")  # declared with the arrival
    arrive("待房东报", 73, "tenant", "officer")  # owed, within its 3 working days
    arrive("同住家属", 74, "family", "officer")  # not a tenant
    open_building(page, world.building_code)
    house = page.locator(f'#gh-houses > li[data-code="{code}"]')
    expect(house.locator(".gh-occupant")).to_have_count(4)
    offered = house.locator(".gh-occupant:has(.gh-declared) .gh-name")
    expect(offered).to_have_text(["待房东报"])
    owed = page.evaluate(
        "(code) => Object.fromEntries(Gridhouse.officer.state.occupants[code]"
        ".map((o) => [o.name, o.declaration_due_on]))",
        code,
    )
    assert owed["待房东报"] is not None
    assert [owed[n] for n in ("先住后租", "房东当场报", "同住家属")] == [None, None, None]
    house.locator(".gh-occupant", has_text="待房东报").locator(".gh-declared").click()
    expect(page.locator("#gh-toast")).to_have_text("已记录房东申报")
    expect(offered).to_have_count(0)
    open_building(page, world.building_code)  # read again: made, so no longer offered
    expect(page.locator(f'#gh-houses > li[data-code="{code}"] .gh-declared')).to_have_count(0)
