"""What a registration or a change of a person's details may hold: a hukou division that
exists, one-line hukou addresses; every refusal a 422 naming the field, nothing stored."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gis.people.models import Person
from gis.settings import Settings
from gis.users.models import Role
from tests.access_world import GRID_OWN, World, bearer, client_for, login, register
from tests.people_world import citizen_id


def _person(name: str, seq: int, **extra: Any) -> dict[str, Any]:
    return {"name": name, "id_number": citizen_id("110105", date(1992, 6, 3), seq), **extra}


def test_a_township_or_village_code_must_be_a_loaded_division(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    """Only the first six digits were checked: ``440305999999`` (a real county, Shenzhen's
    Nanshan, and a township that does not exist) was stored and a category derived from it.
    Below a county only a loaded division is known, whether the county's townships are loaded
    (990101 here) or not (440305, 110105); a county alone, 6 digits or 12, still is."""
    house = world.objects["house_own_2"]["own"]
    made_up = ("440305999999", "440305005999", "110105123456", "990101999999", "990101001999")
    for seq, code in enumerate(made_up, start=1):
        refused = register(client, officer, house_code=house, moved_in="2025-02-01",
                            person=_person("假户籍", seq, hukou_division_code=code))  # fmt: skip
        assert refused.status_code == 422, (code, refused.text)
        [error] = refused.json()["detail"]
        assert error["loc"] == ["person.hukou_division_code"], error
        assert error["msg"].startswith(f"{code} is not a known division"), error
    assert db.scalar(select(func.count()).where(Person.name == "假户籍")) == 0
    assert "no township or village 440305999999 is loaded here (the county alone: 440305)" in (
        register(client, officer, house_code=house, moved_in="2025-02-01",
                  person=_person("假户籍", 9, hukou_division_code="440305999999")).text
    )  # fmt: skip
    known = ("990101001001", "990101001000", "440305", "440305000000", "990101")
    for seq, code in enumerate(known, start=11):
        registered = register(client, officer, house_code=house, moved_in="2025-02-01",
                               person=_person("真户籍", seq, hukou_division_code=code))  # fmt: skip
        assert registered.status_code == 201, (code, registered.text)
    # a change of hukou (信息变更) keeps the same rule: refused, nothing changed
    person = registered.json()["person_uid"]
    for code in made_up:
        refused = client.patch(f"/api/people/{person}", json={"hukou_division_code": code},
                               headers=bearer(officer))  # fmt: skip
        assert refused.status_code == 422, (code, refused.text)
        assert refused.json()["detail"][0]["loc"] == ["hukou_division_code"]
    stored = db.scalar(text("SELECT hukou_division_code FROM people WHERE uid = :p"), {"p": person})
    assert stored == "990101000000"
    # a loaded county that is not in python-stdnum's table, as 6 digits (it was refused: the
    # 6 digits were looked up among the 12-digit codes of the divisions)
    for code in ("990102", "990102001001"):
        changed = client.patch(f"/api/people/{person}", json={"hukou_division_code": code},
                               headers=bearer(officer))  # fmt: skip
        assert changed.status_code == 200, (code, changed.text)
        assert changed.json()["hukou_division_code"] == code.ljust(12, "0")


def test_a_hukou_address_is_one_line_and_blank_is_none(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    """A hukou address was stored as sent: white space only (registration made that none), a
    bell, a right-to-left override (it reads differently from what it holds). It is now one line
    like an occupation: trimmed, none when blank, a 422 naming it for a control character or a
    direction override, and nothing of the request stored."""
    house = world.objects["house_own_2"]["own"]
    bad = ("\u0007bell", "a\u202eb", "深圳\u202e市南山区\u0007", "第一行\n第二行", "\u2066x\u2069")
    for seq, address in enumerate(bad, start=21):
        refused = register(client, officer, house_code=house, moved_in="2025-02-01",
                            person=_person("地址", seq, hukou_address=address))  # fmt: skip
        assert refused.status_code == 422, (address, refused.text)
        [error] = refused.json()["detail"]
        assert error["loc"] == ["body", "person", "hukou_address"], error
        assert "control characters" in error["msg"], error
    assert db.scalar(select(func.count()).where(Person.name == "地址")) == 0
    given = _person("地址", 31, hukou_address=" 广东省深圳市南山区 ")
    registered = register(client, officer, house_code=house, moved_in="2025-02-01", person=given)
    assert registered.status_code == 201, registered.text
    person = registered.json()["person_uid"]

    def stored() -> tuple[str | None, str | None]:
        row = db.execute(text("SELECT hukou_address, occupation FROM people WHERE uid = :p"),
                         {"p": person}).one()  # fmt: skip
        return row[0], row[1]

    assert stored() == ("广东省深圳市南山区", None)
    for address in bad:
        refused = client.patch(f"/api/people/{person}",
                               json={"occupation": "厨师", "hukou_address": address},
                               headers=bearer(officer))  # fmt: skip
        assert refused.status_code == 422, (address, refused.text)
        assert refused.json()["detail"][0]["loc"] == ["body", "hukou_address"]
    assert stored() == ("广东省深圳市南山区", None)  # the occupation was not changed either
    blank = client.patch(f"/api/people/{person}", json={"hukou_address": "   "},
                         headers=bearer(officer))  # fmt: skip
    assert blank.status_code == 200, blank.text
    assert blank.json()["hukou_address"] is None and stored() == (None, None)
    moved = client.patch(f"/api/people/{person}", json={"hukou_address": " 湖南省长沙市 "},
                         headers=bearer(officer))  # fmt: skip
    assert moved.json()["hukou_address"] == "湖南省长沙市"


NOT_ISO = (1767225600, "1767225600", 1767225600.0, "20260105", "2026-1-5", "2026/01/05",
           "2026-01-05T00:00:00", "２０２６-01-05", " 2026-01-05", True)  # fmt: skip
"""Dates pydantic read (a Unix time: 2026-01-01) or refused with a misleading message."""


def _date_requests(world: World) -> list[tuple[str, str, str, Any]]:
    """(method, path, field, a request with that field set to the value given) for every date
    of a request of the people, occupants, organizations, permits and grids APIs."""
    objects = world.objects
    house, person = objects["house_own_2"]["own"], objects["people"]["own"]
    residence, credit_code = objects["residences"]["own"], objects["organizations"]["own"]
    employment, permit = objects["employments"]["own"], objects["permits"]["own"]
    registration = {"house_code": house, "kind": "tenant", "person": _person("日期", 41),
                    "moved_in": "2025-02-01"}  # fmt: skip
    return [
        ("POST", "/api/residences", "moved_in", lambda v: {**registration, "moved_in": v}),
        ("POST", "/api/residences", "until", lambda v: {**registration, "until": v}),
        ("POST", "/api/residences", "birth_date",
         lambda v: {**registration, "person": {**_person("日期", 42), "category": "overseas",
                                               "id_number": "E12345678", "sex": "F",
                                               "birth_date": v}}),
        ("POST", f"/api/residences/{residence}/deregister", "moved_out",
         lambda v: {"moved_out": v}),
        ("POST", f"/api/people/{person}/move", "moved_on",
         lambda v: {"house_code": house, "kind": "tenant", "moved_on": v}),
        ("POST", f"/api/organizations/{credit_code}/employees", "since",
         lambda v: {"person_uid": person, "since": v}),
        ("POST", f"/api/organizations/{credit_code}/employees", "until",
         lambda v: {"person_uid": person, "since": "2025-01-01", "until": v}),
        ("POST", f"/api/organizations/{credit_code}/employees/{employment}/end", "until",
         lambda v: {"until": v}),
        ("POST", "/api/occupants/search", "at", lambda v: {"grid": GRID_OWN, "at": v}),
        ("POST", "/api/permits", "issued_on", lambda v: {"person_uid": person, "issued_on": v}),
        ("POST", f"/api/permits/{permit}/endorse", "endorsed_on", lambda v: {"endorsed_on": v}),
        ("POST", f"/api/permits/{permit}/revoke", "revoked_on",
         lambda v: {"reason": "离开本市", "revoked_on": v}),
        ("GET", f"/api/houses/{house}/occupants", "at", lambda v: {"at": v}),
        ("GET", f"/api/organizations/{credit_code}", "at", lambda v: {"at": v}),
        ("GET", "/api/quality", "at", lambda v: {"grid": GRID_OWN, "at": v}),
        ("GET", f"/api/grids/{GRID_OWN}", "at", lambda v: {"at": v}),
    ]  # fmt: skip


def test_dates_are_written_yyyy_mm_dd_and_nothing_else(
    settings: Settings, world: World, db: Session
) -> None:
    """``moved_in: 1767225600`` (or ``"1767225600"``, ``1767225600.0``) was registered as
    2026-01-01, and ``"20260105"`` refused as "Datetimes provided to dates should have zero
    time": every date of a request, in a body or a query, is now ``YYYY-MM-DD`` and anything
    else a 422 naming the field and saying how a date is written; nothing is stored."""
    with client_for(settings, db, rate_limit_burst=1000) as client:  # ~200 requests
        officer = login(client, world.users[Role.OFFICER])
        client.cookies.clear()
        _refuse_every_other_date(client, world, officer, db)


def _refuse_every_other_date(client: TestClient, world: World, officer: str, db: Session) -> None:
    before = db.execute(text("SELECT (SELECT count(*) FROM residences), "
                             "(SELECT count(*) FROM employments), "
                             "(SELECT count(*) FROM people)")).one()  # fmt: skip
    for method, path, field, request in _date_requests(world):
        for value in NOT_ISO:
            given = request(value)
            if method == "GET":
                response = client.get(path, params=given, headers=bearer(officer))
                loc = ["query", field]
            else:
                response = client.post(path, json=given, headers=bearer(officer))
                loc = ["body", *(["person"] if field == "birth_date" else []), field]
            assert response.status_code == 422, (path, field, value, response.text)
            errors = response.json()["detail"]
            assert {"loc": loc, "msg": "a date is written YYYY-MM-DD (e.g. 2026-01-05)",
                    "type": "date_format"} in errors, (path, field, value, errors)  # fmt: skip
        impossible = request("2026-02-30")
        if method == "GET":
            response = client.get(path, params=impossible, headers=bearer(officer))
        else:
            response = client.post(path, json=impossible, headers=bearer(officer))
        assert response.status_code == 422, (path, field, response.text)
        assert "2026-02-30 is not a date of the calendar" in response.text, response.text
    after = db.execute(text("SELECT (SELECT count(*) FROM residences), "
                            "(SELECT count(*) FROM employments), "
                            "(SELECT count(*) FROM people)")).one()  # fmt: skip
    assert tuple(after) == tuple(before)
    # the form pages send (an <input type="date">) is read as before
    registered = register(client, officer, house_code=world.objects["house_own_2"]["own"],
                           person=_person("日期", 43), moved_in="2025-02-01")  # fmt: skip
    assert registered.status_code == 201, registered.text
    assert registered.json()["since"] == "2025-02-01"
