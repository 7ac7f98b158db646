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

import numpy as np
import numpy.typing as npt
import shapely
from sqlalchemy.orm import Session

from gis.events import queries as event_queries
from gis.grids import building_counts, indicator_queries, snapshot_queries
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
    open_events = event_queries.open_events_per_grid(session, uids=uids, on=on)
    for key, row in raw.items():
        row["open_events"] = open_events.get(key, 0)
    return {
        str(uid): to_indicators(raw[str(uid)], estimated=estimated[community[:6]])
        for uid, community in grids
    }


def measure_live(session: Session, *, uids: Sequence[Any], on: date) -> dict[str, dict[str, int]]:
    """Raw counts per live grid version (keyed by uid as text), every grid in one pass: the
    buildings of each grid first (their points on surface from PostGIS, put in the grids by a
    shapely tree, each grid's polygon prepared once), then summed from the buildings' kept
    counts (``gis.grids.building_counts``: only the buildings that changed are counted again)."""
    keys = [str(uid) for uid in uids]
    counts = {
        key: dict.fromkeys(indicator_queries.COUNTS + indicator_queries.NOT_MOVED, 0)
        for key in keys
    }
    shapes = indicator_queries.select_grid_shapes(session, keys=keys)
    found = [key for key in keys if key in shapes]
    if not found:
        return counts
    polygons = shapely.from_wkb([shapes[key] for key in found])
    buildings, xs, ys = indicator_queries.select_building_points(session, boxes=_boxes(polygons))
    if not buildings:
        return counts
    points = np.asarray(shapely.points(np.column_stack([xs, ys])), dtype=object)
    # a building on the shared edge of two grids is in both (covers), as ST_Covers has it
    grid_index, point_index = shapely.STRtree(points).query(polygons, predicate="covers")
    rows = building_counts.count_members(
        session,
        grids=grid_index.tolist(),
        buildings=[buildings[i] for i in point_index.tolist()],
        on=on,
    )
    for row in rows:
        counts[found[row.pop("grid")]].update(row)
    return counts


def _boxes(polygons: npt.NDArray[Any]) -> list[tuple[float, float, float, float]]:
    """Where to look for the buildings of some grids: their common box when they lie together
    (a district), else a box each (an officer's grids far apart)."""
    bounds = shapely.bounds(polygons)
    total = shapely.total_bounds(polygons)
    each = float(((bounds[:, 2] - bounds[:, 0]) * (bounds[:, 3] - bounds[:, 1])).sum())
    if (total[2] - total[0]) * (total[3] - total[1]) <= 4 * each:
        return [(float(total[0]), float(total[1]), float(total[2]), float(total[3]))]
    return [(float(b[0]), float(b[1]), float(b[2]), float(b[3])) for b in bounds.tolist()]


def measure_plan_grids(
    session: Session, *, ids: Sequence[int], district_code: str
) -> dict[int, Indicators]:
    """Indicators of plan grids (with the counts that would change grid), keyed by id, summed
    from the plan's building snapshot."""
    estimated = estimated_districts(session, districts=[district_code])[district_code]
    raw = snapshot_queries.measure_plan_grids(session, ids=ids)
    return {int(key): to_indicators(row, estimated=estimated) for key, row in raw.items()}
