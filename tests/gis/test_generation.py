"""Generated residents: deterministic, valid, realistic where it matters (who lives where, the
floating share of the city), and loaded only once."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.orm import Session

from gis.people.counties import CountyTable
from gis.people.crypto import PeopleCipher
from gis.people.generated import Generated, Houses
from gis.people.generation import generate_residents
from gis.people.identity import parse_citizen_id
from gis.people.periods import WorkCalendar
from gis.people.populate import populate
from tests.access_world import World

AS_OF = date(2026, 11, 22)


@lru_cache(maxsize=1)
def _counties(divisions: Path) -> CountyTable:
    return CountyTable.load(divisions)


def _houses(district: str, *, villages: int = 60, estates: int = 60, offices: int = 10) -> Houses:
    """Village buildings of 20 let rooms, estate buildings of 30 flats, office towers."""
    rows: list[tuple[str, str, str, bool, float]] = []
    for b in range(villages + estates + offices):
        kind = "village" if b < villages else ("estate" if b < villages + estates else "office")
        for unit in range({"village": 20, "estate": 30, "office": 10}[kind]):
            use = "office" if kind == "office" else "residential"
            area = {"village": 25.0, "estate": 90.0, "office": 500.0}[kind]
            rows.append((f"h{b:04d}-{unit:03d}", f"b{b:04d}", use, kind == "village", area))
    n = len(rows)
    return Houses(
        uid=np.array([r[0] for r in rows]), building_uid=np.array([r[1] for r in rows]),
        use=np.array([r[2] for r in rows]), is_rented=np.array([r[3] for r in rows]),
        area_m2=np.array([r[4] for r in rows]), district_code=np.full(n, district),
        community_code=np.full(n, district + "005001"),
    )  # fmt: skip


def _generate(
    shared_data: Path, district: str = "440305", seed: int = 1
) -> tuple[Houses, Generated]:
    houses = _houses(district)
    generated = generate_residents(
        houses, seed=seed, as_of=AS_OF, counties=_counties(shared_data / "divisions"),
        calendar=WorkCalendar(),
    )  # fmt: skip
    return houses, generated


def test_the_same_seed_gives_the_same_people(shared_data: Path) -> None:
    _, first = _generate(shared_data)
    _, second = _generate(shared_data)
    _, other = _generate(shared_data, seed=2)
    for column in ("name", "id_number", "birth", "phone", "category"):
        assert np.array_equal(getattr(first.people, column), getattr(second.people, column))
    assert np.array_equal(first.residences.start, second.residences.start)
    assert not np.array_equal(first.people.name[:100], other.people.name[:100])


def test_id_numbers_are_valid_and_match_sex_and_birth(shared_data: Path) -> None:
    _, generated = _generate(shared_data)
    people = generated.people
    _, inverse, counts = np.unique(people.id_number, return_inverse=True, return_counts=True)
    once = counts[inverse] == 1  # (the planted duplicates carry another person's number)
    citizens = np.flatnonzero((people.category != "overseas") & (people.id_number != "") & once)
    assert len(citizens) > 0.95 * len(people)
    for i in citizens:
        parsed = parse_citizen_id(str(people.id_number[i]), today=AS_OF)
        assert parsed.sex == people.sex[i]
        assert np.datetime64(parsed.birth_date) == people.birth[i]
    # a few registered without a number or under another's: what the accuracy rate measures
    missing = np.count_nonzero(people.id_number == "") / len(people)
    _, counts = np.unique(people.id_number[people.id_number != ""], return_counts=True)
    assert 0 < missing < 0.02 and 0 < np.count_nonzero(counts > 1) < 0.005 * len(people)


def test_who_lives_where(shared_data: Path) -> None:
    houses, generated = _generate(shared_data)
    people, residences = generated.people, generated.residences
    current = np.isnat(residences.end)
    house_of = residences.house[current]
    person_of = residences.person[current]
    use = houses.use[house_of]
    assert not (use == "office").any(), "offices hold nobody"
    room = houses.area_m2[house_of] == 25.0
    floating = people.category[person_of] == "floating"
    assert floating[room & (residences.kind[current] == "tenant")].mean() > 0.9
    share = (people.category == "floating").mean()
    assert 0.55 < share < 0.75, share  # Shenzhen: a majority
    ages = (np.datetime64(AS_OF) - people.birth).astype(int) / 365.25
    assert ages.min() >= 0 and ages.max() < 100 and 25 < np.median(ages) < 45
    families = np.bincount(house_of[~room], minlength=len(houses))
    assert families[families > 0].mean() > 2  # estates hold families
    # every let village room names its landlord, who lives in the same building
    let_rooms = generated.let_houses[generated.let_landlords >= 0]
    landlords = generated.let_landlords[generated.let_landlords >= 0]
    home = dict(zip(person_of.tolist(), house_of.tolist(), strict=True))
    assert len(let_rooms) > 1000
    assert all(
        houses.building_uid[home[p]] == houses.building_uid[h]
        for p, h in zip(landlords, let_rooms, strict=True)
    )


def test_earlier_residences_end_where_the_next_begins(shared_data: Path) -> None:
    _, generated = _generate(shared_data)
    residences = generated.residences
    earlier = np.flatnonzero(~np.isnat(residences.end))
    assert len(earlier) > 50
    current_start = {
        p: s
        for p, s, e in zip(residences.person, residences.start, residences.end, strict=True)
        if np.isnat(e)
    }
    for i in earlier:
        assert residences.start[i] < residences.end[i] == current_start[residences.person[i]]
    late = np.isnat(residences.deregistered_at[earlier]).mean()
    assert late < 0.1  # most departures were deregistered
    declarations = generated.declarations
    assert (declarations.due_on > residences.start[declarations.residence]).all()


def test_baiyin_has_its_own_floating_share(shared_data: Path) -> None:
    _, generated = _generate(shared_data, district="620402")
    share = (generated.people.category == "floating").mean()
    assert 0.15 < share < 0.33, share


def test_populating_twice_loads_once(
    db: Session, cipher: PeopleCipher, world: World, shared_data: Path
) -> None:
    first = populate(
        db,
        cipher=cipher,
        communities=["990101001002"],
        divisions_dir=shared_data / "divisions",
        as_of=AS_OF,
    )
    assert first.skipped  # the world's resident of that community is there already
    report = populate(
        db,
        cipher=cipher,
        communities=["990102001001", "990101001001"],
        divisions_dir=shared_data / "divisions",
        as_of=AS_OF,
    )
    assert report.skipped


@pytest.mark.parametrize("district", ["440305"])
def test_an_empty_list_of_houses_gives_nobody(shared_data: Path, district: str) -> None:
    houses = _houses(district, villages=0, estates=0, offices=0)
    generated = generate_residents(
        houses,
        seed=1,
        as_of=AS_OF,
        counties=_counties(shared_data / "divisions"),
        calendar=WorkCalendar(),
    )
    assert len(generated.people) == 0 and len(generated.residences) == 0
