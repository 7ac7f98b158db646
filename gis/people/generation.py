"""Generated residents for the demo and the benchmarks: households drawn per house, vectorised.

Deterministic for a seed, a reference date and a list of houses. Never real people: names are
drawn from common surname and given-name lists, ID numbers are valid (real county codes in use
in the birth year, real dates, GB 11643 check characters) but random.

What lives where (DESIGN §7, the seeds' reports):

- urban-village rooms (small let rooms, ``is_rented``): 97% let to 1-3 tenants, nearly all
  floating; each village building's last room is its landlord's home (a local family), and the
  landlord is recorded on the other rooms;
- estate flats: 85% occupied by families of 1-5; a share of the flats is let to floating
  families, tuned so the district's floating share meets the city's (Shenzhen 65%, Baiyin 23%);
  a few households are from overseas;
- dormitories hold 4-8 workers; offices, shops and malls hold nobody.

History for time travel and the quality rates comes from :mod:`gis.people.tenancy`.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from gis.people import tenancy
from gis.people.counties import CountyTable
from gis.people.generated import (
    DORM,
    FLAT,
    LANDLORD,
    NONE,
    ROOM,
    Bools,
    Days,
    Generated,
    Houses,
    Ints,
    People,
    Residences,
    Strs,
    nothing,
)
from gis.people.names import (
    DEFAULT_FLOATING_SHARE,
    EDUCATION_ADULT,
    FLOATING_SHARES,
    GIVEN_FEMALE,
    GIVEN_MALE,
    OCCUPATIONS_ADULT,
    SURNAMES,
)
from gis.people.periods import WorkCalendar

ROOM_MAX_M2 = 40.0
OCCUPIED = {ROOM: 0.97, LANDLORD: 1.0, FLAT: 0.85, DORM: 0.9}
MISSING_ID_SHARE = 0.006
DUPLICATE_ID_SHARE = 0.001
_CHECK = np.array(list("10X98765432"))
_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)


def _choice(rng: np.random.Generator, items: tuple[tuple[str, float], ...], size: int) -> Strs:
    values = np.array([item for item, _ in items])
    weights = np.array([weight for _, weight in items], dtype=np.float64)
    return values[rng.choice(len(values), size=size, p=weights / weights.sum())]


def household_types(houses: Houses) -> Ints:
    """ROOM, LANDLORD (a village building's last room), FLAT, DORM or NONE per house."""
    if len(houses) == 0:
        return np.zeros(0, dtype=np.int64)
    residential = np.isin(houses.use, ["residential", "mixed"])
    room = residential & houses.is_rented & (houses.area_m2 <= ROOM_MAX_M2)
    kinds = np.full(len(houses), NONE, dtype=np.int64)
    kinds[residential] = FLAT
    kinds[room] = ROOM
    kinds[houses.use == "dorm"] = DORM
    last_of_building = np.append(houses.building_uid[1:] != houses.building_uid[:-1], True)
    _, inverse = np.unique(houses.building_uid, return_inverse=True)
    has_rooms = (np.bincount(inverse, weights=room.astype(np.float64)) > 0)[inverse]
    kinds[last_of_building & has_rooms & room] = LANDLORD
    return kinds


def floating_rates(share: float) -> tuple[float, float, float]:
    """Floating shares of room tenants, flat tenants and flat owners for a city whose residents
    are ``share`` floating: in Shenzhen nearly every room tenant, in Baiyin about half."""
    return float(np.clip(2 * share, 0.3, 0.95)), float(np.clip(share + 0.3, 0.4, 0.9)), 0.12


def flat_rent_share(kinds: Ints, floating_share: float) -> float:
    """The share of flats let (to families mostly floating) that brings the expected floating
    share of all residents to ``floating_share`` (clipped to 0-0.95)."""
    room_rate, tenant_rate, owner_rate = floating_rates(floating_share)
    rooms = np.count_nonzero(kinds == ROOM) * 0.97 * 1.55
    landlords = np.count_nonzero(kinds == LANDLORD) * 2.45
    flats = np.count_nonzero(kinds == FLAT) * 0.85 * 2.75
    dorms = np.count_nonzero(kinds == DORM) * 0.9 * 6
    if flats == 0:
        return 0.0
    total = rooms + landlords + flats + dorms
    floating_without = rooms * room_rate + dorms + flats * owner_rate
    share = (floating_share * total - floating_without) / (flats * (tenant_rate - owner_rate))
    return float(np.clip(share, 0.0, 0.95))


def _sizes(rng: np.random.Generator, kinds: Ints, rent: Bools) -> Ints:
    draw = rng.random(len(kinds))
    cumulative = {
        ROOM: [0.55, 0.90, 1.0],
        LANDLORD: [0.2, 0.55, 0.85, 1.0],
        FLAT: [0.12, 0.40, 0.72, 0.90, 1.0],
    }
    sizes = np.zeros(len(kinds), dtype=np.int64)
    for kind, steps in cumulative.items():
        where = (kinds == kind) & ~((kind == FLAT) & rent)
        sizes[where] = np.searchsorted(steps, draw[where], side="right") + 1
    tenants = (kinds == FLAT) & rent
    sizes[tenants] = np.searchsorted([0.25, 0.60, 0.88, 1.0], draw[tenants], side="right") + 1
    dorm = kinds == DORM
    sizes[dorm] = rng.integers(4, 9, size=int(dorm.sum()))
    return sizes


def _ages(rng: np.random.Generator, kind: Ints, member: Ints, head_age: Ints) -> Ints:
    """Household heads, partners (±4 years), children (22-35 years younger), a grandparent;
    flatmates and dormitory workers of working age."""
    n = len(member)
    spread = rng.integers(-4, 5, size=n)
    family = np.isin(kind, [LANDLORD, FLAT])
    ages = np.where(member == 1, np.clip(head_age + spread, 18, 95), head_age)
    children = family & ((member == 2) | (member == 3))
    ages = np.where(children, np.clip(head_age - rng.integers(22, 36, size=n), 0, 60), ages)
    ages = np.where(family & (member == 4), np.clip(head_age + 26 + spread, 50, 99), ages)
    shared = np.isin(kind, [ROOM, DORM]) & (member >= 1)
    return np.where(shared, np.clip(head_age + 2 * spread, 17, 70), ages)


def citizen_ids(rng: np.random.Generator, regions: Strs, births: Days, male: Bools) -> Strs:
    """Valid ID numbers: region, birth date, a sequence (odd for men), the check character."""
    seq = rng.integers(0, 500, size=len(regions)) * 2 + male.astype(np.int64)
    ymd = np.strings.replace(births.astype("datetime64[D]").astype(str), "-", "")
    body = np.strings.add(np.strings.add(regions, ymd), np.strings.zfill(seq.astype(str), 3))
    digits = np.frombuffer(body.astype("S17").tobytes(), dtype=np.uint8).reshape(-1, 17)
    check = _CHECK[((digits.astype(np.int64) - 48) @ _WEIGHTS) % 11]
    return np.strings.add(body, check)


def _names(rng: np.random.Generator, male: Bools) -> Strs:
    n = len(male)
    pool_m, pool_f = np.array(GIVEN_MALE), np.array(GIVEN_FEMALE)

    def one() -> Strs:
        return np.where(
            male, pool_m[rng.integers(0, len(pool_m), n)], pool_f[rng.integers(0, len(pool_f), n)]
        )

    first, second = one(), one()
    given = np.where(rng.random(n) < 0.6, np.strings.add(first, second), first)
    return np.strings.add(_choice(rng, SURNAMES, n), given)


def _phones(rng: np.random.Generator, ages: Ints) -> Strs:
    n = len(ages)
    prefix = np.array(["13", "15", "17", "18", "19"])
    head = prefix[rng.choice(5, n, p=[0.35, 0.25, 0.1, 0.25, 0.05])]
    rest = np.strings.zfill(rng.integers(0, 10**9, n).astype(str), 9)
    has_phone = (ages >= 14) & ((ages < 70) | (rng.random(n) < 0.5))
    return np.where(has_phone, np.strings.add(head, rest), "")


def generate_residents(
    houses: Houses,
    *,
    seed: int,
    as_of: date,
    counties: CountyTable,
    calendar: WorkCalendar,
    floating_share: float | None = None,
) -> Generated:
    """People for ``houses`` (see the module docstring); no database involved."""
    if len(houses) == 0:
        return nothing()
    rng = np.random.default_rng(seed)
    today = np.datetime64(as_of, "D")
    city = str(houses.district_code[0])[:4] if len(houses) else ""
    share = (
        FLOATING_SHARES.get(city, DEFAULT_FLOATING_SHARE)
        if floating_share is None
        else floating_share
    )
    kinds = household_types(houses)
    n_h = len(houses)
    rent = (kinds == FLAT) & (rng.random(n_h) < flat_rent_share(kinds, share))
    occupancy = np.select([kinds == k for k in OCCUPIED], list(OCCUPIED.values()), 0.0)
    occupancy = np.where(rent, OCCUPIED[ROOM], occupancy)  # a let flat is let to someone
    sizes = np.where(rng.random(n_h) < occupancy, _sizes(rng, kinds, rent), 0)
    room_rate, tenant_rate, owner_rate = floating_rates(share)
    floating_p = np.select(
        [kinds == ROOM, (kinds == FLAT) & rent, kinds == FLAT, kinds == DORM],
        [room_rate, tenant_rate, owner_rate, 1.0],
        0.0,
    )
    hh_overseas = (kinds == FLAT) & (rng.random(n_h) < 0.004)
    hh_floating = (rng.random(n_h) < floating_p) & ~hh_overseas
    head_age = np.select(
        [kinds == ROOM, kinds == LANDLORD, (kinds == FLAT) & ~rent, kinds == FLAT],
        [rng.integers(18, 46, n_h), rng.integers(45, 76, n_h), rng.integers(30, 71, n_h),
         rng.integers(24, 51, n_h)],
        rng.integers(18, 41, n_h),
    )  # fmt: skip
    is_let = (kinds == ROOM) | rent | (kinds == DORM)
    tenancy_days = np.minimum(rng.exponential(np.where(kinds == ROOM, 420, 700)), 8 * 365)
    stay = np.where(is_let, tenancy_days.astype(np.int64), rng.integers(60, 26 * 365, n_h))
    hh_start = today - stay.astype("timedelta64[D]")
    # one row per person
    hh = np.repeat(np.arange(n_h), sizes)
    first_member = np.cumsum(sizes) - sizes
    member = np.arange(len(hh)) - first_member[hh]
    n = len(hh)
    kind = kinds[hh]
    ages = _ages(rng, kind, member, head_age[hh])
    head_male = rng.random(n_h) < np.where(kinds == ROOM, 0.55, 0.6)
    male = np.where(member == 0, head_male[hh], rng.random(n) < 0.5)
    male = np.where((member == 1) & np.isin(kind, [LANDLORD, FLAT]), ~head_male[hh], male)
    birth = today - (ages * 365 + rng.integers(0, 365, n)).astype("timedelta64[D]")
    floating, overseas = hh_floating[hh], hh_overseas[hh]
    local = ~floating & ~overseas
    years = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    home = counties.sample_origins(rng, city=city, years=years)
    region = np.where(
        local & (years >= 1992),
        counties.sample_in_city(rng, city=city, years=years, fallback=home),
        home,
    )
    ids = counties.make_unique(rng, citizen_ids(rng, region, birth, male), male=male)
    # the data problems the accuracy rate measures: a few registered without an ID number, a
    # few under another person's number (a typing error in an old ledger)
    ids = np.where(rng.random(n) < MISSING_ID_SHARE, "", ids)
    copied = rng.random(n) < DUPLICATE_ID_SHARE
    ids = np.where(copied, ids[rng.integers(0, max(n, 1), n)], ids)
    passports = np.strings.add("E", np.strings.zfill(rng.integers(0, 10**8, n).astype(str), 8))
    hukou = np.where(local, houses.community_code[hh], np.strings.ljust(region, 12, "0"))
    adult = ages >= 18
    occupation = np.where(
        adult, _choice(rng, OCCUPATIONS_ADULT, n), np.where(ages >= 6, "学生", "")
    )
    education = np.where(adult, _choice(rng, EDUCATION_ADULT, n), np.where(ages >= 6, "在读", ""))
    people = People(
        name=_names(rng, male),
        id_number=np.where(overseas, passports, ids),
        sex=np.where(male, "M", "F"),
        birth=birth,
        phone=_phones(rng, ages),
        category=np.where(overseas, "overseas", np.where(floating, "floating", "hukou")),
        hukou_division_code=np.where(overseas, "", hukou),
        hukou_address=np.where(overseas, "", counties.addresses(rng, hukou, local=local)),
        occupation=np.where(ages >= 62, "退休", occupation),
        education=education,
        is_key_person=adult & (rng.random(n) < 0.003),
        district_code=houses.district_code[hh],
    )
    # current residences, one per person
    let = is_let[hh] & (kind != DORM)
    start = np.maximum(hh_start[hh], birth)
    by = np.where(
        let,
        _choice(rng, (("landlord", 75), ("self", 15), ("officer", 10)), n),
        _choice(rng, (("self", 70), ("officer", 30)), n),
    )
    draw = rng.random(n)
    delay = np.where(
        draw < 0.85,
        rng.integers(0, 3, n),
        np.where(draw < 0.97, rng.integers(3, 8, n), rng.integers(8, 60, n)),
    )
    declared = np.minimum(start + delay.astype("timedelta64[D]"), today)
    current = Residences(
        person=np.arange(n),
        house=hh,
        start=start,
        end=np.full(n, tenancy.NAT_DAY),
        kind=np.select(
            [let, kind == DORM, member == 0], ["tenant", "dormitory", "owner"], "family"
        ),
        declared_by=by,
        declared_at=tenancy.stamp(declared, rng),
        deregistered_at=np.full(n, tenancy.NAT_STAMP),
    )
    earlier = tenancy.earlier_residences(
        rng, kinds=kinds, person_house=hh, member=member, birth=birth, start=start, today=today
    )
    declarations = tenancy.declarations(
        rng, residences=current, let=let, calendar=calendar, today=today
    )
    head_of_house = np.where(sizes > 0, first_member, -1)
    let_houses, let_landlords, homes = tenancy.lettings(
        houses, kinds=kinds, rent=rent, head_of_house=head_of_house
    )
    return Generated(
        people=people,
        residences=tenancy.concat(current, earlier),
        declarations=declarations,
        let_houses=let_houses,
        let_landlords=let_landlords,
        landlord_homes=homes,
    )
