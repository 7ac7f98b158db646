"""Switching the live grids of some communities to a new set, atomically, on an effective date.

Used by plan publishing and by grid imports. In one transaction (the caller's):

- a grid whose code stays and whose polygon is unchanged keeps its version (within the
  :func:`same_shape` tolerance only while its neighbours keep theirs: :func:`kept_as_stored`),
  so that the live grids are exactly the set that was validated;
- a grid whose polygon changed keeps its code: the open version is closed on the effective date
  (``valid_to``) and a new version opens on it (``valid_from``);
- a live grid missing from the new set is retired (closed on the effective date; its code is
  never issued again);
- a new grid gets the next sequence of its community (counter table), numbered in reading order
  (rows north→south, west→east), and lineage rows link it to its parents;
- every version closed (retired or changed) is queued in ``event_moves_due`` for the effective
  date: from that day its open events whose place it no longer holds (their building's point on
  surface) belong to the grid live there, so that its officers see and take them. With an
  effective date of today or earlier they move now; with a later one the old grid keeps them
  (and those reported in it meanwhile) until that day, when the first reader of events moves
  them (``gis/events/move_queries.py``).

Queries running meanwhile see the old set or the new one, never a mix: the whole switch commits
at once, and concurrent switches of a district queue on an advisory lock.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import shapely

from gis.buildings.models import LineageEvent
from gis.clock import checked_date
from gis.codes import format_grid_code
from gis.errors import Conflict
from gis.events import move_queries
from gis.grids import queries
from gis.grids.measure import area_m2
from gis.grids.models import GridClass
from gis.grids.suggest import reading_order

LINEAGE_SHARE = 0.01
"""A retired grid is a parent of a new one when they share at least 1% of the parent's area."""


@dataclass
class NewGrid:
    """One grid of the new set: an existing or kept ``code`` (None: issue one), its community,
    its polygon (shapely, EPSG:4490), and what is known of its origin and class."""

    code: str | None
    community_code: str
    geom: Any
    name: str | None = None
    parents: tuple[str, ...] = ()
    event: LineageEvent | None = None
    grid_class: GridClass | None = None
    explanation: dict[str, Any] = field(default_factory=dict)
    indicators: dict[str, Any] = field(default_factory=dict)


@dataclass
class SwitchResult:
    """What a switch did, by grid code."""

    effective: date
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    lineage: list[tuple[str, str, str]] = field(default_factory=list)
    codes: dict[int, str] = field(default_factory=dict)
    """The code each input grid ended with, by its position in the input."""
    events_moved: int = 0
    """Open events moved by the switch to the grid live for their place (none when it takes
    effect on a later day: they move on that day)."""


SAME_SHAPE_TOLERANCE = 1e-8
"""Degrees (~1 mm) by which a grid's vertices may differ and the grid still be the one stored:
an exported file comes back rounded to 9 decimals, or through another CRS and back."""
SAME_AREA_TOLERANCE = 1e-11
"""Square degrees (~0.1 m²) of symmetric difference under which two polygons are the same
grid: a vertex that rounding to 9 decimals would have made self-intersecting is snapped away
in an export (one vertex fewer, 0.01-0.05 m² of the demo's grids)."""


NEIGHBOUR_DISTANCE_DEG = 1e-7
"""Degrees (~1 cm) within which two new outlines meet for :func:`kept_as_stored`: validated
neighbours touch, or miss each other by what validation takes for noise (under 0.01 m²)."""


def same_shape(stored: Any, given: Any) -> bool:
    """The same polygon, the same vertices to within :data:`SAME_SHAPE_TOLERANCE`, or the same
    area to within :data:`SAME_AREA_TOLERANCE` (a grid exported and imported again is
    unchanged, not a new version of every grid)."""
    return bool(
        shapely.equals(stored, given)
        or shapely.equals_exact(stored, given, tolerance=SAME_SHAPE_TOLERANCE)
        or shapely.area(shapely.symmetric_difference(stored, given)) <= SAME_AREA_TOLERANCE
    )


def switch_grids(
    session: Any,
    *,
    communities: list[str],
    grids: list[NewGrid],
    effective: date,
    plan_id: int | None = None,
    batch_id: int | None = None,
    today: date | None = None,
) -> SwitchResult:
    """Replace the open grids of ``communities`` by ``grids`` from ``effective`` on (a date
    within 1900-2100: a version from 9999 would leave no later date to change them on).
    ``today``: the day the open events are moved for when ``effective`` has come (default the
    database's today)."""
    checked_date(effective, field="effective_date")
    queries.lock_districts_of(session, communities=communities)
    live = {
        row.code: row
        for row in queries.select_grid_rows(
            session, communities=communities, open_only=True, for_update=True
        )
    }
    result = SwitchResult(effective=effective)
    kept_codes = {g.code for g in grids if g.code is not None}
    unchanged = kept_as_stored(live, grids)
    _check_effective(live, unchanged, effective)
    closing = []
    inserts: list[tuple[int, dict[str, Any], bytes]] = []
    kept_new: dict[str, int] = {}
    for position, grid in enumerate(grids):
        if grid.code is None:
            continue
        row = live.get(grid.code)
        wkb = bytes(shapely.to_wkb(grid.geom))
        if grid.code in unchanged:
            result.unchanged.append(grid.code)
            result.codes[position] = grid.code
            continue
        version = 1 if row is None else row.version + 1
        if row is not None:
            closing.append(row.uid)
            result.changed.append(grid.code)
        else:
            kept_new[grid.community_code] = max(
                kept_new.get(grid.community_code, 0), int(grid.code[12:])
            )
            result.added.append(grid.code)
        inserts.append((position, _values(grid, grid.code, version, effective), wkb))
        result.codes[position] = grid.code
    retired = sorted(set(live) - kept_codes)
    closing.extend(live[code].uid for code in retired)
    result.retired = retired
    queries.raise_grid_counters(session, kept=kept_new)
    for position, code in _issue_codes(session, grids).items():
        grid = grids[position]
        inserts.append(
            (position, _values(grid, code, 1, effective), bytes(shapely.to_wkb(grid.geom)))
        )
        result.codes[position] = code
        result.added.append(code)
    queries.close_versions(session, uids=closing, valid_to=effective)
    for _, values, wkb in sorted(inserts, key=lambda item: item[1]["code"]):
        queries.insert_version(session, values=values, wkb=wkb)
    # an event kept the grid it was reported in: a retired one no officer has any more, or one
    # that no longer holds its place
    ended = [*retired, *result.changed]
    move_queries.queue_event_moves(session, codes=ended, due_on=effective)
    result.events_moved = move_queries.move_due_events(session, on=today)
    result.lineage = _lineage(grids, result, live)
    queries.insert_lineage(
        session,
        rows=[
            {
                "parent_code": parent,
                "child_code": child,
                "event": event,
                "happened_on": effective,
                "plan_id": plan_id,
                "batch_id": batch_id,
            }
            for parent, child, event in result.lineage
        ],
    )
    session.flush()
    return result


def kept_as_stored(live: dict[str, Any], grids: list[NewGrid]) -> set[str]:
    """The codes of the grids that keep their stored version (the others get a new one).

    A grid the same polygon as stored keeps it. One only the same shape (:func:`same_shape`:
    a file rounded to 9 decimals, a boundary moved by less than ~0.1 m²) keeps it only while
    every grid meeting it keeps its own as well: a neighbour written with its new outline was
    cut against this grid's new outline, not the stored one, and the live grids would overlap
    or leave gaps that no validation saw. Such a grid taking its new outline can oblige its
    own neighbours in turn, hence the loop."""
    stored = {
        g.code: shapely.from_wkb(live[g.code].wkb)
        for g in grids
        if g.code is not None and g.code in live
    }
    exact = {g.code for g in grids if g.code in stored and shapely.equals(stored[g.code], g.geom)}
    close = {
        g.code
        for g in grids
        if g.code in stored and g.code not in exact and same_shape(stored[g.code], g.geom)
    }
    if not close:
        return exact
    geoms = [g.geom for g in grids]
    tree = shapely.STRtree(geoms)
    kept = exact | close
    while True:
        leaving = set()
        for position, grid in enumerate(grids):
            if grid.code not in close or grid.code not in kept:
                continue
            # touching, or missing each other by noise
            around = shapely.buffer(grid.geom, NEIGHBOUR_DISTANCE_DEG)
            meeting = tree.query(around, predicate="intersects")
            if any(grids[int(i)].code not in kept for i in meeting if int(i) != position):
                leaving.add(grid.code)
        if not leaving:
            return {code for code in kept if code is not None}
        kept -= leaving


def _check_effective(live: dict[str, Any], unchanged: set[str], effective: date) -> None:
    """Closing a version (of every live grid not kept ``unchanged``: retired or changed) needs
    ``effective > valid_from``."""
    for code, row in live.items():
        if row.valid_from >= effective and code not in unchanged:
            raise Conflict(
                f"grid {code} has a version from {row.valid_from}: the effective date must "
                "be after it",
                field="effective_date",
            )


def _values(grid: NewGrid, code: str, version: int, effective: date) -> dict[str, Any]:
    return {
        "code": code,
        "version": version,
        "name": grid.name,
        "community_code": grid.community_code,
        "district_code": grid.community_code[:6],
        "grid_class": grid.grid_class,
        "class_explanation": grid.explanation,
        "indicators": grid.indicators,
        "classified_on": effective if grid.grid_class is not None else None,
        "valid_from": effective,
    }


def _issue_codes(session: Any, grids: list[NewGrid]) -> dict[int, str]:
    """Codes for the grids without one: per community, in reading order."""
    wanting: dict[str, list[int]] = defaultdict(list)
    for position, grid in enumerate(grids):
        if grid.code is None:
            wanting[grid.community_code].append(position)
    starts = queries.allocate_grid_sequences(
        session, counts={community: len(p) for community, p in wanting.items()}
    )
    codes: dict[int, str] = {}
    for community, positions in wanting.items():
        geoms = [grids[p].geom for p in positions]
        ordered = reading_order(geoms)
        order = [next(p for p in positions if grids[p].geom is g) for g in ordered]
        for offset, position in enumerate(order):
            codes[position] = format_grid_code(
                community_code=community, seq=starts[community] + offset
            )
    return codes


def _lineage(
    grids: list[NewGrid], result: SwitchResult, live: dict[str, Any]
) -> list[tuple[str, str, str]]:
    """Explicit parents (split, merge) first; other new grids descend from the retired grids
    they overlap (one parent, several children: split; several parents: merge; else replace)."""
    rows: list[tuple[str, str, str]] = []
    retired = {code: shapely.from_wkb(live[code].wkb) for code in result.retired}
    derived: dict[str, list[str]] = {}
    for position, grid in enumerate(grids):
        child = result.codes[position]
        if grid.parents:
            event = grid.event or LineageEvent.REPLACE
            rows.extend((parent, child, str(event)) for parent in grid.parents if parent != child)
        elif child in result.added and retired:
            parents = [code for code, parent in retired.items() if _descends(grid.geom, parent)]
            if parents:
                derived[child] = parents
    children_of: dict[str, int] = defaultdict(int)
    for parents in derived.values():
        for parent in parents:
            children_of[parent] += 1
    for child, parents in derived.items():
        if len(parents) > 1:
            event = LineageEvent.MERGE
        elif children_of[parents[0]] > 1:
            event = LineageEvent.SPLIT
        else:
            event = LineageEvent.REPLACE
        rows.extend((parent, child, str(event)) for parent in parents)
    return sorted(set(rows))


def _descends(child: Any, parent: Any) -> bool:
    if not shapely.intersects(parent, child):
        return False
    return area_m2(shapely.intersection(parent, child)) >= LINEAGE_SHARE * area_m2(parent)


def as_polygon(geom: Any) -> Any:
    """A single Polygon from a Polygon or a one-part MultiPolygon (else unchanged)."""
    parts = shapely.get_parts(geom)
    return parts[0] if len(parts) == 1 else geom
