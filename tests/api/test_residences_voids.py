"""Voiding a residence registered in error, the earlier one reopened only when the void says so."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from gis.people.models import Declaration, Person, Residence
from gis.people.periods import today_in_china
from gis.users.models import Role
from tests.access_world import World, bearer, login, register
from tests.api.residence_requests import (
    deregister_request,
    move_request,
    occupant_names_on,
    person_body,
)


def test_a_registration_made_in_error_is_voided_as_if_never_made(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    house = world.objects["houses"]["own"]  # let: a tenant's arrival is declared
    stored = db.scalar(text("SELECT count(*) FROM residences"))

    def residents() -> int:  # the grid's count, kept per building by triggers
        response = client.get("/api/dashboard", headers=bearer(officer))
        assert response.status_code == 200, response.text
        return int(response.json()["totals"]["resident_count"])

    before = residents()
    registered = register(client, officer, house_code=house, person=person_body("错", 61),
                           moved_in="2025-02-03")  # fmt: skip
    assert registered.status_code == 201, registered.text
    uid = registered.json()["uid"]
    assert registered.json()["declaration"] is not None
    assert "错" in occupant_names_on(client, officer, house, date(2025, 3, 1))
    assert residents() == before + 1
    blank = client.post(f"/api/residences/{uid}/void", json={"reason": "  "},
                        headers=bearer(officer))  # fmt: skip
    assert blank.status_code == 422 and blank.json()["detail"][0]["loc"] == ["body", "reason"]
    voided = client.post(f"/api/residences/{uid}/void", json={"reason": "登记错了房屋"},
                         headers=bearer(officer))  # fmt: skip
    assert voided.status_code == 200, voided.text
    body = voided.json()
    assert (body["uid"], body["house_code"], body["since"]) == (uid, house, "2025-02-03")
    assert (body["void_reason"], body["voided_by"]) == ("登记错了房屋", world.users[Role.OFFICER])
    # gone from every read of residences, its declaration with it; kept apart with the reason
    assert "错" not in occupant_names_on(client, officer, house, date(2025, 3, 1))
    assert db.scalar(text("SELECT count(*) FROM residences")) == stored
    assert residents() == before
    assert db.scalar(select(Declaration).where(Declaration.residence_uid == uid)) is None
    kept = db.execute(text("SELECT void_reason, lower(period) FROM voided_residences "
                           "WHERE uid = :u"), {"u": uid}).one()  # fmt: skip
    assert tuple(kept) == ("登记错了房屋", date(2025, 2, 3))
    # with no residence left in the officer's grids the person is out of their scope
    person = client.get(f"/api/people/{body['person_uid']}", headers=bearer(officer))
    assert person.status_code == 404
    # what would have acted on it says it was voided, when, by whom and why
    for path, payload in (
        (f"/api/residences/{uid}/void", {"reason": "again"}),
        (f"/api/residences/{uid}/deregister", {"moved_out": "2025-03-01"}),
        (f"/api/residences/{uid}/declaration", None),
    ):
        again = client.post(path, json=payload, headers=bearer(officer))
        assert again.status_code == 409, again.text
        assert f"residence {uid} was voided on {today_in_china()} by " in again.text
        assert "登记错了房屋" in again.text
    audit = db.execute(
        text(
            "SELECT role, row_count FROM audit_log "
            "WHERE action = 'residences.void' AND outcome = 'ok'"
        )
    ).all()
    assert [tuple(row) for row in audit] == [("officer", 1)]


def test_a_move_made_in_error_is_voided_and_the_earlier_residence_open_again(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    first, second = world.objects["houses"]["own"], world.objects["house_own_2"]["own"]
    lived = register(client, officer, house_code=first, person=person_body("迁", 63),
                      moved_in="2024-02-01", kind="family")  # fmt: skip
    assert lived.status_code == 201, lived.text
    earlier, person = lived.json()["uid"], lived.json()["person_uid"]
    moved = move_request(client, officer, person, house_code=second, moved_on="2025-04-01")
    assert moved.status_code == 200, moved.text
    mistaken = moved.json()["started"]["uid"]
    assert "迁" not in occupant_names_on(client, officer, first, today_in_china())
    # a residence that is not the move's: nothing ended on the day it began
    other = register(client, officer, house_code=second, person=person_body("独", 64),
                      moved_in="2025-04-01")  # fmt: skip
    assert other.status_code == 201, other.text
    nothing = client.post(f"/api/residences/{other.json()['uid']}/void",
                          json={"reason": "登记错了人", "reopen_previous": True},
                          headers=bearer(officer))  # fmt: skip
    assert nothing.status_code == 409 and nothing.json()["detail"][0]["loc"] == ["reopen_previous"]
    assert "no primary residence of the person ended on 2025-04-01" in nothing.text
    assert db.get(Residence, other.json()["uid"]) is not None  # refused: nothing voided
    voided = client.post(f"/api/residences/{mistaken}/void",
                         json={"reason": "并未搬迁", "reopen_previous": True},
                         headers=bearer(officer))  # fmt: skip
    assert voided.status_code == 200, voided.text
    reopened = voided.json()["reopened"]
    assert (reopened["uid"], reopened["house_code"], reopened["since"]) == (
        earlier,
        first,
        "2024-02-01",
    )
    assert reopened["until"] is None and reopened["deregistered_at"] is None
    # as if the person had never moved: in the first house on every date since 2024-02-01
    for day in (date(2025, 3, 31), date(2025, 4, 1), today_in_china()):
        assert "迁" in occupant_names_on(client, officer, first, day)
        assert "迁" not in occupant_names_on(client, officer, second, day)
    audit = db.execute(text("SELECT row_count, target_codes FROM audit_log WHERE "
                            "action = 'residences.void' AND outcome = 'ok'")).one()  # fmt: skip
    assert audit.row_count == 2 and set(audit.target_codes) >= {mistaken, earlier, first, second}


def test_the_earlier_residence_is_reopened_only_when_the_void_says_what_happened(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    first, second = world.objects["houses"]["own"], world.objects["house_own_2"]["own"]
    elsewhere = world.objects["houses"]["other"]  # a house of another officer's grid
    admin = login(client, world.users[Role.ADMIN])
    client.cookies.clear()
    # the new residence has ended too: where the person went after it is not known
    lived = register(client, officer, house_code=first, person=person_body("去", 65),
                      moved_in="2024-02-01")  # fmt: skip
    person = lived.json()["person_uid"]
    moved = move_request(client, officer, person, house_code=second, moved_on="2025-04-01")
    started = moved.json()["started"]["uid"]
    left = deregister_request(client, officer, started, "2025-06-01")
    assert left.status_code == 200, left.text
    ended = client.post(f"/api/residences/{started}/void",
                        json={"reason": "并未搬迁", "reopen_previous": True},
                        headers=bearer(officer))  # fmt: skip
    assert ended.status_code == 409 and "this residence ends on 2025-06-01" in ended.text
    # the earlier residence lies in another officer's grid: an administrator reopens it
    away = register(client, admin, house_code=elsewhere, person=person_body("远", 66),
                     moved_in="2024-02-01")  # fmt: skip
    assert away.status_code == 201, away.text
    arrival = register(client, officer, house_code=second, person=person_body("远", 66),
                        moved_in="2025-04-01", ends_previous=True)  # fmt: skip
    assert arrival.status_code == 201, arrival.text
    outside = client.post(f"/api/residences/{arrival.json()['uid']}/void",
                          json={"reason": "并未搬迁", "reopen_previous": True},
                          headers=bearer(officer))  # fmt: skip
    assert outside.status_code == 409
    assert "the residence that ended on 2025-04-01 is outside your grids" in outside.text
    assert db.get(Residence, arrival.json()["uid"]) is not None
    by_admin = client.post(f"/api/residences/{arrival.json()['uid']}/void",
                           json={"reason": "并未搬迁", "reopen_previous": True},
                           headers=bearer(admin))  # fmt: skip
    assert by_admin.status_code == 200, by_admin.text
    assert by_admin.json()["reopened"]["uid"] == away.json()["uid"]
    assert by_admin.json()["reopened"]["until"] is None
    # a plain void leaves the earlier residence ended, and says nothing of it
    plain = client.post(f"/api/residences/{started}/void", json={"reason": "并未搬迁"},
                        headers=bearer(officer))  # fmt: skip
    assert plain.status_code == 200 and plain.json()["reopened"] is None
    db.expire_all()
    lived_row = db.get(Residence, lived.json()["uid"])
    assert lived_row is not None and lived_row.period.upper == date(2025, 4, 1)


def test_a_departure_deregistered_on_its_own_is_never_reopened_by_a_void(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    first, second = world.objects["houses"]["own"], world.objects["house_own_2"]["own"]
    lived = register(client, officer, house_code=first, person=person_body("离", 67),
                      moved_in="2024-02-01", kind="family")  # fmt: skip
    assert lived.status_code == 201, lived.text
    earlier, person = lived.json()["uid"], lived.json()["person_uid"]
    # the person left (a recorded departure), and later someone registered them elsewhere
    # from that very day, by mistake
    left = deregister_request(client, officer, earlier, "2025-04-01")
    assert left.status_code == 200, left.text
    mistaken = register(client, officer, house_code=second, person_uid=person,
                         moved_in="2025-04-01")  # fmt: skip
    assert mistaken.status_code == 201, mistaken.text
    refused = client.post(f"/api/residences/{mistaken.json()['uid']}/void",
                          json={"reason": "登记错了人", "reopen_previous": True},
                          headers=bearer(officer))  # fmt: skip
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"][0]["loc"] == ["reopen_previous"]
    assert "ended on 2025-04-01 was deregistered as a departure" in refused.text
    db.expire_all()
    assert db.get(Residence, mistaken.json()["uid"]) is not None  # refused: nothing voided
    departure = db.get(Residence, earlier)
    assert departure is not None
    assert departure.period.upper == date(2025, 4, 1) and departure.ended_by_uid is None
    # a move names the residence it ended, and the person's record shows it
    moved = move_request(client, officer, person, house_code=first, moved_on="2025-06-01")
    assert moved.status_code == 200, moved.text
    shown = client.get(f"/api/people/{person}", headers=bearer(officer)).json()["residences"]
    ended_by = {residence["uid"]: residence["ended_by"] for residence in shown}
    assert ended_by[mistaken.json()["uid"]] == moved.json()["started"]["uid"]
    assert ended_by[earlier] is None
    plain = client.post(f"/api/residences/{mistaken.json()['uid']}/void",
                        json={"reason": "登记错了人"}, headers=bearer(officer))  # fmt: skip
    assert plain.status_code == 200 and plain.json()["reopened"] is None


def test_officers_void_within_thirty_days_of_recording_admins_any_time(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    house = world.objects["house_own_2"]["own"]
    registered = register(client, officer, house_code=house, person=person_body("旧", 62),
                           moved_in="2024-05-06", kind="family")  # fmt: skip
    assert registered.status_code == 201, registered.text
    uid = registered.json()["uid"]
    recorded = today_in_china() - timedelta(days=31)
    db.execute(text("UPDATE residences SET created_at = :at WHERE uid = :u"),
               {"at": f"{recorded}T12:00:00+08:00", "u": uid})  # fmt: skip
    late = client.post(f"/api/residences/{uid}/void", json={"reason": "重复登记"},
                       headers=bearer(officer))  # fmt: skip
    assert late.status_code == 409 and late.json()["detail"][0]["loc"] == ["uid"]
    assert f"recorded on {recorded}, more than 30 days ago" in late.text
    assert db.get(Residence, uid) is not None
    admin = login(client, world.users[Role.ADMIN])
    client.cookies.clear()
    voided = client.post(f"/api/residences/{uid}/void", json={"reason": "重复登记"},
                         headers=bearer(admin))  # fmt: skip
    assert voided.status_code == 200, voided.text
    db.expire_all()
    assert db.get(Residence, uid) is None


def test_the_app_role_keeps_voided_residences_as_they_were(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    registered = register(client, officer, house_code=world.objects["house_own_2"]["own"],
                           person=person_body("留", 63), moved_in="2025-01-02")  # fmt: skip
    uid = registered.json()["uid"]
    assert client.post(f"/api/residences/{uid}/void", json={"reason": "登记错了人"},
                       headers=bearer(officer)).status_code == 200  # fmt: skip
    db.execute(text("SET LOCAL ROLE gridhouse_app"))
    for statement in ("UPDATE voided_residences SET void_reason = 'x' WHERE uid = :u",
                      "DELETE FROM voided_residences WHERE uid = :u"):  # fmt: skip
        with pytest.raises(ProgrammingError, match="permission denied"), db.begin_nested():
            db.execute(text(statement), {"u": uid})
    db.execute(text("RESET ROLE"))


def test_a_void_waits_for_a_permit_issued_at_the_house_to_be_revoked(
    client: TestClient, world: World, officer: str
) -> None:
    house = world.objects["house_own_2"]["own"]
    registered = register(client, officer, house_code=house, person=person_body("证", 64),
                           moved_in="2025-01-02", kind="family")  # fmt: skip
    uid, person = registered.json()["uid"], registered.json()["person_uid"]
    permit = client.post("/api/permits", json={"person_uid": person}, headers=bearer(officer))
    assert permit.status_code == 201, permit.text
    number = permit.json()["number"]
    refused = client.post(f"/api/residences/{uid}/void", json={"reason": "入住日期登记错了"},
                          headers=bearer(officer))  # fmt: skip
    assert refused.status_code == 409, refused.text
    assert f"residence permit {number}, issued at this house, is valid" in refused.text
    revoked = client.post(f"/api/permits/{number}/revoke", json={"reason": "登记有误"},
                          headers=bearer(officer))  # fmt: skip
    assert revoked.status_code == 200, revoked.text
    voided = client.post(f"/api/residences/{uid}/void", json={"reason": "入住日期登记错了"},
                         headers=bearer(officer))  # fmt: skip
    assert voided.status_code == 200, voided.text


def test_a_person_registered_under_the_wrong_name_is_registered_again_under_the_right_one(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    house = world.objects["house_own_2"]["own"]
    wrong = register(client, officer, house_code=house, person=person_body("张山", 65),
                      moved_in="2025-06-01", kind="family")  # fmt: skip
    uid, person = wrong.json()["uid"], wrong.json()["person_uid"]
    assert client.post(f"/api/residences/{uid}/void", json={"reason": "姓名登记错了"},
                       headers=bearer(officer)).status_code == 200  # fmt: skip
    right = register(client, officer, house_code=house, person=person_body("张珊", 65),
                      moved_in="2025-06-01", kind="family")  # fmt: skip
    assert right.status_code == 201, right.text
    assert right.json()["person_uid"] == person  # one ID number, one person: renamed
    db.expire_all()
    renamed = db.get(Person, person)
    assert renamed is not None and renamed.name == "张珊"
    # once a residence names the person, another name is refused as before
    other = register(client, officer, house_code=world.objects["houses"]["own"],
                      person=person_body("张三", 65), moved_in="2026-01-01")  # fmt: skip
    assert other.status_code == 409 and "registered under another name" in other.text
