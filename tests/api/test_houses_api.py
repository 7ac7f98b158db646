"""Houses one at a time over HTTP: an officer adds a house found on a walk, marks one let,
retires one knocked into another; codes stay permanent and nothing is stored half way."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gis.codes import parse_code
from gis.houses.models import House
from gis.people.models import Declaration
from gis.people.periods import today_in_china
from gis.users.models import Role
from tests.access_world import World, bearer, login
from tests.people_world import citizen_id


def _units(db: Session, building_code: str) -> list[int]:
    return list(
        db.scalars(
            text(
                "SELECT h.unit FROM houses h JOIN buildings b ON b.uid = h.building_uid "
                "WHERE b.code = :code ORDER BY h.unit"
            ),
            {"code": building_code},
        )
    )


def test_an_added_house_takes_the_next_unit_and_a_room_names_one_house(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    building = world.buildings["own"]
    before = _units(db, building)
    added = client.post(
        f"/api/buildings/{building}/houses",
        json={"floor": 4, "room": "402A", "use": "residential", "area_m2": 18.5, "rooms": 1},
        headers=bearer(officer),
    )
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["unit"] == max(before) + 1 and body["status"] == "active"
    assert body["is_estimated"] is False and body["rooms"] == 1 and body["area_m2"] == 18.5
    parsed = parse_code(body["code"])  # a well-formed code with a correct check character
    assert parsed.code[:19] == building[:19] and parsed.unit == max(before) + 1
    # the same floor and room again: one house, not two
    again = client.post(
        f"/api/buildings/{building}/houses", json={"floor": 4, "room": "402A"},
        headers=bearer(officer),
    )  # fmt: skip
    assert again.status_code == 409
    assert again.json()["detail"][0]["loc"][-1] == "room"
    assert "floor 4 room 402A of this building is already house" in again.json()["detail"][0]["msg"]
    # bad members are named; nothing is added
    for payload, member in (
        ({"floor": 500}, "floor"),
        ({"area_m2": -3}, "area_m2"),
        ({"use": "palace"}, "use"),
        ({"room": "a\nb"}, "room"),
        ({"room": "\u202e12"}, "room"),  # a right-to-left override: shows as 21
        ({"colour": "red"}, "colour"),
    ):
        bad = client.post(
            f"/api/buildings/{building}/houses", json=payload, headers=bearer(officer)
        )
        assert bad.status_code == 422, (payload, bad.text)
        assert bad.json()["detail"][0]["loc"][-1] == member, bad.text
    nan = client.post(f"/api/buildings/{building}/houses", content='{"area_m2": NaN}',
                      headers=bearer(officer) | {"content-type": "application/json"})  # fmt: skip
    assert nan.status_code == 422 and nan.json()["detail"][0]["loc"][-1] == "area_m2"
    assert nan.json()["detail"][0]["msg"] == "Input should be a finite number"
    assert _units(db, building) == [*before, max(before) + 1]
    # a building outside the officer's grids is missing to them
    far = client.post(
        f"/api/buildings/{world.buildings['far']}/houses", json={}, headers=bearer(officer)
    )
    assert far.status_code == 404
    assert far.json()["detail"][0]["loc"] == ["code"]  # the path's name (it said building_code)
    actions = list(
        db.scalars(text("SELECT action FROM audit_log WHERE action LIKE 'houses.%' ORDER BY id"))
    )
    assert actions[0] == "houses.add" and actions.count("houses.add") >= 2  # refusals too


def test_a_house_marked_let_makes_a_tenant_due_for_declaration(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    code = world.objects["house_own_2"]["own"]
    assert not db.scalar(select(House.is_rented).where(House.code == code))
    empty = client.patch(f"/api/houses/{code}", json={}, headers=bearer(officer))
    assert empty.status_code == 422 and empty.json()["detail"][0]["loc"][-1] == "body"
    null_use = client.patch(f"/api/houses/{code}", json={"use": None}, headers=bearer(officer))
    assert null_use.status_code == 422 and null_use.json()["detail"][0]["loc"][-1] == "use"
    # another house's room: refused, and the area sent with it is not stored either
    first = db.scalar(select(House).where(House.code == world.objects["houses"]["own"]))
    assert first is not None
    clash = client.patch(
        f"/api/houses/{code}", json={"floor": first.floor, "room": first.room, "area_m2": 99},
        headers=bearer(officer),
    )  # fmt: skip
    assert clash.status_code == 409 and clash.json()["detail"][0]["loc"][-1] == "room"
    db.expire_all()
    assert db.scalar(select(House.area_m2).where(House.code == code)) != 99
    let = client.patch(
        f"/api/houses/{code}", json={"is_rented": True, "rooms": 3}, headers=bearer(officer)
    )
    assert let.status_code == 200, let.text
    assert let.json()["is_rented"] is True and let.json()["rooms"] == 3
    moved_in = today_in_china() - timedelta(days=1)
    arrival = client.post(
        "/api/residences",
        json={"house_code": code, "moved_in": moved_in.isoformat(), "kind": "tenant",
              "declared_by": "officer",
              "person": {"name": "租客", "id_number": citizen_id("110105", date(1993, 1, 9), 31)}},
        headers=bearer(officer),
    )  # fmt: skip
    assert arrival.status_code == 201, arrival.text
    due = db.scalar(
        select(Declaration.due_on).where(
            Declaration.residence_uid == arrival.json()["uid"], Declaration.declared_at.is_(None)
        )
    )
    assert due is not None and due > moved_in
    # police change nothing in grids
    police = login(client, world.users[Role.POLICE])
    client.cookies.clear()
    refused = client.patch(f"/api/houses/{code}", json={"is_rented": False}, headers=bearer(police))
    assert refused.status_code == 403


def test_a_retired_house_keeps_its_code_and_its_history(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    code = world.objects["houses"]["own"]  # one resident since 2024-01-01, an organization
    lived = client.post(f"/api/houses/{code}/retire", headers=bearer(officer))
    assert lived.status_code == 409 and lived.json()["detail"][0]["loc"][-1] == "code"
    assert "deregister or move the residents first" in lived.json()["detail"][0]["msg"]
    db.execute(text("UPDATE organizations SET house_uid = NULL WHERE house_uid = "
                    "(SELECT uid FROM houses WHERE code = :c)"), {"c": code})  # fmt: skip
    residence = world.objects["residences"]["own"]
    yesterday = today_in_china() - timedelta(days=1)
    gone = client.post(
        f"/api/residences/{residence}/deregister", json={"moved_out": yesterday.isoformat()},
        headers=bearer(officer),
    )  # fmt: skip
    assert gone.status_code == 200, gone.text
    retired = client.post(f"/api/houses/{code}/retire", headers=bearer(officer))
    assert retired.status_code == 200, retired.text
    assert retired.json()["status"] == "retired" and retired.json()["code"] == code
    # gone for changes and arrivals, there for the past
    twice = client.post(f"/api/houses/{code}/retire", headers=bearer(officer))
    assert twice.status_code == 409 and twice.json()["detail"][0]["loc"] == ["code"]
    assert f"was retired on {today_in_china()}" in twice.text
    changed = client.patch(f"/api/houses/{code}", json={"rooms": 2}, headers=bearer(officer))
    assert changed.status_code == 404
    back = client.post(
        "/api/residences",
        json={"house_code": code, "moved_in": yesterday.isoformat(), "kind": "tenant",
              "person_uid": world.objects["people"]["own"]},
        headers=bearer(officer),
    )  # fmt: skip
    assert back.status_code == 404
    past = client.get(
        f"/api/houses/{code}/occupants",
        params={"at": "2024-06-01", "purpose": "A4403052026050001"},
        headers=bearer(officer),
    )
    assert past.status_code == 200, past.text
    assert past.json()["buildings"][0]["houses"][0]["occupants"]
    # a unit is never issued again, even when the retired house was the building's last
    building = world.buildings["own"]
    last = client.post(f"/api/buildings/{building}/houses", json={}, headers=bearer(officer))
    assert last.status_code == 201, last.text
    assert client.post(f"/api/houses/{last.json()['code']}/retire",
                       headers=bearer(officer)).status_code == 200  # fmt: skip
    added = client.post(f"/api/buildings/{building}/houses", json={}, headers=bearer(officer))
    assert added.status_code == 201, added.text
    assert added.json()["unit"] == last.json()["unit"] + 1
