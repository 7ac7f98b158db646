"""What a registration or a change of a person's details may hold: a hukou division that
exists, one-line hukou addresses; every refusal a 422 naming the field, nothing stored."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gis.people.models import Person
from gis.users.models import Role
from tests.access_world import World, bearer, login
from tests.people_world import citizen_id


def _person(name: str, seq: int, **extra: Any) -> dict[str, Any]:
    return {"name": name, "id_number": citizen_id("110105", date(1992, 6, 3), seq), **extra}


def _register(client: TestClient, token: str, **body: Any) -> Any:
    body.setdefault("kind", "tenant")
    body.setdefault("declared_by", "officer")
    return client.post("/api/residences", json=body, headers=bearer(token))


@pytest.fixture
def officer(client: TestClient, world: World) -> str:
    token = login(client, world.users[Role.OFFICER])
    client.cookies.clear()
    return token


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
        refused = _register(client, officer, house_code=house, moved_in="2025-02-01",
                            person=_person("假户籍", seq, hukou_division_code=code))  # fmt: skip
        assert refused.status_code == 422, (code, refused.text)
        [error] = refused.json()["detail"]
        assert error["loc"] == ["person.hukou_division_code"], error
        assert error["msg"].startswith(f"{code} is not a known division"), error
    assert db.scalar(select(func.count()).where(Person.name == "假户籍")) == 0
    assert "no township or village 440305999999 is loaded here (the county alone: 440305)" in (
        _register(client, officer, house_code=house, moved_in="2025-02-01",
                  person=_person("假户籍", 9, hukou_division_code="440305999999")).text
    )  # fmt: skip
    known = ("990101001001", "990101001000", "440305", "440305000000", "990101")
    for seq, code in enumerate(known, start=11):
        registered = _register(client, officer, house_code=house, moved_in="2025-02-01",
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
        refused = _register(client, officer, house_code=house, moved_in="2025-02-01",
                            person=_person("地址", seq, hukou_address=address))  # fmt: skip
        assert refused.status_code == 422, (address, refused.text)
        [error] = refused.json()["detail"]
        assert error["loc"] == ["body", "person", "hukou_address"], error
        assert "control characters" in error["msg"], error
    assert db.scalar(select(func.count()).where(Person.name == "地址")) == 0
    given = _person("地址", 31, hukou_address=" 广东省深圳市南山区 ")
    registered = _register(client, officer, house_code=house, moved_in="2025-02-01", person=given)
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
