"""The rates count what they say: people (not residences), departures whose 7 days are over,
and residents eligible for a permit as issuing counts it (moves inside the city keep the
count)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.houses.models import House
from gis.people import quality
from gis.people.crypto import PeopleCipher
from gis.people.models import Person, PersonCategory, Residence
from tests.access_world import GRID_OWN, World
from tests.people_world import add_person, add_residence, citizen_id


def _house(db: Session, code: str) -> House:
    return db.scalars(select(House).where(House.code == code)).one()


def _person(db: Session, cipher: PeopleCipher, seq: int) -> Person:
    person = add_person(db, cipher, name=f"率{seq}", phone=None, birth=date(1990, 1, 1),
                        id_number=citizen_id("110105", date(1990, 1, 1), seq))  # fmt: skip
    person.category = PersonCategory.FLOATING
    db.flush()
    return person


def _report(db: Session, on: date) -> quality.QualityReport:
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
    assert report.resident_count == before + 1
    assert report.accuracy.denominator == before + 1


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
        last_day.numerator + 1, last_day.denominator + 1,
    )  # fmt: skip
    # deregistered on its last day, it was never late
    residence = person.uid
    row = db.scalars(select(Residence).where(Residence.person_uid == residence)).one()
    row.deregistered_at = datetime(2026, 11, 17, 8, tzinfo=UTC)
    db.flush()
    on_time = _report(db, date(2026, 11, 18)).late_deregistration
    assert (on_time.numerator, on_time.denominator) == (
        last_day.numerator, last_day.denominator + 1,
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
    assert _report(db, on).permits.denominator == before + 1

    # months end as issuing counts them (gis.events.permits.add_months): here from 2025-08-31,
    # eligible on 2026-02-28, not the day before
    earlier = {on: _report(db, on).permits.denominator
               for on in (date(2026, 2, 27), date(2026, 2, 28))}  # fmt: skip
    august = _person(db, cipher, 405)
    add_residence(db, person=august, house=_house(db, world.objects["house_own_2"]["own"]),
                  since=date(2025, 8, 31))  # fmt: skip
    db.flush()
    assert _report(db, date(2026, 2, 27)).permits.denominator == earlier[date(2026, 2, 27)]
    assert _report(db, date(2026, 2, 28)).permits.denominator == earlier[date(2026, 2, 28)] + 1


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
