"""Indicators per grid on a date, from the database (counts) to :class:`Indicators`.

When no residence is registered in a district yet, households are the dwellings (residential,
mixed and dorm houses) and ``households_estimated`` says so; residents stay 0 (never invented).
Open events are the events reported in the grid and not closed or rejected on the date; plan
grids (drafts) count none.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from gis.events import queries as event_queries
from gis.events.move_queries import move_due_events
from gis.grids import building_counts, indicator_queries, placing, snapshot_queries
from gis.grids.schemas import Indicators


def to_indicators(raw: dict[str, Any], *, estimated: bool) -> Indicators:
    """One grid's counts (a row of ``indicator_queries``) as indicators."""
    return Indicators(
        buildings=int(raw["buildings"]),
        houses=int(raw["houses"]),
        households=int(raw["dwellings"] if estimated else raw["households"]),
        resident_count=int(raw["residents"]),
        floating_count=int(raw["floating"]),
        rented_houses=int(raw["rented_houses"]),
        large_rentals=int(raw["large_rentals"]),
        organizations=int(raw["organizations"]),
        key_person_count=int(raw["key_persons"]),
        open_events=int(raw.get("open_events", 0)),
        households_estimated=estimated,
        moved_buildings=int(raw["moved_buildings"]),
        moved_households=int(raw["moved_dwellings"] if estimated else raw["moved_households"]),
        moved_residents=int(raw["moved_residents"]),
    )


def estimated_districts(session: Session, *, districts: Sequence[str]) -> dict[str, bool]:
    """For each district: True when households must be estimated (no residences yet)."""
    return {
        district: not indicator_queries.district_has_residences(session, district_code=district)
        for district in sorted(set(districts))
    }


def measure_live_grids(
    session: Session, *, grids: Sequence[tuple[Any, str]], on: date
) -> dict[str, Indicators]:
    """Indicators of live grid versions, given as ``(uid, community_code)``; keyed by uid text."""
    estimated = estimated_districts(session, districts=[c[:6] for _, c in grids])
    uids = [uid for uid, _ in grids]
    raw = measure_live(session, uids=uids, on=on)
    move_due_events(session)  # open events in today's grids (gis/events/move_queries.py)
    open_events = event_queries.open_events_per_grid(session, uids=uids, on=on)
    for key, row in raw.items():
        row["open_events"] = open_events.get(key, 0)
    return {
        str(uid): to_indicators(raw[str(uid)], estimated=estimated[community[:6]])
        for uid, community in grids
    }


def measure_live(session: Session, *, uids: Sequence[Any], on: date) -> dict[str, dict[str, int]]:
    """Raw counts per live grid version (keyed by uid as text), every grid in one pass: each
    grid's buildings as kept (``gis.grids.placing``: found again only for grids whose buildings
    may have changed), summed from the buildings' kept counts (``gis.grids.building_counts``:
    only the buildings that changed are counted again)."""
    keys = [str(uid) for uid in uids]
    counts = {
        key: dict.fromkeys(indicator_queries.COUNTS + indicator_queries.NOT_MOVED, 0)
        for key in keys
    }
    found = indicator_queries.select_live_grids(session, keys=keys)
    if not found:
        return counts
    placing.place_buildings(session, grids=found)
    for row in building_counts.count_grids(session, grids=found, on=on):
        counts[found[row.pop("grid")]].update(row)
    return counts


def measure_plan_grids(
    session: Session, *, ids: Sequence[int], district_code: str
) -> dict[int, Indicators]:
    """Indicators of plan grids (with the counts that would change grid), keyed by id, summed
    from the plan's building snapshot."""
    estimated = estimated_districts(session, districts=[district_code])[district_code]
    raw = snapshot_queries.measure_plan_grids(session, ids=ids)
    return {int(key): to_indicators(row, estimated=estimated) for key, row in raw.items()}
