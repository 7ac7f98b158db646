"""The person a registration names: stored sealed, checked, declared, and changed afterwards."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gis.people.models import Declaration, Person
from gis.people.periods import today_in_china
from tests.access_world import World, bearer, register
from tests.api.residence_requests import deregister_request, person_body


def test_a_new_person_is_stored_encrypted_with_category_derived(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    house = world.objects["house_own_2"]["own"]
    local = person_body("丁", 41, phone="13912345678", hukou_division_code="990101001001")
    response = register(client, officer, house_code=house, person=local, moved_in="2025-01-01",
                         kind="owner", declared_by="self")  # fmt: skip
    assert response.status_code == 201, response.text
    person = db.scalars(select(Person).where(Person.uid == response.json()["person_uid"])).one()
    assert (
        person.category == "hukou" and person.sex == "M" and person.birth_date == date(1991, 4, 2)
    )
    assert person.id_number_masked == local["id_number"][:6] + "********" + local["id_number"][-4:]
    assert person.phone_masked == "139****5678"
    assert local["id_number"].encode() not in bytes(person.id_number_enc or b"")
    # the same ID number under another name is refused; under the same name it is the same person
    clash = register(client, officer, house_code=house, person={**local, "name": "别人"},
                      moved_in="2025-02-01", is_primary=False)  # fmt: skip
    assert clash.status_code == 409 and "another name" in clash.text
    assert "person.id_number" in clash.text
    assert "丁" not in clash.text  # that the number is known, never under which name
    blank = register(client, officer, house_code=house, person={**local, "name": "  "},
                      moved_in="2025-02-01", is_primary=False)  # fmt: skip
    assert blank.status_code == 422 and blank.json()["detail"][0]["loc"][-1] == "name"
    for unknown in ("000000", "999999999999"):  # was stored, and a category derived from it
        refused = register(client, officer, house_code=house, moved_in="2025-02-01",
                            person=person_body("庚", 42, hukou_division_code=unknown))  # fmt: skip
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"] == ["person.hukou_division_code"]
        assert "not a known division" in refused.text
    known = register(client, officer, house_code=house, moved_in="2025-02-01", is_primary=False,
                      person=person_body("庚", 42, hukou_division_code="310101"))  # fmt: skip
    assert known.status_code == 201, known.text  # a county of China, not loaded here
    elsewhere = world.objects["houses"]["own"]  # the same stay twice is refused (own test)
    same = register(client, officer, house_code=elsewhere, person=local, moved_in="2025-02-01",
                     is_primary=False)  # fmt: skip
    assert same.status_code == 201 and same.json()["person_uid"] == str(person.uid)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("id_number", "110105194912310021", "check character does not match"),
        ("id_number", "110105194913310021", "no month 13"),
        ("phone", "12345", "mobile number"),
    ],
)
def test_bad_people_are_422_naming_the_field(
    client: TestClient, world: World, officer: str, field: str, value: str, reason: str
) -> None:
    person = {**person_body("戊", 51), field: value}
    response = register(client, officer, house_code=world.objects["house_own_2"]["own"],
                         person=person, moved_in="2025-01-01")  # fmt: skip
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == [f"person.{field}"] and reason in detail["msg"]


def test_tenants_of_let_houses_are_declared_within_three_working_days(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    let_house = world.objects["houses"]["own"]
    by_officer = register(client, officer, house_code=let_house, person=person_body("己", 61),
                           moved_in="2025-11-14")  # a Friday  # fmt: skip
    declaration = by_officer.json()["declaration"]
    assert declaration["due_on"] == "2025-11-19" and declaration["declared_at"] is None
    assert declaration["is_late"] is True  # long past due and not declared
    uid = by_officer.json()["uid"]
    made = client.post(f"/api/residences/{uid}/declaration", headers=bearer(officer))
    assert made.status_code == 200 and made.json()["declared_by"] == "landlord"
    twice = client.post(f"/api/residences/{uid}/declaration", headers=bearer(officer))
    assert twice.status_code == 409
    by_landlord = register(
        client,
        officer,
        house_code=let_house,
        person=person_body("庚", 71),
        moved_in=today_in_china().isoformat(),
        declared_by="landlord",
    )
    assert by_landlord.json()["declaration"]["declared_at"] is not None
    assert by_landlord.json()["declaration"]["is_late"] is False
    family = register(
        client, officer, house_code=world.objects["house_own_2"]["own"],
        person=person_body("辛", 81), moved_in="2025-01-01", kind="family",
    )  # fmt: skip
    assert family.json()["declaration"] is None  # not a tenant of a let house
    assert db.scalar(select(Declaration.due_on).where(Declaration.residence_uid == uid)) == date(
        2025, 11, 19
    )


def test_a_registration_of_someone_on_record_keeps_the_phone_it_gives(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    """The officer's form sends name, ID number and phone: for a person already on record the
    phone was dropped without a word. It is stored (as a 信息变更 would, audited by name);
    a hukou that differs from the record is refused, naming it, nothing stored."""
    first = register(client, officer, house_code=world.objects["house_own_2"]["own"],
                     person=person_body("回来", 68, phone="13800000068"), moved_in="2025-01-05",
                     kind="tenant")  # fmt: skip
    assert first.status_code == 201, first.text
    uid, person = first.json()["uid"], first.json()["person_uid"]
    assert deregister_request(client, officer, uid, "2025-06-01").status_code == 200
    back = register(client, officer, house_code=world.objects["houses"]["own"],
                    person=person_body("回来", 68, phone="13900000069", occupation="厨师"),
                    moved_in="2026-01-02", kind="tenant")  # fmt: skip
    assert back.status_code == 201, back.text
    assert back.json()["person_uid"] == person
    revealed = client.post(f"/api/people/{person}/reveal", json={"reason": "核对新的联系电话号码"},
                           headers=bearer(officer))  # fmt: skip
    assert revealed.json()["phone"] == "13900000069"
    assert db.scalar(text("SELECT occupation FROM people WHERE uid = :p"), {"p": person}) == "厨师"
    assert db.scalar(text("SELECT updated_at > created_at FROM people WHERE uid = :p"),
                     {"p": person})  # fmt: skip
    targets = db.scalar(text("SELECT target_codes FROM audit_log WHERE action = "
                             "'residences.register' ORDER BY id DESC LIMIT 1"))  # fmt: skip
    assert targets[-2:] == ["field:phone", "field:occupation"], targets
    refused = register(client, officer, house_code=world.objects["house_own_2"]["own"],
                       person=person_body("回来", 68, hukou_division_code="110105"),
                       moved_in="2026-03-01", kind="family")  # fmt: skip
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"][0]["loc"][-1] == "person.hukou_division_code", refused.text
    assert "leave it out, and change it after the registration with PATCH" in refused.text
    assert db.scalar(text("SELECT count(*) FROM residences WHERE person_uid = :p"),
                     {"p": person}) == 2  # fmt: skip


def test_what_may_change_about_a_person_is_changed_the_rest_refused(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    house = world.objects["house_own_2"]["own"]
    registered = register(client, officer, house_code=house,
                           person=person_body("变更", 66, phone="13800000066"),
                           moved_in="2025-02-02", kind="family")  # fmt: skip
    person = registered.json()["person_uid"]

    def patch(body: dict[str, Any]) -> Any:
        return client.patch(f"/api/people/{person}", json=body, headers=bearer(officer))

    changed = patch({"phone": "+86 139-0000-0067", "occupation": " 厨师 ", "is_key_person": True})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["phone"], body["occupation"], body["is_key_person"]) == (
        "139****0067",
        "厨师",
        True,
    )
    revealed = client.post(f"/api/people/{person}/reveal", json={"reason": "核对新的联系电话号码"},
                           headers=bearer(officer))  # fmt: skip
    assert revealed.json()["phone"] == "13900000067"  # sealed again, not only masked
    cleared = patch({"phone": None, "occupation": None})
    assert cleared.status_code == 200
    assert (cleared.json()["phone"], cleared.json()["occupation"]) == (None, None)
    assert db.scalar(text("SELECT phone_enc IS NULL AND phone_hash IS NULL FROM people "
                          "WHERE uid = :p"), {"p": person})  # fmt: skip
    # refused, naming the field, nothing stored
    for payload, field, reason in (
        ({"phone": "12345"}, "phone", "mobile number"),
        ({"hukou_division_code": "999999"}, "hukou_division_code", "999999"),
        ({"category": "overseas"}, "category", "different registrations"),
        ({"is_key_person": None}, "is_key_person", "may not be cleared"),
        ({"name": "别人"}, "name", "Extra inputs"),
        ({}, "body", "give at least one"),
    ):
        refused = patch(payload)
        assert refused.status_code == 422, (payload, refused.text)
        assert refused.json()["detail"][0]["loc"][-1] == field, refused.text
        assert reason in refused.text, refused.text
    assert db.scalar(text("SELECT is_key_person FROM people WHERE uid = :p"), {"p": person})
    audit = db.scalar(text("SELECT count(*) FROM audit_log WHERE action = 'people.update' "
                           "AND outcome = 'ok'"))  # fmt: skip
    assert audit == 2


def test_a_new_hukou_gives_the_category_again_and_officers_change_only_their_residents(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    house = world.objects["house_own_2"]["own"]
    registered = register(client, officer, house_code=house, person=person_body("户籍", 67),
                           moved_in="2025-03-03", kind="family")  # fmt: skip
    person = registered.json()["person_uid"]
    assert db.scalar(text("SELECT category FROM people WHERE uid = :p"), {"p": person}) == (
        "floating"  # a Beijing ID number, living in county 990101
    )
    moved_here = client.patch(f"/api/people/{person}", json={"hukou_division_code": "990101001001"},
                              headers=bearer(officer))  # fmt: skip
    assert moved_here.status_code == 200, moved_here.text
    assert moved_here.json()["category"] == "hukou"  # the hukou is in the house's township
    back = client.patch(f"/api/people/{person}", json={"hukou_division_code": "110101"},
                        headers=bearer(officer))  # fmt: skip
    assert back.json()["category"] == "floating"
    audit = db.scalars(text("SELECT target_codes FROM audit_log WHERE action = 'people.update' "
                            "AND outcome = 'ok' ORDER BY id")).all()  # fmt: skip
    assert [list(codes) for codes in audit][-1] == [person, "field:hukou_division_code"]
    # someone who left the officer's grids long ago is no longer theirs to change
    gone = register(client, officer, house_code=house, person=person_body("旧住户", 68),
                     moved_in="2023-01-01", until="2024-01-01", kind="family")  # fmt: skip
    assert gone.status_code == 201, gone.text
    gone_uid = gone.json()["person_uid"]
    refused = client.patch(f"/api/people/{gone_uid}", json={"phone": "13900000068"},
                           headers=bearer(officer))  # fmt: skip
    assert refused.status_code == 404, refused.text
