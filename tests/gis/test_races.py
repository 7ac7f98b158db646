"""Two writers at the same moment (committed data, two connections): the second waits for the
first, then sees what it stored. One ID number stays one person, one room one house."""

from __future__ import annotations

import csv
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.audit.schemas import Actor
from gis.buildings import service as buildings
from gis.db import make_engine, make_session_factory
from gis.errors import Conflict
from gis.houses.editing import HouseCreate, HouseUpdate, add_house, update_house
from gis.houses.models import House, HouseStatus
from gis.people.crypto import PeopleCipher, SealedField
from gis.people.importing import PeopleImportResult, import_people
from gis.people.models import Person, Residence, ResidenceKind
from gis.people.periods import WorkCalendar
from gis.people.schemas import PersonInput, ResidenceCreate
from gis.people.service import register_arrival
from gis.users.models import Role, User
from gis.users.service import add_user
from tests.access_world import GRID_OWN, World
from tests.grids_world import add_building
from tests.people_world import citizen_id
from tests.races import race

OFFICER = Scope(user_name="t_officer", role=Role.OFFICER, grid_codes=frozenset({GRID_OWN}))
TODAY = date(2026, 11, 22)
NUMBER = citizen_id("110105", date(1992, 6, 1), 311)


@pytest.fixture
def sessions(committed_world: tuple[str, World]) -> Iterator[tuple[Session, Session, World]]:
    url, world = committed_world
    engine = make_engine(url, pool_size=3)
    try:
        with Session(engine) as first, Session(engine) as second:
            yield first, second, world
    finally:
        engine.dispose()


def _arrival(world: World, house: str, name: str) -> ResidenceCreate:
    return ResidenceCreate(
        house_code=world.objects[house]["own"],
        person=PersonInput(name=name, id_number=NUMBER),
        moved_in=date(2026, 1, 5),
        kind=ResidenceKind.TENANT,
    )


def _people_with_the_number(session: Session, cipher: PeopleCipher) -> list[str]:
    digest = cipher.lookup_hash(NUMBER, field=SealedField.ID_NUMBER)
    session.rollback()
    return list(session.scalars(select(Person.name).where(Person.id_number_hash == digest)))


@pytest.mark.parametrize(("second_name", "expected"), [
    ("李四", "this ID number is registered under another name"),
    ("张三", "overlaps the new one [2026-01-05, open)"),
])  # fmt: skip
def test_two_registrations_of_one_new_number_at_once_make_one_person(
    sessions: tuple[Session, Session, World], cipher: PeopleCipher, second_name: str, expected: str
) -> None:
    first, second, world = sessions
    names = iter(["张三", second_name])
    houses = iter(["houses", "house_own_2"])

    def register(session: Session) -> object:
        return register_arrival(
            session, scope=OFFICER, cipher=cipher, calendar=WorkCalendar(),
            request=_arrival(world, next(houses), next(names)), today=TODAY,
        )  # fmt: skip

    outcome = race(first, second, register)
    assert len(outcome) == 1 and isinstance(outcome[0], Conflict), outcome
    assert expected in str(outcome[0])
    assert _people_with_the_number(first, cipher) == ["张三"]


def test_two_imports_of_one_file_at_once_store_each_row_once(
    committed_world: tuple[str, World], cipher: PeopleCipher, tmp_path: Path
) -> None:
    """Each batch locks the ID numbers it holds: the second import waits, then finds every
    person and residence stored (it was two people per number and a raw exclusion error)."""
    url, world = committed_world
    house = world.objects["houses"]["own"]
    numbers = [citizen_id("110105", date(1993, 3, 3), 400 + i) for i in range(30)]
    path = tmp_path / "people.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "id_number", "house_code", "moved_in"])
        writer.writerows(
            [f"居民{i}", number, house, "2026-02-01"] for i, number in enumerate(numbers)
        )
    engine = make_engine(url, pool_size=4)
    barrier = threading.Barrier(2)
    results: list[PeopleImportResult] = []
    errors: list[BaseException] = []

    def run(worker: int) -> None:
        try:
            barrier.wait()
            results.append(import_people(
                make_session_factory(engine), path=path, cipher=cipher, calendar=WorkCalendar(),
                actor=Actor(name=f"cli:racer{worker}", role="admin"), today=TODAY,
                rejects_file=tmp_path / f"rejects-{worker}.csv",
            ))  # fmt: skip
        except BaseException as error:
            errors.append(error)

    try:
        threads = [threading.Thread(target=run, args=(worker,)) for worker in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        assert sorted((r.imported, r.already_imported) for r in results) == [(0, 30), (30, 0)]
        digests = [cipher.lookup_hash(n, field=SealedField.ID_NUMBER) for n in numbers]
        with Session(engine) as check:
            people = check.scalars(select(Person.uid).where(Person.id_number_hash.in_(digests)))
            uids = list(people)
            stays = check.scalar(
                select(func.count()).select_from(Residence).where(Residence.person_uid.in_(uids))
            )
        assert (len(uids), stays) == (30, 30)
    finally:
        engine.dispose()


@pytest.mark.parametrize("second_change", ["update", "add"])
def test_one_room_given_to_two_houses_at_once_is_refused_to_the_second(
    sessions: tuple[Session, Session, World], second_change: str
) -> None:
    """A room names one house per floor: the second of two changes at once waits for the
    building the first locked, then sees the room taken (both were stored before)."""
    first, second, world = sessions
    building = world.buildings["own"]
    mine, theirs = (
        add_house(first, scope=OFFICER, building_code=building,
                  request=HouseCreate(floor=9, room=room))
        for room in ("901", "902")
    )  # fmt: skip
    first.commit()

    def give_room(session: Session) -> object:
        if session is first or second_change == "update":
            house = mine if session is first else theirs
            return update_house(session, scope=OFFICER, code=house.code,
                                request=HouseUpdate(floor=9, room="909"))  # fmt: skip
        return add_house(session, scope=OFFICER, building_code=building,
                         request=HouseCreate(floor=9, room="909"))  # fmt: skip

    outcome = race(first, second, give_room)
    assert len(outcome) == 1 and isinstance(outcome[0], Conflict), outcome
    first.rollback()
    rooms = first.scalars(
        select(House.code).where(House.room == "909", House.status == HouseStatus.ACTIVE)
    )
    assert list(rooms) == [mine.code]


def test_two_accounts_whose_names_differ_in_case_only_added_at_once(
    sessions: tuple[Session, Session, World],
) -> None:
    """``users add casey`` and ``users add CASEY`` at once: the second waits, then finds the
    first (both were stored before)."""
    first, second, _ = sessions
    names = iter(["casey", "CASEY"])

    def add(session: Session) -> object:
        return add_user(
            session, name=next(names), role=Role.PLANNER, password="a long enough password 7",
            actor=Actor(name="cli:test", role="admin"),
        )  # fmt: skip

    outcome = race(first, second, add)
    assert len(outcome) == 1 and isinstance(outcome[0], Conflict), outcome
    assert "differ in case only" in str(outcome[0])
    first.rollback()
    stored = first.scalars(select(User.name).where(func.lower(User.name) == "casey"))
    assert list(stored) == ["casey"]


def test_a_building_retired_while_an_arrival_is_registered_waits_and_is_refused(
    sessions: tuple[Session, Session, World], cipher: PeopleCipher
) -> None:
    """Retiring counts who lives in the building's houses after locking them: an arrival
    registered at the same moment is counted (it was left living in a retired house)."""
    first, second, world = sessions
    admin = Scope.system("cli:test")
    empty = add_building(first, community="990101001001", seq=90,
                         footprint=shapely.box(113.9001, 22.5001, 113.9002, 22.5002))  # fmt: skip
    first.flush()
    house = add_house(first, scope=admin, building_code=empty.code,
                      request=HouseCreate(floor=7, room="701"))  # fmt: skip
    first.commit()
    arrival = _arrival(world, "houses", "张三").model_copy(update={"house_code": house.code})

    def change(session: Session) -> object:
        if session is first:
            return register_arrival(session, scope=admin, cipher=cipher, calendar=WorkCalendar(),
                                    request=arrival, today=TODAY)  # fmt: skip
        return buildings.retire_building(session, code=empty.code)

    outcome = race(first, second, change)
    assert len(outcome) == 1 and isinstance(outcome[0], Conflict), outcome
    assert "people live in the houses of" in str(outcome[0])
