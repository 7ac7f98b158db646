"""Residence periods: arrivals, departures and moves dated when they happened, never overlapping."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gis.people.models import Residence
from gis.people.periods import today_in_china
from gis.users.models import Role
from tests.access_world import World, bearer, login, register
from tests.api.residence_requests import (
    deregister_request,
    move_request,
    occupant_names_on,
    person_body,
)
from tests.people_world import RESIDENTS


def test_occupants_on_past_dates_are_those_whose_periods_covered_them(
    client: TestClient, world: World, officer: str
) -> None:
    first, second = world.objects["houses"]["own"], world.objects["house_own_2"]["own"]
    a = register(
        client, officer, house_code=second, person=person_body("甲", 11), moved_in="2024-03-01"
    )
    assert a.status_code == 201, a.text
    b = register(
        client, officer, house_code=first, person=person_body("乙", 21), moved_in="2024-06-01"
    )
    assert b.status_code == 201, b.text
    gone = deregister_request(client, officer, b.json()["uid"], "2025-01-15")
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
            assert occupant_names_on(client, officer, house, day) == expected, (house, day)


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
    late = deregister_request(client, officer, earlier.json()["uid"], "2024-03-01")
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
    stay = register(client, officer, house_code=first, person=person_body("丙", 31),
                     moved_in="2025-01-01", kind="family")  # fmt: skip
    assert stay.status_code == 201, stay.text
    gone = deregister_request(client, officer, stay.json()["uid"], "2025-03-01")
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
            "person": person_body("丁", 41)}  # fmt: skip
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
    registered = register(client, officer, house_code=second, person=person_body("丙", 31),
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
    response = deregister_request(client, officer, uid, "2025-05-05")
    assert response.status_code == 200
    assert response.json()["deregistered_at"] is not None
    again = deregister_request(client, officer, uid, "2025-05-06")
    assert again.status_code == 409 and "already deregistered" in again.text
    row = db.scalars(select(Residence).where(Residence.uid == uid)).one()
    assert row.period.upper == date(2025, 5, 5)


def test_arrivals_departures_and_moves_are_registered_once_they_happened(
    client: TestClient, world: World, officer: str, db: Session
) -> None:
    house = world.objects["house_own_2"]["own"]
    tomorrow = (today_in_china() + timedelta(days=1)).isoformat()
    stored = db.scalar(text("SELECT count(*) FROM residences"))
    arrival = register(client, officer, house_code=house, person=person_body("戊", 51),
                        moved_in=tomorrow)  # fmt: skip
    assert arrival.status_code == 422
    assert arrival.json()["detail"][0]["loc"] == ["moved_in"]
    assert f"an arrival in the future ({tomorrow})" in arrival.text
    assert db.scalar(text("SELECT count(*) FROM residences")) == stored
    registered = register(client, officer, house_code=house, person=person_body("戊", 51),
                           moved_in="2025-01-01")  # fmt: skip
    assert registered.status_code == 201, registered.text
    uid, person = registered.json()["uid"], registered.json()["person_uid"]
    departure = deregister_request(client, officer, uid, tomorrow)
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
                     person=person_body("己", 52), moved_in="1990-01-01")  # fmt: skip
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
                           person=person_body("庚", 53), moved_in="2025-02-01")  # fmt: skip
    assert registered.status_code == 201, registered.text
    made = registered.json()["declared_at"]
    assert made.endswith("+08:00"), made  # it was made in Python, in UTC ("...Z" before)
    person = client.get(f"/api/people/{registered.json()['person_uid']}",
                        headers=bearer(officer)).json()  # fmt: skip
    (read,) = [
        r["declared_at"] for r in person["residences"] if r["uid"] == registered.json()["uid"]
    ]
    assert read.endswith("+08:00") and datetime.fromisoformat(read) == datetime.fromisoformat(made)
    ended = deregister_request(client, officer, registered.json()["uid"], "2025-03-01")
    assert ended.status_code == 200 and ended.json()["deregistered_at"].endswith("+08:00")


def test_officers_cannot_reach_people_outside_their_grids(
    client: TestClient, world: World, officer: str
) -> None:
    canary = world.objects["people"]["other"]
    house = world.objects["house_own_2"]["own"]
    response = register(client, officer, house_code=house, person_uid=canary, moved_in="2025-01-01")
    assert response.status_code == 404
    assert response.json()["detail"][0]["loc"] == ["person_uid"]  # the body's name (it said uid)
    far_house = world.objects["houses"]["other"]
    response = register(client, officer, house_code=far_house, person=person_body("壬", 91),
                         moved_in="2025-01-01")  # fmt: skip
    assert response.status_code == 404


def test_a_move_from_another_grid_does_not_say_where_the_person_lived(
    client: TestClient, world: World, officer: str
) -> None:
    first, second = world.objects["houses"]["own"], world.objects["house_own_2"]["own"]
    elsewhere = world.objects["houses"]["other"]  # a house of another officer's grid
    admin = login(client, world.users[Role.ADMIN])
    client.cookies.clear()
    # lived in the officer's grid, then moved to another grid (registered by an admin)
    lived = register(client, officer, house_code=first, person=person_body("丁", 41),
                      moved_in="2024-01-10", is_primary=True)  # fmt: skip
    assert lived.status_code == 201, lived.text
    person = lived.json()["person_uid"]
    away = move_request(client, admin, person, house_code=elsewhere, moved_on="2025-01-10")
    assert away.status_code == 200 and away.json()["ended"]["house_code"] == first
    # back in the officer's grid: the residence elsewhere ends, its house is not named
    back = move_request(client, officer, person, house_code=second, moved_on="2025-06-10")
    assert back.status_code == 200, back.text
    assert back.json()["ended"] is None and back.json()["ended_elsewhere"] is True
    assert back.json()["started"]["house_code"] == second and elsewhere not in back.text
    # within the grid the ended residence is shown as before
    again = move_request(client, officer, person, house_code=first, moved_on="2025-08-10")
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
