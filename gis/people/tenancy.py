"""The records around generated households: earlier residences of people who moved within the
district, landlords' declarations, and which houses are let by whom (vectorised).

Rates chosen to sit near the seeds' reports: 93% of departures deregistered within 7 days, 4%
later, 3% never; 90% of declarations on time, 6% late, 4% still missing (recent arrivals).
"""

from __future__ import annotations

import numpy as np

from gis.people.generated import (
    FLAT,
    LANDLORD,
    ROOM,
    Bools,
    Days,
    Declarations,
    Houses,
    Ints,
    Residences,
    Stamps,
)
from gis.people.periods import WorkCalendar

MOVED_SHARE = 0.12
"""Share of room tenants (household heads) who lived in another room of the district before."""
NAT_DAY = np.datetime64("NaT", "D")
NAT_STAMP = np.datetime64("NaT", "s")


def stamp(days: Days, rng: np.random.Generator) -> Stamps:
    """A time of day during office hours on each day (China time, as naive timestamps)."""
    office = rng.integers(9 * 3600, 18 * 3600, len(days)).astype("timedelta64[s]")
    stamps: Stamps = days.astype("datetime64[s]") + office
    return stamps


def _delays(rng: np.random.Generator, n: int, *, late: float, never: float) -> Ints:
    """Days until something was done: mostly 0-7, ``late`` 8-40, ``never`` -1."""
    draw = rng.random(n)
    days = np.where(draw < 1 - late - never, rng.integers(0, 8, n), rng.integers(8, 41, n))
    return np.where(draw >= 1 - never, -1, days)


def earlier_residences(
    rng: np.random.Generator,
    *,
    kinds: Ints,
    person_house: Ints,
    member: Ints,
    birth: Days,
    start: Days,
    today: np.datetime64,
) -> Residences:
    """Residences in other rooms that room tenants left when they moved to their current one."""
    rooms = np.flatnonzero(kinds == ROOM)
    heads = np.flatnonzero((member == 0) & (kinds[person_house] == ROOM))
    movers = heads[rng.random(len(heads)) < MOVED_SHARE]
    if len(rooms) < 2 or len(movers) == 0:
        empty_i, empty_d = np.zeros(0, np.int64), np.zeros(0, "datetime64[D]")
        empty_s, empty_t = np.zeros(0, "U9"), np.zeros(0, "datetime64[s]")
        return Residences(empty_i, empty_i, empty_d, empty_d, empty_s, empty_s, empty_t, empty_t)
    end = start[movers]
    earlier = end - (30 + rng.exponential(400, len(movers)).astype(np.int64)).astype(
        "timedelta64[D]"
    )
    earlier = np.maximum(earlier, birth[movers] + np.timedelta64(16 * 365, "D"))
    keep = earlier < end
    movers, end, earlier = movers[keep], end[keep], earlier[keep]
    house = rooms[rng.integers(0, len(rooms), len(movers))]
    house = np.where(house == person_house[movers], rooms[0], house)
    delay = _delays(rng, len(movers), late=0.04, never=0.03)
    done = np.minimum(end + np.maximum(delay, 0).astype("timedelta64[D]"), today)
    deregistered = np.where(delay < 0, NAT_STAMP, stamp(done, rng))
    n = len(movers)
    return Residences(
        person=movers,
        house=house,
        start=earlier,
        end=end,
        kind=np.full(n, "tenant"),
        declared_by=np.full(n, "landlord"),
        declared_at=stamp(earlier + rng.integers(0, 3, n).astype("timedelta64[D]"), rng),
        deregistered_at=deregistered,
    )


def declarations(
    rng: np.random.Generator,
    *,
    residences: Residences,
    let: Bools,
    calendar: WorkCalendar,
    today: np.datetime64,
) -> Declarations:
    """A landlord declaration for each current tenant of a let house: made with the
    registration when the landlord registered, else on time, late, or (recent ones) not yet."""
    index = np.flatnonzero(let & (residences.kind == "tenant") & np.isnat(residences.end))
    moved_in = residences.start[index]
    due = calendar.add_working_days_many(moved_in)
    n = len(index)
    draw = rng.random(n)
    on_time = due - rng.integers(0, 3, n).astype("timedelta64[D]")
    on_time = np.maximum(on_time, moved_in)
    late = due + rng.integers(1, 21, n).astype("timedelta64[D]")
    recent = moved_in > today - np.timedelta64(90, "D")
    made = np.where(draw < 0.90, on_time, late)
    made_at = stamp(made, rng)
    made_at = np.where(recent & (draw >= 0.96), NAT_STAMP, made_at)
    by_landlord = residences.declared_by[index] == "landlord"
    made_at = np.where(by_landlord, residences.declared_at[index], made_at)
    made_at = np.where(made_at > stamp(np.array([today]), rng)[0], NAT_STAMP, made_at)
    return Declarations(residence=index, due_on=due, declared_at=made_at)


def lettings(
    houses: Houses, *, kinds: Ints, rent: Bools, head_of_house: Ints
) -> tuple[Ints, Ints, Ints]:
    """Houses to mark let (with the building's landlord for village rooms), and landlords'
    own homes (no longer let)."""
    homes = np.flatnonzero(kinds == LANDLORD)
    landlord_buildings = houses.building_uid[homes]
    order = np.argsort(landlord_buildings)
    rooms = np.flatnonzero(kinds == ROOM)
    position = np.searchsorted(landlord_buildings[order], houses.building_uid[rooms])
    position = np.clip(position, 0, max(len(order) - 1, 0))
    if len(order):
        found = landlord_buildings[order][position] == houses.building_uid[rooms]
        landlord_house = np.where(found, homes[order][position], -1)
    else:
        landlord_house = np.full(len(rooms), -1)
    room_landlords = np.where(landlord_house >= 0, head_of_house[np.maximum(landlord_house, 0)], -1)
    flats = np.flatnonzero((kinds == FLAT) & rent)
    let_houses = np.concatenate([rooms, flats])
    let_landlords = np.concatenate([room_landlords, np.full(len(flats), -1)])
    return let_houses, let_landlords, homes


def concat(first: Residences, second: Residences) -> Residences:
    def join(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([a, b.astype(a.dtype)])

    return Residences(
        person=join(first.person, second.person),
        house=join(first.house, second.house),
        start=join(first.start, second.start),
        end=join(first.end, second.end),
        kind=np.concatenate([first.kind.astype("U9"), second.kind.astype("U9")]),
        declared_by=np.concatenate(
            [first.declared_by.astype("U8"), second.declared_by.astype("U8")]
        ),
        declared_at=join(first.declared_at, second.declared_at),
        deregistered_at=join(first.deregistered_at, second.deregistered_at),
    )
