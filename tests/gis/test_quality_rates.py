"""The rates count what they say: people (not residences), departures whose 7 days are over,
residents eligible for a permit as issuing counts it (moves inside the city keep the count), and
ID numbers another person holds too."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.buildings.models import Building
from gis.houses.models import House, HouseUse
from gis.people import quality
from gis.people import quality_queries as sql
from gis.people.crypto import PeopleCipher
from gis.people.models import Person, PersonCategory, Residence
from gis.people.schemas_quality import QualityReport
from tests.access_world import GRID_OWN, World, check_char
from tests.people_world import add_person, add_residence, citizen_id


def _house(db: Session, code: str) -> House:
    return db.scalars(select(House).where(House.code == code)).one()


def _let_house(db: Session, world: World, unit: int) -> House:
    """A let room of the own building (in GRID_OWN), nobody living in it yet."""
    building = db.scalars(select(Building).where(Building.code == world.buildings["own"])).one()
    body = building.code[:19] + f"{unit:05d}"
    house = House(
        uid=uuid.uuid4(), code=body + check_char(body), building_uid=building.uid,
        district_code=building.district_code, unit=unit, floor=1, room=f"20{unit}",
        use=HouseUse.RESIDENTIAL, area_m2=25.0, is_rented=True,
    )  # fmt: skip
    db.add(house)
    db.flush()
    return house


def _person(
    db: Session, cipher: PeopleCipher, seq: int, *, birth: date = date(1990, 1, 1)
) -> Person:
    person = add_person(db, cipher, name=f"率{seq}", phone=None, birth=birth,
                        id_number=citizen_id("110105", birth, seq))  # fmt: skip
    person.category = PersonCategory.FLOATING
    db.flush()
    return person


def _n(count: int | None) -> int:
    """A count of the report, never suppressed for the system scope."""
    assert count is not None
    return count


def _report(db: Session, on: date) -> QualityReport:
    return quality.grid_quality(db, scope=Scope.system(), code=GRID_OWN, on=on)


def test_a_person_with_two_homes_in_the_grid_counts_once(
    db: Session, world: World, cipher: PeopleCipher
) -> None:
    on = date(2026, 11, 22)
    before = _report(db, on).resident_count
    person = _person(db, cipher, 401)
    add_residence(db, person=person, house=_house(db, world.objects["houses"]["own"]),
                  since=date(2025, 1, 1))  # fmt: skip
    second = add_residence(db, person=person, since=date(2025, 6, 1),
                           house=_house(db, world.objects["house_own_2"]["own"]))  # fmt: skip
    second.is_primary = False
    db.flush()
    report = _report(db, on)
    assert report.resident_count == _n(before) + 1
    assert report.accuracy.denominator == _n(before) + 1


def test_a_departure_is_late_only_once_its_seven_days_are_over(
    db: Session, world: World, cipher: PeopleCipher
) -> None:
    person = _person(db, cipher, 402)
    add_residence(db, person=person, house=_house(db, world.objects["house_own_2"]["own"]),
                  since=date(2025, 1, 1), until=date(2026, 11, 10))  # fmt: skip
    db.flush()
    last_day = _report(db, date(2026, 11, 17)).late_deregistration  # moved out + 7: still due
    day_after = _report(db, date(2026, 11, 18)).late_deregistration
    assert (day_after.numerator, day_after.denominator) == (
        _n(last_day.numerator) + 1, _n(last_day.denominator) + 1,
    )  # fmt: skip
    # deregistered on its last day, it was never late
    residence = person.uid
    row = db.scalars(select(Residence).where(Residence.person_uid == residence)).one()
    row.deregistered_at = datetime(2026, 11, 17, 8, tzinfo=UTC)
    db.flush()
    on_time = _report(db, date(2026, 11, 18)).late_deregistration
    assert (on_time.numerator, on_time.denominator) == (
        last_day.numerator, _n(last_day.denominator) + 1,
    )  # fmt: skip


def test_a_move_inside_the_city_keeps_a_resident_eligible_for_a_permit(
    db: Session, world: World, cipher: PeopleCipher
) -> None:
    on = date(2026, 11, 22)
    before = _report(db, on).permits.denominator
    mover, newcomer = _person(db, cipher, 403), _person(db, cipher, 404)
    # 9 months in the other district of the same city (9901..), then here for 3 weeks
    add_residence(db, person=mover, house=_house(db, world.objects["houses"]["other"]),
                  since=date(2026, 2, 1), until=date(2026, 11, 1))  # fmt: skip
    add_residence(db, person=mover, house=_house(db, world.objects["house_own_2"]["own"]),
                  since=date(2026, 11, 1))  # fmt: skip
    # here for 3 weeks, after a gap: not yet eligible
    add_residence(db, person=newcomer, house=_house(db, world.objects["houses"]["other"]),
                  since=date(2025, 1, 1), until=date(2026, 10, 1))  # fmt: skip
    add_residence(db, person=newcomer, house=_house(db, world.objects["house_own_2"]["own"]),
                  since=date(2026, 11, 1))  # fmt: skip
    db.flush()
    assert _report(db, on).permits.denominator == _n(before) + 1

    # months end as issuing counts them (gis.events.permits.add_months): here from 2025-08-31,
    # eligible on 2026-02-28, not the day before
    earlier = {on: _report(db, on).permits.denominator
               for on in (date(2026, 2, 27), date(2026, 2, 28))}  # fmt: skip
    august = _person(db, cipher, 405)
    add_residence(db, person=august, house=_house(db, world.objects["house_own_2"]["own"]),
                  since=date(2025, 8, 31))  # fmt: skip
    db.flush()
    assert _report(db, date(2026, 2, 27)).permits.denominator == earlier[date(2026, 2, 27)]
    assert _report(db, date(2026, 2, 28)).permits.denominator == _n(earlier[date(2026, 2, 28)]) + 1


def test_a_declaration_is_overdue_only_while_the_tenant_lives_there(
    db: Session, world: World
) -> None:
    on = date(2026, 11, 22)
    listing = quality.overdue(db, scope=Scope.system(), code=GRID_OWN, on=on)
    assert [d.name for d in listing.declarations] == ["王自己"]  # due 2024-01-04, never made
    residence = db.scalars(
        select(Residence).where(Residence.uid == world.objects["residences"]["own"])
    ).one()
    residence.period = Range(residence.period.lower, date(2026, 6, 1), bounds="[)")
    db.flush()
    assert quality.overdue(db, scope=Scope.system(), code=GRID_OWN, on=on).declarations == []
    # on a day the tenant still lived there, it was overdue
    earlier = quality.overdue(db, scope=Scope.system(), code=GRID_OWN, on=date(2026, 5, 1))
    assert [d.name for d in earlier.declarations] == ["王自己"]


def test_a_second_home_does_not_lend_its_dates_to_the_primary_residence(
    db: Session, world: World, cipher: PeopleCipher
) -> None:
    on = date(2026, 11, 22)
    before = _report(db, on)
    # born 2021, living here (primary) since October; a second home here since 2020
    person = _person(db, cipher, 406, birth=date(2021, 1, 1))
    add_residence(db, person=person, house=_let_house(db, world, 3), since=date(2026, 10, 1))
    second = add_residence(db, person=person, house=_let_house(db, world, 4),
                           since=date(2020, 1, 1))  # fmt: skip
    second.is_primary = False
    db.flush()
    after = _report(db, on)
    assert after.resident_count == _n(before.resident_count) + 1
    # counted by the primary residence: here 7 weeks (not eligible for a permit), after birth
    assert after.permits.denominator == before.permits.denominator
    assert after.impossible_dates == before.impossible_dates
    assert after.registration.numerator == _n(before.registration.numerator) + 2


def test_someone_here_only_in_second_homes_counts_once_by_the_earliest(
    db: Session, world: World, cipher: PeopleCipher
) -> None:
    on = date(2026, 11, 22)
    before = _report(db, on)
    person = _person(db, cipher, 407)
    # primary residence in the other district since October; two second homes here
    add_residence(db, person=person, house=_house(db, world.objects["houses"]["other"]),
                  since=date(2026, 10, 1))  # fmt: skip
    for unit, since in ((3, date(2026, 9, 1)), (4, date(2025, 1, 1))):
        second = add_residence(db, person=person, house=_let_house(db, world, unit), since=since)
        second.is_primary = False
    db.flush()
    after = _report(db, on)
    assert after.resident_count == _n(before.resident_count) + 1
    # by the earliest of them, here since 2025: eligible for a permit
    assert after.permits.denominator == _n(before.permits.denominator) + 1
    # both let rooms have a registered resident, though only one is counted as living there
    assert (after.registration.numerator, after.registration.denominator) == (
        _n(before.registration.numerator) + 2, _n(before.registration.denominator) + 2,
    )  # fmt: skip


def test_three_short_stays_in_the_city_add_up_for_a_permit(
    db: Session, world: World, cipher: PeopleCipher
) -> None:
    on = date(2026, 11, 22)
    before = _report(db, on).permits.denominator
    person = _person(db, cipher, 408)
    # 3 months in the other district, 3 months in the other grid's building, 7 weeks here:
    # none of them 6 months long, together 7 months unbroken
    stays = (
        (world.objects["houses"]["other"], date(2026, 4, 1), date(2026, 7, 1)),
        (world.objects["house_other"]["own"], date(2026, 7, 1), date(2026, 10, 1)),
    )
    for code, since, until in stays:
        add_residence(db, person=person, house=_house(db, code), since=since, until=until)
    add_residence(db, person=person, house=_let_house(db, world, 3), since=date(2026, 10, 1))
    db.flush()
    assert _report(db, on).permits.denominator == _n(before) + 1


def test_an_id_number_another_person_holds_is_a_duplicate_wherever_they_live(
    db: Session, world: World, cipher: PeopleCipher
) -> None:
    on = date(2026, 11, 22)
    before = _report(db, on)
    birth = date(1990, 1, 1)
    resident = _person(db, cipher, 409)
    add_residence(db, person=resident, house=_let_house(db, world, 3), since=date(2025, 1, 1))
    db.flush()
    assert _report(db, on).duplicate_ids == before.duplicate_ids
    # two more people with the same number, living nowhere: the resident's is a duplicate once
    for name in ("同号甲", "同号乙"):
        add_person(db, cipher, name=name, phone=None, birth=birth,
                   id_number=citizen_id("110105", birth, 409))  # fmt: skip
    db.flush()
    after = _report(db, on)
    assert after.duplicate_ids == _n(before.duplicate_ids) + 1
    assert after.accuracy.numerator == before.accuracy.numerator


def test_a_resident_of_two_communities_is_no_duplicate_of_themself(
    db: Session, world: World, cipher: PeopleCipher
) -> None:
    def communities() -> dict[str, dict[str, Any]]:
        rows = sql.select_rates(db, on=on, division_prefix="990101", by_community=True)
        return {str(row["area"]): row for row in rows}

    on = date(2026, 11, 22)
    before = communities()
    person = _person(db, cipher, 410)
    add_residence(db, person=person, house=_let_house(db, world, 3), since=date(2025, 1, 1))
    second = add_residence(db, person=person, since=date(2025, 6, 1),
                           house=_house(db, world.objects["house_other"]["own"]))  # fmt: skip
    second.is_primary = False
    db.flush()
    after = communities()
    for community in ("990101001001", "990101001002"):
        assert after[community]["residents"] == before[community]["residents"] + 1
        assert after[community]["duplicate_id"] == before[community]["duplicate_id"]
    twin = add_person(db, cipher, name="同号丙", phone=None, birth=date(1990, 1, 1),
                      id_number=citizen_id("110105", date(1990, 1, 1), 410))  # fmt: skip
    db.flush()
    assert twin.uid != person.uid
    twice = communities()
    for community in ("990101001001", "990101001002"):
        assert twice[community]["duplicate_id"] == before[community]["duplicate_id"] + 1
