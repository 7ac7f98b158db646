"""Residence permits: 6 months before a permit, numbers, the endorsement window, expiry, and
reminders that list exactly the permits due; the permit rate in data quality."""

from __future__ import annotations

import threading
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.db import make_engine
from gis.errors import Conflict, InvalidInput, NotFound
from gis.events import permits
from gis.events.models import ResidencePermit
from gis.houses.models import House
from gis.people import quality
from gis.people.crypto import PeopleCipher
from gis.people.models import Person, PersonCategory
from gis.users.models import Role
from tests.access_world import GRID_OWN, World, build_world
from tests.events_world import add_permit
from tests.people_world import add_people_world, add_person, add_residence, citizen_id

OFFICER = Scope(user_name="t_officer", role=Role.OFFICER, grid_codes=frozenset({GRID_OWN}))
TODAY = date(2026, 11, 22)


@pytest.fixture
def world(db: Session, cipher: PeopleCipher) -> World:
    """The access-control world with its people (no grid plans: these tests need none)."""
    return add_people_world(db, build_world(db), cipher)


def _house(db: Session, world: World, key: str = "house_own_2") -> House:
    return db.scalars(select(House).where(House.code == world.objects[key]["own"])).one()


def _resident(
    db: Session, cipher: PeopleCipher, house: House, since: date, seq: int,
    until: date | None = None,
) -> Person:  # fmt: skip
    person = add_person(db, cipher, name=f"居民{seq}", phone=None, birth=date(1990, 1, 1),
                        id_number=citizen_id("110105", date(1990, 1, 1), seq))  # fmt: skip
    db.flush()
    add_residence(db, person=person, house=house, since=since, until=until)
    db.flush()
    return person


def test_no_permit_before_six_months_of_residence(
    db: Session, world: World, cipher: PeopleCipher
) -> None:
    person = _resident(db, cipher, _house(db, world), date(2026, 1, 10), 301)
    with pytest.raises(InvalidInput) as refused:
        permits.issue_permit(db, scope=OFFICER, person_uid=str(person.uid),
                             issued_on=date(2026, 7, 9), today=TODAY)  # fmt: skip
    assert str(refused.value) == (
        "issued_on: not eligible on 2026-07-09: registered in the city since 2026-01-10, and a "
        "permit needs 6 months of residence (eligible from 2026-07-10)"
    )
    permit = permits.issue_permit(db, scope=OFFICER, person_uid=str(person.uid),
                                  issued_on=date(2026, 7, 10), today=TODAY)  # fmt: skip
    assert permit.number.startswith("9901012026") and len(permit.number) == 18
    assert (permit.endorsed_until, permit.expires_on) == (date(2027, 7, 10), date(2029, 7, 10))
    with pytest.raises(Conflict, match=f"already holds residence permit {permit.number}"):
        permits.issue_permit(db, scope=OFFICER, person_uid=str(person.uid), issued_on=None,
                             today=TODAY)  # fmt: skip


def test_no_second_permit_overlapping_the_first_even_backdated(
    db: Session, world: World, cipher: PeopleCipher
) -> None:
    person = _resident(db, cipher, _house(db, world), date(2024, 1, 1), 305)
    first = permits.issue_permit(db, scope=OFFICER, person_uid=str(person.uid),
                                 issued_on=date(2025, 6, 1), today=TODAY)  # fmt: skip
    assert first.endorsed_until == date(2026, 6, 1)
    for backdated in (date(2025, 1, 15), date(2024, 7, 1), date(2026, 5, 31)):
        with pytest.raises(Conflict) as refused:
            permits.issue_permit(db, scope=OFFICER, person_uid=str(person.uid),
                                 issued_on=backdated, today=TODAY)  # fmt: skip
        assert str(refused.value) == (
            f"person_uid: the person already holds residence permit {first.number}, valid from "
            f"2025-06-01 until 2026-06-01, which overlaps a permit issued on {backdated}"
        )
    # once the first lapsed (not endorsed), a new one may be issued
    second = permits.issue_permit(db, scope=OFFICER, person_uid=str(person.uid),
                                  issued_on=date(2026, 6, 1), today=TODAY)  # fmt: skip
    assert second.number != first.number
    # an endorsement of the first recorded late, dated inside its window, would make two
    # valid permits at once: refused, the first stays lapsed
    with pytest.raises(Conflict) as late:
        permits.endorse_permit(db, scope=OFFICER, number=first.number,
                               endorsed_on=date(2026, 5, 20), today=TODAY)  # fmt: skip
    assert str(late.value) == (
        f"number: the holder has residence permit {second.number}, valid from 2026-06-01 until "
        f"2027-06-01: permit {first.number} lapsed on 2026-06-01 and cannot be endorsed past it"
    )
    db.expire_all()
    kept = permits.get_permit(db, scope=OFFICER, number=first.number, today=TODAY)
    assert (kept.endorsed_until, kept.endorsements) == (date(2026, 6, 1), 0)


def test_a_move_inside_the_city_keeps_the_count_and_a_gap_restarts_it(
    db: Session, world: World, cipher: PeopleCipher
) -> None:
    own, second = _house(db, world, "houses"), _house(db, world)
    mover = _resident(db, cipher, own, date(2025, 1, 1), 302, until=date(2025, 3, 1))
    add_residence(db, person=mover, house=second, since=date(2025, 3, 1))
    db.flush()
    assert permits.issue_permit(db, scope=OFFICER, person_uid=str(mover.uid),
                                issued_on=date(2025, 7, 1), today=TODAY).number  # fmt: skip
    returner = _resident(db, cipher, own, date(2025, 1, 1), 303, until=date(2025, 3, 1))
    add_residence(db, person=returner, house=second, since=date(2025, 3, 2))
    db.flush()
    with pytest.raises(InvalidInput, match="since 2025-03-02"):
        permits.issue_permit(db, scope=OFFICER, person_uid=str(returner.uid),
                             issued_on=date(2025, 7, 1), today=TODAY)  # fmt: skip


def test_who_may_have_a_permit(db: Session, world: World, cipher: PeopleCipher) -> None:
    local = _resident(db, cipher, _house(db, world), date(2020, 1, 1), 304)
    local.category = PersonCategory.HUKOU
    with pytest.raises(InvalidInput, match="local hukou needs no residence permit"):
        permits.issue_permit(db, scope=OFFICER, person_uid=str(local.uid), issued_on=None,
                             today=TODAY)  # fmt: skip
    with pytest.raises(InvalidInput, match="cannot be issued in the future"):
        permits.issue_permit(db, scope=OFFICER, person_uid=str(local.uid),
                             issued_on=TODAY + timedelta(days=1), today=TODAY)  # fmt: skip
    canary = world.objects["people"]["other"]  # lives in the far grid: out of scope
    with pytest.raises(NotFound):
        permits.issue_permit(db, scope=OFFICER, person_uid=canary, issued_on=None, today=TODAY)


def test_the_yearly_endorsement_window_and_expiry(
    db: Session, world: World, cipher: PeopleCipher
) -> None:
    person = _resident(db, cipher, _house(db, world), date(2020, 1, 1), 305)
    number = permits.issue_permit(db, scope=OFFICER, person_uid=str(person.uid),
                                  issued_on=date(2024, 12, 1), today=TODAY).number  # fmt: skip
    # due 2025-12-01: the window opens 30 days before
    with pytest.raises(InvalidInput, match=r"too early: .* can be endorsed from 2025-11-01"):
        permits.endorse_permit(db, scope=OFFICER, number=number, endorsed_on=date(2025, 10, 31),
                               today=TODAY)  # fmt: skip
    first = permits.endorse_permit(db, scope=OFFICER, number=number,
                                   endorsed_on=date(2025, 11, 1), today=TODAY)  # fmt: skip
    assert (first.endorsed_until, first.endorsements) == (date(2026, 12, 1), 1)
    second = permits.endorse_permit(db, scope=OFFICER, number=number,
                                    endorsed_on=date(2026, 11, 20), today=TODAY)  # fmt: skip
    assert second.endorsed_until == date(2027, 12, 1) == second.expires_on
    with pytest.raises(Conflict, match="expires on 2027-12-01 and cannot be endorsed past it"):
        permits.endorse_permit(db, scope=OFFICER, number=number, endorsed_on=None, today=TODAY)


def test_a_missed_endorsement_lapses(db: Session, world: World, cipher: PeopleCipher) -> None:
    person = _resident(db, cipher, _house(db, world), date(2020, 1, 1), 306)
    number = permits.issue_permit(db, scope=OFFICER, person_uid=str(person.uid),
                                  issued_on=date(2024, 12, 1), today=TODAY).number  # fmt: skip
    with pytest.raises(Conflict, match="was due before 2025-12-01: it has lapsed"):
        permits.endorse_permit(db, scope=OFFICER, number=number, endorsed_on=date(2025, 12, 1),
                               today=TODAY)  # fmt: skip
    assert permits.get_permit(db, scope=OFFICER, number=number, today=TODAY).is_valid is False


def test_reminders_list_exactly_the_permits_due(
    db: Session, world: World, cipher: PeopleCipher
) -> None:
    house = _house(db, world)
    # 310's endorsement was due today: it has lapsed (valid until the day before), no reminder
    due_in = {307: 1, 308: 30, 309: 31, 310: 0, 311: 12}
    numbers = {}
    for seq, days in due_in.items():
        person = _resident(db, cipher, house, date(2020, 1, 1), seq)
        numbers[seq] = add_permit(db, house_code=house.code, person_uid=str(person.uid),
                                  endorsed_until=TODAY + timedelta(days=days))  # fmt: skip
    # one whose expiry (not its endorsement) comes first, in 5 days
    expiring = _resident(db, cipher, house, date(2020, 1, 1), 312)
    numbers[312] = add_permit(db, house_code=house.code, person_uid=str(expiring.uid),
                              endorsed_until=TODAY + timedelta(days=200))  # fmt: skip
    db.flush()
    from gis.events.models import ResidencePermit

    permit = db.scalars(select(ResidencePermit).where(ResidencePermit.number == numbers[312])).one()
    permit.expires_on = TODAY + timedelta(days=5)
    db.flush()
    reminders = permits.permit_reminders(db, scope=OFFICER, grid_code=GRID_OWN, on=TODAY)
    assert [(r.number, r.due, r.days_left) for r in reminders.items] == [
        (numbers[307], "endorsement", 1),
        (numbers[312], "expiry", 5),
        (numbers[311], "endorsement", 12),
        (numbers[308], "endorsement", 30),
    ]
    with pytest.raises(NotFound):
        permits.permit_reminders(db, scope=OFFICER, grid_code="990102001001001", on=TODAY)


def test_the_permit_rate_reads_the_permits(db: Session, world: World, cipher: PeopleCipher) -> None:
    # the own grid: the world's resident (floating, since 2024) and one more, who gets a permit
    person = _resident(db, cipher, _house(db, world), date(2024, 1, 1), 313)
    permits.issue_permit(db, scope=OFFICER, person_uid=str(person.uid), issued_on=TODAY,
                         today=TODAY)  # fmt: skip
    report = quality.grid_quality(db, scope=Scope.system(), code=GRID_OWN, on=TODAY)
    assert (report.permits.numerator, report.permits.denominator) == (1, 2)
    assert report.permits.value == 0.5 and report.permits.meets is False


def test_two_issues_at_once_give_one_permit(
    committed_world: tuple[str, World], cipher: PeopleCipher
) -> None:
    """Two officers issue a permit to the same person at the same moment (committed data, two
    connections): the second waits on the person's row until the first commits, then sees its
    permit and is refused, so the person never holds two."""
    url, world = committed_world
    engine = make_engine(url, pool_size=2)
    try:
        with Session(engine) as setup:
            person = _resident(setup, cipher, _house(setup, world), date(2024, 1, 1), 307)
            uid = str(person.uid)
            setup.commit()
        outcome: list[object] = []
        with Session(engine) as first, Session(engine) as second:
            issued = permits.issue_permit(
                first, scope=OFFICER, person_uid=uid, issued_on=None, today=TODAY
            )

            def issue_again() -> None:
                try:
                    outcome.append(permits.issue_permit(
                        second, scope=OFFICER, person_uid=uid, issued_on=None, today=TODAY,
                    ))  # fmt: skip
                except Conflict as error:
                    outcome.append(error)
                finally:
                    second.rollback()

            racer = threading.Thread(target=issue_again)
            racer.start()
            racer.join(1.0)
            assert racer.is_alive(), "the second issue did not wait for the first"
            first.commit()
            racer.join(10)
        assert len(outcome) == 1 and isinstance(outcome[0], Conflict)
        assert f"already holds residence permit {issued.number}" in str(outcome[0])
        with Session(engine) as check:
            held = check.scalars(
                select(ResidencePermit.number).where(ResidencePermit.person_uid == uuid.UUID(uid))
            ).all()
        assert held == [issued.number]
    finally:
        engine.dispose()


def test_a_revoked_permit_is_valid_until_its_revocation_and_no_longer_counts(
    db: Session, world: World, cipher: PeopleCipher
) -> None:
    person = _resident(db, cipher, _house(db, world), date(2024, 1, 1), 320)
    number = permits.issue_permit(db, scope=OFFICER, person_uid=str(person.uid),
                                  issued_on=date(2026, 3, 1), today=TODAY).number  # fmt: skip
    with pytest.raises(InvalidInput, match="cannot be dated in the future"):
        permits.revoke_permit(db, scope=OFFICER, number=number, reason="迁出本市",
                              revoked_on=TODAY + timedelta(days=1), today=TODAY)  # fmt: skip
    with pytest.raises(InvalidInput, match="was issued on 2026-03-01, after 2026-02-28"):
        permits.revoke_permit(db, scope=OFFICER, number=number, reason="迁出本市",
                              revoked_on=date(2026, 2, 28), today=TODAY)  # fmt: skip
    police = Scope(user_name="t_police", role=Role.POLICE, division_prefix="990102")
    with pytest.raises(NotFound):  # a permit outside the caller's scope is missing to them
        permits.revoke_permit(db, scope=police, number=number, reason="迁出本市",
                              revoked_on=None, today=TODAY)  # fmt: skip
    revoked = permits.revoke_permit(db, scope=OFFICER, number=number, reason="迁出本市",
                                    revoked_on=date(2026, 9, 1), today=TODAY)  # fmt: skip
    assert (revoked.revoked_on, revoked.revoke_reason, revoked.is_valid) == (
        date(2026, 9, 1),
        "迁出本市",
        False,
    )
    with pytest.raises(Conflict, match="was revoked on 2026-09-01"):
        permits.revoke_permit(db, scope=OFFICER, number=number, reason="again",
                              revoked_on=None, today=TODAY)  # fmt: skip
    with pytest.raises(Conflict, match="was revoked"):
        permits.endorse_permit(db, scope=OFFICER, number=number, endorsed_on=None, today=TODAY)

    # the rate counts it on a day before the revocation, not after
    def held(on: date) -> int:
        report = quality.grid_quality(db, scope=Scope.system(), code=GRID_OWN, on=on)
        assert report.permits.numerator is not None  # never suppressed for the system scope
        return report.permits.numerator

    assert (held(date(2026, 8, 31)), held(date(2026, 9, 1))) == (1, 0)
    # a new permit may be issued from the revocation on, not over the time it was valid
    with pytest.raises(Conflict, match=f"already holds residence permit {number}"):
        permits.issue_permit(db, scope=OFFICER, person_uid=str(person.uid),
                             issued_on=date(2026, 8, 1), today=TODAY)  # fmt: skip
    again = permits.issue_permit(db, scope=OFFICER, person_uid=str(person.uid),
                                 issued_on=date(2026, 9, 1), today=TODAY)  # fmt: skip
    assert again.number != number and again.is_valid


def test_a_permit_no_longer_valid_has_nothing_to_revoke(
    db: Session, world: World, cipher: PeopleCipher
) -> None:
    person = _resident(db, cipher, _house(db, world), date(2020, 1, 1), 321)
    number = permits.issue_permit(db, scope=OFFICER, person_uid=str(person.uid),
                                  issued_on=date(2024, 12, 1), today=TODAY).number  # fmt: skip
    with pytest.raises(Conflict, match="no longer valid from 2025-12-01: there is nothing"):
        permits.revoke_permit(db, scope=OFFICER, number=number, reason="迁出本市",
                              revoked_on=None, today=TODAY)  # fmt: skip
    # the database keeps a revocation with its reason, never one without
    permit = db.scalars(select(ResidencePermit).where(ResidencePermit.number == number)).one()
    permit.revoked_on = date(2025, 6, 1)
    with pytest.raises(IntegrityError, match="ck_residence_permits_revoked_with_reason"):
        db.flush()


def test_a_holder_who_moved_inside_the_city_is_the_new_grids(
    db: Session, world: World, cipher: PeopleCipher
) -> None:
    from tests.access_world import GRID_FAR

    person = _resident(db, cipher, _house(db, world), date(2020, 1, 1), 322,
                       until=date(2026, 11, 1))  # fmt: skip
    far_house = db.scalars(select(House).where(House.code == world.objects["houses"]["other"]))
    add_residence(db, person=person, house=far_house.one(), since=date(2026, 11, 1))
    db.flush()
    number = permits.issue_permit(db, scope=OFFICER, person_uid=str(person.uid),
                                  issued_on=date(2026, 3, 1), today=TODAY).number  # fmt: skip
    far_officer = Scope(user_name="t_far", role=Role.OFFICER, grid_codes=frozenset({GRID_FAR}))
    # the new grid's officer reads it (their reminders list it) and may revoke it
    assert permits.get_permit(db, scope=far_officer, number=number, today=TODAY).is_valid
    # before the move they could not: the holder was not theirs then
    with pytest.raises(NotFound):
        permits.get_permit(db, scope=far_officer, number=number, today=date(2026, 10, 1))
    # the issuing grid keeps the permit it issued on record
    assert permits.get_permit(db, scope=OFFICER, number=number, today=TODAY).number == number
    revoked = permits.revoke_permit(db, scope=far_officer, number=number, reason="迁出本市",
                                    revoked_on=None, today=TODAY)  # fmt: skip
    assert revoked.revoked_on == TODAY
