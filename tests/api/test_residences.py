"""Registering arrivals, deregistering departures, moves and declarations; who lived in a house
on a past date is exactly who had a period covering it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from gis.people.models import Declaration, Person, Residence
from gis.people.periods import today_in_china
from gis.users.models import Role
from tests.access_world import World, bearer, login, register
from tests.people_world import RESIDENTS, citizen_id

PURPOSE = "A4403052026050001"


def _person(name: str, seq: int, **extra: Any) -> dict[str, Any]:
    return {"name": name, "id_number": citizen_id("110105", date(1991, 4, 2), seq), **extra}


def _deregister(client: TestClient, token: str, uid: str, moved_out: str) -> Any:
    path = f"/api/residences/{uid}/deregister"
    return client.post(path, json={"moved_out": moved_out}, headers=bearer(token))


def _occupants(client: TestClient, token: str, house: str, at: date) -> set[str]:
    response = client.get(
        f"/api/houses/{house}/occupants", params={"at": at.isoformat()}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    return {
        occupant["name"]
        for building in response.json()["buildings"]
        for house_ in building["houses"]
        for occupant in house_["occupants"]
    }


def test_occupants_on_past_dates_are_those_whose_periods_covered_them(
    client: TestClient, world: World, officer: str
) -> None:
    first, second = world.objects["houses"]["own"], world.objects["house_own_2"]["own"]
    a = register(
        client, officer, house_code=second, person=_person("甲", 11), moved_in="2024-03-01"
    )
    assert a.status_code == 201, a.text
    b = register(client, officer, house_code=first, person=_person("乙", 21), moved_in="2024-06-01")
    assert b.status_code == 201, b.text
    gone = _deregister(client, officer, b.json()["uid"], "2025-01-15")
    assert gone.status_code == 200 and gone.json()["until"] == "2025-01-15"
    moved = client.post(
        f"/api/people/{a.json()['person_uid']}/move",
        json={"house_code": first, "moved_on": "2025-02-10", "kind": "tenant"},
        headers=bearer(officer),
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["ended"]["until"] == "2025-02-10"
    assert moved.json()["started"]["since"] == "2025-02-10"
    own = RESIDENTS["own"][0]  # in the first house since 2024-01-01
    periods: dict[str, list[tuple[str, date, date | None]]] = {  # name → house → [from, to)
        own: [(first, date(2024, 1, 1), None)],
        "甲": [(second, date(2024, 3, 1), date(2025, 2, 10)), (first, date(2025, 2, 10), None)],
        "乙": [(first, date(2024, 6, 1), date(2025, 1, 15))],
    }
    days = [date(2023, 12, 31), date(2024, 2, 1), date(2024, 3, 1), date(2024, 7, 1),
            date(2025, 1, 14), date(2025, 1, 15), date(2025, 2, 9), date(2025, 2, 10),
            today_in_china()]  # fmt: skip
    for house in (first, second):
        for day in days:
            expected = {
                name for name, spans in periods.items() for code, start, end in spans
                if code == house and start <= day and (end is None or day < end)
            }  # fmt: skip
            assert _occupants(client, officer, house, day) == expected, (house, day)


def test_overlapping_primary_residences_are_409_naming_both_periods(
    client: TestClient, world: World, officer: str
) -> None:
    house = world.objects["house_own_2"]["own"]
    person = world.objects["people"]["own"]  # lives in the first house since 2024-01-01
    response = register(client, officer, house_code=house, person_uid=person, moved_in="2025-03-01")
    assert response.status_code == 409
    message = response.json()["detail"][0]["msg"]
    assert "[2024-01-01, open)" in message and "[2025-03-01, open)" in message
    # a period of the past that ends before the present one began overlaps nothing
    earlier = register(client, officer, house_code=house, person_uid=person,
                        moved_in="2023-01-01", until="2023-07-01")  # fmt: skip
    assert earlier.status_code == 201, earlier.text
    # one that runs into it is refused, naming both
    into = register(client, officer, house_code=house, person_uid=person,
                     moved_in="2023-09-01", until="2024-02-01")  # fmt: skip
    assert into.status_code == 409
    assert "[2024-01-01, open)" in into.text and "[2023-09-01, 2024-02-01)" in into.text
    # a departure dated after a later primary residence began is refused, naming it
    late = _deregister(client, officer, earlier.json()["uid"], "2024-03-01")
    assert late.status_code == 409 and late.json()["detail"][0]["loc"] == ["moved_out"]
    assert "[2024-01-01, open) overlaps [2023-01-01, 2024-03-01)" in late.text
    # as a move from elsewhere it is accepted, ending the old period the same day
    response = register(client, officer, house_code=house, person_uid=person,
                         moved_in="2025-03-01", ends_previous=True)  # fmt: skip
    assert response.status_code == 201, response.text


def test_a_recorded_departure_is_never_rewritten_by_a_later_move_or_arrival(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    first, second = world.objects["houses"]["own"], world.objects["house_own_2"]["own"]
    stay = register(client, officer, house_code=first, person=_person("丙", 31),
                     moved_in="2025-01-01", kind="family")  # fmt: skip
    assert stay.status_code == 201, stay.text
    gone = _deregister(client, officer, stay.json()["uid"], "2025-03-01")
    assert gone.status_code == 200, gone.text
    recorded = db.execute(
        text("SELECT period::text, deregistered_at FROM residences WHERE uid = :uid"),
        {"uid": stay.json()["uid"]},
    ).one()
    person = stay.json()["person_uid"]
    moved = client.post(
        f"/api/people/{person}/move",
        json={"house_code": second, "moved_on": "2025-02-01", "kind": "family"},
        headers=bearer(officer),
    )
    assert moved.status_code == 409, moved.text
    assert moved.json()["detail"][0]["loc"] == ["moved_on"]
    assert "deregistered" in moved.text and "2025-03-01" in moved.text
    arrival = register(client, officer, house_code=second, person_uid=person,
                        moved_in="2025-02-01", kind="family", ends_previous=True)  # fmt: skip
    assert arrival.status_code == 409, arrival.text
    assert arrival.json()["detail"][0]["loc"] == ["moved_in"]
    after = db.execute(
        text("SELECT period::text, deregistered_at FROM residences WHERE person_uid = :p"),
        {"p": person},
    ).all()
    assert after == [tuple(recorded)]  # nothing rewritten, nothing added
    # on the day of the recorded departure or later, the move is an arrival like any other
    later = client.post(
        f"/api/people/{person}/move",
        json={"house_code": second, "moved_on": "2025-03-01", "kind": "family"},
        headers=bearer(officer),
    )
    assert later.status_code == 200, later.text
    assert later.json()["ended"] is None


def test_the_same_stay_registered_twice_is_409_primary_or_not(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    house = world.objects["house_own_2"]["own"]
    body = {"house_code": house, "moved_in": "2025-05-01", "is_primary": False,
            "person": _person("丁", 41)}  # fmt: skip
    first = register(client, officer, **body)
    assert first.status_code == 201, first.text
    person = first.json()["person_uid"]
    stored = (
        "SELECT (SELECT count(*) FROM residences WHERE person_uid = :p), "
        "(SELECT count(*) FROM declarations WHERE person_uid = :p)"
    )
    before = tuple(db.execute(text(stored), {"p": person}).one())
    assert before[0] == 1
    again = register(client, officer, **body)
    assert again.status_code == 409, again.text
    assert again.json()["detail"][0]["loc"] == ["moved_in"]
    assert "already has a residence in this house [2025-05-01, open)" in again.text
    # a later stay in the same house that overlaps the first is the same stay too
    overlapping = register(client, officer, house_code=house, person_uid=person,
                            moved_in="2025-06-01", is_primary=False)  # fmt: skip
    assert overlapping.status_code == 409, overlapping.text
    assert tuple(db.execute(text(stored), {"p": person}).one()) == before  # nor a declaration


def test_a_failed_move_changes_nothing(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    first, second = world.objects["houses"]["own"], world.objects["house_own_2"]["own"]
    registered = register(client, officer, house_code=second, person=_person("丙", 31),
                           moved_in="2024-01-10", until="2025-09-01")  # fmt: skip
    assert registered.status_code == 201, registered.text
    person = registered.json()["person_uid"]
    later = register(client, officer, house_code=first, person_uid=person, moved_in="2025-09-01")
    assert later.status_code == 201, later.text
    # moving on 2025-06-01 would end the first period and start one overlapping the second
    moved = client.post(
        f"/api/people/{person}/move",
        json={"house_code": first, "moved_on": "2025-06-01", "kind": "tenant"},
        headers=bearer(officer),
    )
    assert moved.status_code == 409 and moved.json()["detail"][0]["loc"] == ["moved_on"]
    assert moved.json()["detail"][0]["msg"] == (  # both periods named
        "the person's primary residence [2025-09-01, open) overlaps [2025-06-01, open)"
    )
    periods = db.execute(
        text("SELECT lower(period), upper(period) FROM residences WHERE person_uid = :p "
             "ORDER BY lower(period)"), {"p": person}
    ).all()  # fmt: skip
    assert [tuple(row) for row in periods] == [
        (date(2024, 1, 10), date(2025, 9, 1)),
        (date(2025, 9, 1), None),
    ]


def test_deregistering_never_deletes(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    uid = world.objects["residences"]["own"]
    response = _deregister(client, officer, uid, "2025-05-05")
    assert response.status_code == 200
    assert response.json()["deregistered_at"] is not None
    again = _deregister(client, officer, uid, "2025-05-06")
    assert again.status_code == 409 and "already deregistered" in again.text
    row = db.scalars(select(Residence).where(Residence.uid == uid)).one()
    assert row.period.upper == date(2025, 5, 5)


def test_arrivals_departures_and_moves_are_registered_once_they_happened(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    house = world.objects["house_own_2"]["own"]
    tomorrow = (today_in_china() + timedelta(days=1)).isoformat()
    stored = db.scalar(text("SELECT count(*) FROM residences"))
    arrival = register(client, officer, house_code=house, person=_person("戊", 51),
                        moved_in=tomorrow)  # fmt: skip
    assert arrival.status_code == 422
    assert arrival.json()["detail"][0]["loc"] == ["moved_in"]
    assert f"an arrival in the future ({tomorrow})" in arrival.text
    assert db.scalar(text("SELECT count(*) FROM residences")) == stored
    registered = register(client, officer, house_code=house, person=_person("戊", 51),
                           moved_in="2025-01-01")  # fmt: skip
    assert registered.status_code == 201, registered.text
    uid, person = registered.json()["uid"], registered.json()["person_uid"]
    departure = _deregister(client, officer, uid, tomorrow)
    assert departure.status_code == 422
    assert departure.json()["detail"][0]["loc"] == ["moved_out"]
    assert "a departure in the future" in departure.text
    move = client.post(f"/api/people/{person}/move",
                       json={"house_code": world.objects["houses"]["own"], "moved_on": tomorrow,
                             "kind": "tenant"}, headers=bearer(officer))  # fmt: skip
    assert move.status_code == 422
    assert move.json()["detail"][0]["loc"] == ["moved_on"]
    assert "a move in the future" in move.text
    same_day = client.post(f"/api/people/{person}/move",
                           json={"house_code": world.objects["houses"]["own"],
                                 "moved_on": "2025-01-01", "kind": "tenant"},
                           headers=bearer(officer))  # fmt: skip
    assert same_day.status_code == 409 and same_day.json()["detail"][0]["loc"] == ["moved_on"]
    assert "void that residence if it was a mistake" in same_day.text
    # nobody moves in before they were born (the import refuses it too)
    born = register(client, officer, house_code=house,
                     person=_person("己", 52), moved_in="1990-01-01")  # fmt: skip
    assert born.status_code == 422 and born.json()["detail"][0]["loc"] == ["moved_in"]
    assert "a move-in (1990-01-01) before the person's birth (1991-04-02)" in born.text
    before_birth = client.post(f"/api/people/{person}/move",
                               json={"house_code": world.objects["houses"]["own"],
                                     "moved_on": "1991-01-01", "kind": "tenant"},
                               headers=bearer(officer))  # fmt: skip
    assert before_birth.status_code == 422
    assert before_birth.json()["detail"][0]["loc"] == ["moved_on"]
    row = db.scalars(select(Residence).where(Residence.uid == uid)).one()
    assert row.period.upper is None and row.deregistered_at is None
    assert db.scalar(text("SELECT count(*) FROM residences")) == stored + 1


def test_times_are_written_on_chinas_clock_whether_just_made_or_read_back(
    client: TestClient, world: World, officer: str
) -> None:
    registered = register(client, officer, house_code=world.objects["house_own_2"]["own"],
                           person=_person("庚", 53), moved_in="2025-02-01")  # fmt: skip
    assert registered.status_code == 201, registered.text
    made = registered.json()["declared_at"]
    assert made.endswith("+08:00"), made  # it was made in Python, in UTC ("...Z" before)
    person = client.get(f"/api/people/{registered.json()['person_uid']}",
                        headers=bearer(officer)).json()  # fmt: skip
    (read,) = [
        r["declared_at"] for r in person["residences"] if r["uid"] == registered.json()["uid"]
    ]
    assert read.endswith("+08:00") and datetime.fromisoformat(read) == datetime.fromisoformat(made)
    ended = _deregister(client, officer, registered.json()["uid"], "2025-03-01")
    assert ended.status_code == 200 and ended.json()["deregistered_at"].endswith("+08:00")


def test_a_new_person_is_stored_encrypted_with_category_derived(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    house = world.objects["house_own_2"]["own"]
    local = _person("丁", 41, phone="13912345678", hukou_division_code="990101001001")
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
                            person=_person("庚", 42, hukou_division_code=unknown))  # fmt: skip
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"] == ["person.hukou_division_code"]
        assert "not a known division" in refused.text
    known = register(client, officer, house_code=house, moved_in="2025-02-01", is_primary=False,
                      person=_person("庚", 42, hukou_division_code="310101"))  # fmt: skip
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
    person = {**_person("戊", 51), field: value}
    response = register(client, officer, house_code=world.objects["house_own_2"]["own"],
                         person=person, moved_in="2025-01-01")  # fmt: skip
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == [f"person.{field}"] and reason in detail["msg"]


def test_tenants_of_let_houses_are_declared_within_three_working_days(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    let_house = world.objects["houses"]["own"]
    by_officer = register(client, officer, house_code=let_house, person=_person("己", 61),
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
        person=_person("庚", 71),
        moved_in=today_in_china().isoformat(),
        declared_by="landlord",
    )
    assert by_landlord.json()["declaration"]["declared_at"] is not None
    assert by_landlord.json()["declaration"]["is_late"] is False
    family = register(client, officer, house_code=world.objects["house_own_2"]["own"],
                       person=_person("辛", 81), moved_in="2025-01-01", kind="family")  # fmt: skip
    assert family.json()["declaration"] is None  # not a tenant of a let house
    assert db.scalar(select(Declaration.due_on).where(Declaration.residence_uid == uid)) == date(
        2025, 11, 19
    )


def test_officers_cannot_reach_people_outside_their_grids(
    client: TestClient, world: World, officer: str
) -> None:
    canary = world.objects["people"]["other"]
    house = world.objects["house_own_2"]["own"]
    response = register(client, officer, house_code=house, person_uid=canary, moved_in="2025-01-01")
    assert response.status_code == 404
    assert response.json()["detail"][0]["loc"] == ["person_uid"]  # the body's name (it said uid)
    far_house = world.objects["houses"]["other"]
    response = register(client, officer, house_code=far_house, person=_person("壬", 91),
                         moved_in="2025-01-01")  # fmt: skip
    assert response.status_code == 404


def _move(client: TestClient, token: str, person: str, **body: Any) -> Any:
    body.setdefault("kind", "tenant")
    return client.post(f"/api/people/{person}/move", json=body, headers=bearer(token))


def test_a_move_from_another_grid_does_not_say_where_the_person_lived(
    client: TestClient, world: World, officer: str
) -> None:
    first, second = world.objects["houses"]["own"], world.objects["house_own_2"]["own"]
    elsewhere = world.objects["houses"]["other"]  # a house of another officer's grid
    admin = login(client, world.users[Role.ADMIN])
    client.cookies.clear()
    # lived in the officer's grid, then moved to another grid (registered by an admin)
    lived = register(client, officer, house_code=first, person=_person("丁", 41),
                      moved_in="2024-01-10", is_primary=True)  # fmt: skip
    assert lived.status_code == 201, lived.text
    person = lived.json()["person_uid"]
    away = _move(client, admin, person, house_code=elsewhere, moved_on="2025-01-10")
    assert away.status_code == 200 and away.json()["ended"]["house_code"] == first
    # back in the officer's grid: the residence elsewhere ends, its house is not named
    back = _move(client, officer, person, house_code=second, moved_on="2025-06-10")
    assert back.status_code == 200, back.text
    assert back.json()["ended"] is None and back.json()["ended_elsewhere"] is True
    assert back.json()["started"]["house_code"] == second and elsewhere not in back.text
    # within the grid the ended residence is shown as before
    again = _move(client, officer, person, house_code=first, moved_on="2025-08-10")
    assert again.status_code == 200, again.text
    assert again.json()["ended"]["house_code"] == second and not again.json()["ended_elsewhere"]


def test_an_arrival_from_another_grid_does_not_say_when_the_person_went_there(
    client: TestClient, world: World, officer: str
) -> None:
    """The 409 gave the period of a residence in a house out of the officer's scope."""
    name, id_number, _phone = RESIDENTS["far"]  # lives in another officer's grid
    body = {"name": name, "id_number": id_number}
    house = world.objects["house_own_2"]["own"]
    refused = register(client, officer, house_code=house, person=body, moved_in="2025-05-01")
    assert refused.status_code == 409, refused.text
    message = refused.json()["detail"][0]["msg"]
    assert message == (
        "a primary residence of the person outside your scope overlaps the new one "
        "[2025-05-01, open): give ends_previous (a move from elsewhere), or deregister it first"
    )
    moved = register(client, officer, house_code=house, person=body, moved_in="2025-05-01",
                      ends_previous=True)  # fmt: skip
    assert moved.status_code == 201, moved.text


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
    registered = register(client, officer, house_code=house, person=_person("错", 61),
                           moved_in="2025-02-03")  # fmt: skip
    assert registered.status_code == 201, registered.text
    uid = registered.json()["uid"]
    assert registered.json()["declaration"] is not None
    assert "错" in _occupants(client, officer, house, date(2025, 3, 1))
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
    assert "错" not in _occupants(client, officer, house, date(2025, 3, 1))
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
    lived = register(client, officer, house_code=first, person=_person("迁", 63),
                      moved_in="2024-02-01", kind="family")  # fmt: skip
    assert lived.status_code == 201, lived.text
    earlier, person = lived.json()["uid"], lived.json()["person_uid"]
    moved = _move(client, officer, person, house_code=second, moved_on="2025-04-01")
    assert moved.status_code == 200, moved.text
    mistaken = moved.json()["started"]["uid"]
    assert "迁" not in _occupants(client, officer, first, today_in_china())
    # a residence that is not the move's: nothing ended on the day it began
    other = register(client, officer, house_code=second, person=_person("独", 64),
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
        assert "迁" in _occupants(client, officer, first, day)
        assert "迁" not in _occupants(client, officer, second, day)
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
    lived = register(client, officer, house_code=first, person=_person("去", 65),
                      moved_in="2024-02-01")  # fmt: skip
    person = lived.json()["person_uid"]
    moved = _move(client, officer, person, house_code=second, moved_on="2025-04-01")
    started = moved.json()["started"]["uid"]
    left = _deregister(client, officer, started, "2025-06-01")
    assert left.status_code == 200, left.text
    ended = client.post(f"/api/residences/{started}/void",
                        json={"reason": "并未搬迁", "reopen_previous": True},
                        headers=bearer(officer))  # fmt: skip
    assert ended.status_code == 409 and "this residence ends on 2025-06-01" in ended.text
    # the earlier residence lies in another officer's grid: an administrator reopens it
    away = register(client, admin, house_code=elsewhere, person=_person("远", 66),
                     moved_in="2024-02-01")  # fmt: skip
    assert away.status_code == 201, away.text
    arrival = register(client, officer, house_code=second, person=_person("远", 66),
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
    lived = register(client, officer, house_code=first, person=_person("离", 67),
                      moved_in="2024-02-01", kind="family")  # fmt: skip
    assert lived.status_code == 201, lived.text
    earlier, person = lived.json()["uid"], lived.json()["person_uid"]
    # the person left (a recorded departure), and later someone registered them elsewhere
    # from that very day, by mistake
    left = _deregister(client, officer, earlier, "2025-04-01")
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
    moved = _move(client, officer, person, house_code=first, moved_on="2025-06-01")
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
    registered = register(client, officer, house_code=house, person=_person("旧", 62),
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
                           person=_person("留", 63), moved_in="2025-01-02")  # fmt: skip
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
    registered = register(client, officer, house_code=house, person=_person("证", 64),
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
    wrong = register(client, officer, house_code=house, person=_person("张山", 65),
                      moved_in="2025-06-01", kind="family")  # fmt: skip
    uid, person = wrong.json()["uid"], wrong.json()["person_uid"]
    assert client.post(f"/api/residences/{uid}/void", json={"reason": "姓名登记错了"},
                       headers=bearer(officer)).status_code == 200  # fmt: skip
    right = register(client, officer, house_code=house, person=_person("张珊", 65),
                      moved_in="2025-06-01", kind="family")  # fmt: skip
    assert right.status_code == 201, right.text
    assert right.json()["person_uid"] == person  # one ID number, one person: renamed
    db.expire_all()
    renamed = db.get(Person, person)
    assert renamed is not None and renamed.name == "张珊"
    # once a residence names the person, another name is refused as before
    other = register(client, officer, house_code=world.objects["houses"]["own"],
                      person=_person("张三", 65), moved_in="2026-01-01")  # fmt: skip
    assert other.status_code == 409 and "registered under another name" in other.text


def test_a_registration_of_someone_on_record_keeps_the_phone_it_gives(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    """The officer's form sends name, ID number and phone: for a person already on record the
    phone was dropped without a word. It is stored (as a 信息变更 would, audited by name);
    a hukou that differs from the record is refused, naming it, nothing stored."""
    first = register(client, officer, house_code=world.objects["house_own_2"]["own"],
                     person=_person("回来", 68, phone="13800000068"), moved_in="2025-01-05",
                     kind="tenant")  # fmt: skip
    assert first.status_code == 201, first.text
    uid, person = first.json()["uid"], first.json()["person_uid"]
    assert _deregister(client, officer, uid, "2025-06-01").status_code == 200
    back = register(client, officer, house_code=world.objects["houses"]["own"],
                    person=_person("回来", 68, phone="13900000069", occupation="厨师"),
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
                       person=_person("回来", 68, hukou_division_code="110105"),
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
                           person=_person("变更", 66, phone="13800000066"),
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
    registered = register(client, officer, house_code=house, person=_person("户籍", 67),
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
    gone = register(client, officer, house_code=house, person=_person("旧住户", 68),
                     moved_in="2023-01-01", until="2024-01-01", kind="family")  # fmt: skip
    assert gone.status_code == 201, gone.text
    gone_uid = gone.json()["person_uid"]
    refused = client.patch(f"/api/people/{gone_uid}", json={"phone": "13900000068"},
                           headers=bearer(officer))  # fmt: skip
    assert refused.status_code == 404, refused.text
