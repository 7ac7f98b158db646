"""A grid's counts summed from its buildings' kept counts (``building_counts``, migration
0010_counts), recounting only the buildings that changed.

Each building's row holds what it held on the dates ``[valid_from, valid_until)`` (no residence
of it starts or ends in between), as counted at a generation; triggers bump the generation
whenever a statement changes its houses, residences, people or organizations. To count grids on
a date:

1. the rows of their buildings that are not current for the date (changed since counted, or
   counted for other dates) are locked, ``SKIP LOCKED``: a row a writer holds right now is left
   to the writer, so counting never waits for a registration and never deadlocks with one;
2. the locked rows are counted again and stored, in the caller's
   transaction (a writer who changes one of them afterwards waits for that transaction, then
   bumps its generation: its count is never taken as current again);
3. the grids' counts are summed from the rows, and the buildings without a current row (left
   to a writer, or without a row: a building that never had houses) are counted on the spot.

Every big set reaches the counting statement as a text parameter unnested (whose length the
planner sees), never as a subquery the planner may guess at a handful of rows: joining the
aggregates of 100,000 buildings row by row would take hours. After step 1, what is counted on
the spot is a handful.

A building counts residences; a grid takes off the extra residences of a person living in two
houses of it (only people with a secondary residence can: one primary residence at a time is a
database constraint), so a person is one resident of a grid. The result equals a count from
scratch over houses, residences and people (``tests/gis/test_grid_indicators.py`` checks it
after every kind of change and on dates either side of residences' starts and ends).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Integer, Subquery, Uuid, and_, or_, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from gis.grids.indicator_queries import COUNTS, LARGE_RENTAL_ROOMS
from gis.grids.models import BuildingCounts

FLOATING_PRIMARY = 10
"""Where a row's ``counts`` hold its floating residents by their primary residence (SQL arrays
count from 1), the count the floating-residents map layer draws (``gis.tiles.queries``); the
nine before it are ``gis.grids.snapshot_queries.COUNT_FIELDS``."""

DISTRICT_WORK_MEM = "256MB"
"""Memory for the hash joins and aggregates of counting a district's buildings at once (the
houses, residences and people of 100,000 buildings fit): with less, the aggregates spill to
disk and the planner turns to index lookups."""
_WORK_MEM = text("SELECT current_setting('work_mem')")
# for this transaction only (set_config's third argument); the previous value is put back after
_SET_WORK_MEM = text("SELECT set_config('work_mem', :value, true)")


@contextmanager
def _district_work_mem(session: Session) -> Iterator[None]:
    """:data:`DISTRICT_WORK_MEM` for the statements inside, then the previous value again."""
    before = session.execute(_WORK_MEM).scalar_one()
    session.execute(_SET_WORK_MEM, {"value": DISTRICT_WORK_MEM})
    try:
        yield
    finally:
        session.execute(_SET_WORK_MEM, {"value": before})


CURRENT_ON = (
    "c.counted_generation = c.generation "
    "AND c.valid_from <= :on AND (c.valid_until IS NULL OR :on < c.valid_until)"
)
"""When the ``building_counts`` row ``c`` holds the counts of date ``:on``: counted at its present
generation, for a range of dates holding ``:on`` (NULL, not false, for a row never counted)."""

_LOCK_STALE = text(
    f"""
    SELECT string_agg(building_uid::text, ',')
    FROM (
        SELECT c.building_uid FROM building_counts c
        WHERE c.building_uid = ANY(CAST(string_to_array(:buildings, ',') AS uuid[]))
          AND NOT coalesce({CURRENT_ON}, false)
        ORDER BY c.building_uid
        FOR UPDATE SKIP LOCKED
    ) stale
    """  # noqa: S608 - CURRENT_ON is a fixed clause of this module, no input
)

# What the buildings of ``to_count`` (a CTE of uids) hold on :on, and the dates over which that
# stays so (the last start or end of one of their residences on or before :on, the first one
# after): ``counted(building_uid, counts, valid_from, valid_until)``. Only active houses and
# their residences count. Residents are residences here (a person living in two houses of one
# building is in it twice: the grid's count takes the extra ones off, as it does for two
# buildings). One pass over the residences, grouped by house (households, residents, the edges
# of their periods), then by building; only the floating and key persons are looked up in
# ``people``; hashes over whole sets (a district's 100,000 buildings at once). The tenth count,
# floating residents by primary residence, counts a person once in the city.
_COUNTED = """
    hs AS MATERIALIZED (
        SELECT h.uid, h.building_uid, h.is_rented, coalesce(h.rooms, 1) AS rooms,
               h.use IN ('residential', 'mixed', 'dorm') AS is_dwelling
        FROM to_count JOIN houses h ON h.building_uid = to_count.uid
        WHERE h.status = 'active'
    ), hc AS (
        SELECT building_uid, count(*) AS houses, count(*) FILTER (WHERE is_dwelling) AS dwellings,
               count(*) FILTER (WHERE is_rented) AS rented,
               coalesce(sum(rooms) FILTER (WHERE is_rented), 0) AS rented_rooms
        FROM hs GROUP BY building_uid
    ), rh AS (
        SELECT hs.building_uid, r.house_uid,
               count(*) FILTER (WHERE r.period @> CAST(:on AS date)) AS residents,
               count(p.uid) FILTER (WHERE r.period @> CAST(:on AS date)
                                    AND p.category = 'floating') AS floating,
               count(p.uid) FILTER (WHERE r.period @> CAST(:on AS date)
                                    AND p.is_key_person) AS key_persons,
               count(p.uid) FILTER (WHERE r.period @> CAST(:on AS date) AND r.is_primary
                                    AND p.category = 'floating') AS floating_primary,
               max(lower(r.period)) FILTER (WHERE lower(r.period) <= CAST(:on AS date)) AS from1,
               max(upper(r.period)) FILTER (WHERE upper(r.period) <= CAST(:on AS date)) AS from2,
               min(lower(r.period)) FILTER (WHERE lower(r.period) > CAST(:on AS date)) AS until1,
               min(upper(r.period)) FILTER (WHERE upper(r.period) > CAST(:on AS date)) AS until2
        FROM hs
        JOIN residences r ON r.house_uid = hs.uid
        LEFT JOIN people p
          ON p.uid = r.person_uid AND (p.category = 'floating' OR p.is_key_person)
        GROUP BY hs.building_uid, r.house_uid
    ), rc AS (
        SELECT building_uid, count(*) FILTER (WHERE residents > 0) AS households,
               sum(residents) AS residents, sum(floating) AS floating,
               sum(key_persons) AS key_persons, sum(floating_primary) AS floating_primary,
               greatest(max(from1), max(from2)) AS valid_from,
               least(min(until1), min(until2)) AS valid_until
        FROM rh GROUP BY building_uid
    ), oc AS (
        SELECT hs.building_uid, count(*) AS organizations
        FROM hs JOIN organizations o ON o.house_uid = hs.uid GROUP BY hs.building_uid
    ), counted AS (
        SELECT to_count.uid AS building_uid,
               ARRAY[coalesce(hc.houses, 0), coalesce(hc.dwellings, 0), coalesce(hc.rented, 0),
                     CASE WHEN coalesce(hc.rented_rooms, 0) >= :large_rooms THEN 1 ELSE 0 END,
                     coalesce(rc.households, 0), coalesce(rc.residents, 0),
                     coalesce(rc.floating, 0), coalesce(rc.key_persons, 0),
                     coalesce(oc.organizations, 0), coalesce(rc.floating_primary, 0)
                    ]::integer[] AS counts,
               coalesce(rc.valid_from, '-infinity'::date) AS valid_from, rc.valid_until
        FROM to_count
        LEFT JOIN hc ON hc.building_uid = to_count.uid
        LEFT JOIN rc ON rc.building_uid = to_count.uid
        LEFT JOIN oc ON oc.building_uid = to_count.uid
    )
"""
_GRIDS = """
    g AS (
        SELECT uid, ord::integer - 1 AS grid
        FROM unnest(CAST(string_to_array(:grids, ',') AS uuid[])) WITH ORDINALITY AS g(uid, ord)
    )
"""
# The grids ``:grids`` (uids as text): ``g(uid, grid)``, ``grid`` the index of the grid in
# ``:grids``; their buildings are in ``building_grids`` (``gis.grids.placing``).

_STALE = text(
    f"""
    WITH {_GRIDS}
    SELECT string_agg(DISTINCT c.building_uid::text, ',')
    FROM building_counts c
    JOIN building_grids k ON k.building_uid = c.building_uid
    JOIN g ON g.uid = k.grid_uid
    WHERE NOT coalesce({CURRENT_ON}, false)
    """  # noqa: S608 - _GRIDS and CURRENT_ON are fixed clauses of this module, no input
)
"""The buildings (uids as text) of some grids whose rows are not current on ``:on`` (changed
since counted, or counted for other dates): a handful once the counts are kept."""

_NOT_CURRENT = text(
    f"""
    WITH {_GRIDS}
    SELECT string_agg(DISTINCT k.building_uid::text, ',')
    FROM g JOIN building_grids k ON k.grid_uid = g.uid
    LEFT JOIN building_counts c ON c.building_uid = k.building_uid AND {CURRENT_ON}
    WHERE c.building_uid IS NULL
    """  # noqa: S608 - _GRIDS and CURRENT_ON are fixed clauses of this module, no input
)
"""The buildings (uids as text) of some grids without a current row on ``:on``, including those
without a row at all (placing gives every building it places a row: only a row deleted since
leaves one out)."""

_RECOUNT = text(
    f"""
    WITH to_count AS (
        SELECT unnest(CAST(string_to_array(:buildings, ',') AS uuid[])) AS uid
    ), {_COUNTED}
    UPDATE building_counts c
    SET counts = counted.counts, valid_from = counted.valid_from,
        valid_until = counted.valid_until, counted_generation = c.generation
    FROM counted
    WHERE c.building_uid = counted.building_uid
    """  # noqa: S608 - _COUNTED is a fixed clause of this module, no input
)
_SUM = text(
    f"""
    WITH {_GRIDS}, to_count AS (
        SELECT unnest(CAST(string_to_array(:uncounted, ',') AS uuid[])) AS uid
    ), {_COUNTED}, per AS (
        SELECT g.grid, coalesce(c.counts, counted.counts) AS n
        FROM g JOIN building_grids k ON k.grid_uid = g.uid
        LEFT JOIN building_counts c ON c.building_uid = k.building_uid AND {CURRENT_ON}
        LEFT JOIN counted ON counted.building_uid = k.building_uid
    ), sums AS (
        SELECT grid, count(*) AS buildings, count(*) FILTER (WHERE n IS NULL) AS missing,
               sum(n[1]) AS houses, sum(n[2]) AS dwellings,
               sum(n[3]) AS rented_houses, sum(n[4]) AS large_rentals,
               sum(n[5]) AS households, sum(n[6]) AS residents, sum(n[7]) AS floating,
               sum(n[8]) AS key_persons, sum(n[9]) AS organizations
        FROM per GROUP BY grid
    ), twice AS (
        SELECT DISTINCT person_uid FROM residences
        WHERE NOT is_primary AND period @> CAST(:on AS date)
    ), extra AS (
        SELECT grid, sum(n - 1) AS residents,
               coalesce(sum(n - 1) FILTER (WHERE floating), 0) AS floating,
               coalesce(sum(n - 1) FILTER (WHERE key_person), 0) AS key_persons
        FROM (
            SELECT g.grid, r.person_uid, count(*) AS n,
                   bool_or(p.category = 'floating') AS floating,
                   bool_or(p.is_key_person) AS key_person
            FROM twice
            JOIN residences r ON r.person_uid = twice.person_uid
                             AND r.period @> CAST(:on AS date)
            JOIN houses h ON h.uid = r.house_uid AND h.status = 'active'
            JOIN building_grids k ON k.building_uid = h.building_uid
            JOIN g ON g.uid = k.grid_uid
            JOIN people p ON p.uid = r.person_uid
            GROUP BY g.grid, r.person_uid HAVING count(*) > 1
        ) repeated GROUP BY grid
    )
    SELECT sums.grid, sums.missing, sums.buildings, sums.houses, sums.dwellings,
           sums.rented_houses, sums.large_rentals, sums.households,
           sums.residents - coalesce(extra.residents, 0) AS residents,
           sums.floating - coalesce(extra.floating, 0) AS floating,
           sums.key_persons - coalesce(extra.key_persons, 0) AS key_persons,
           sums.organizations
    FROM sums LEFT JOIN extra ON extra.grid = sums.grid
    """  # noqa: S608 - _GRIDS and _COUNTED are fixed clauses of this module, no input
)
"""Each grid's counts: its buildings' current rows, and for ``:uncounted`` a count made on the
spot; ``missing`` the buildings with neither (a row that is not current and was not in
``:uncounted``)."""


COUNT_INTO_PLAN = text(
    f"""
    WITH to_count AS (
        SELECT unnest(CAST(string_to_array(:buildings, ',') AS uuid[])) AS uid
    ), {_COUNTED}
    UPDATE plan_buildings pb SET counts = counted.counts
    FROM counted
    WHERE pb.plan_id = :plan_id AND pb.building_uid = counted.building_uid
    """  # noqa: S608 - _COUNTED is a fixed clause of this module, no input
)
"""Counts, made on the spot, for the buildings of a plan's snapshot (``:buildings``, uids as text)
whose kept counts were not current (a writer held them, or they had no row). The uids are a
parameter, not a subquery: the planner then knows how many there are (a subquery over a new
plan's rows is estimated at a handful, and joining aggregates of 100,000 buildings row by row
takes hours)."""


def current_on(on: date) -> ColumnElement[bool]:
    """:data:`CURRENT_ON` for a ``BuildingCounts`` row in a Core statement."""
    return and_(
        BuildingCounts.counted_generation == BuildingCounts.generation,
        BuildingCounts.valid_from <= on,
        or_(BuildingCounts.valid_until.is_(None), BuildingCounts.valid_until > on),
    )


_ADD_ROWS = text(
    """
    INSERT INTO building_counts (building_uid)
    SELECT u FROM unnest(CAST(string_to_array(:buildings, ',') AS uuid[])) AS u
    WHERE NOT EXISTS (SELECT FROM building_counts c WHERE c.building_uid = u)
    ORDER BY u
    ON CONFLICT (building_uid) DO NOTHING
    """
)


def store_current(session: Session, *, stale: Sequence[str], on: date) -> list[str]:
    """Count again and store the ``stale`` buildings' rows (uids as text; a building without a
    row gets one) that no writer holds; returns the others, for :func:`counted_on_the_spot`.

    One statement for them all (hashes over whole tables: counting a district of 100,000 stale
    buildings at once takes ~6 s on the bench machine, in chunks of 10,000 three times as long):
    a reader that may find a district's rows all stale (after a migration, or a district's
    residents imported) needs a statement timeout to match."""
    if not stale:
        return []
    buildings = sorted(stale)
    session.execute(_ADD_ROWS, {"buildings": ",".join(buildings)})
    return sorted(set(buildings) - _recount(session, buildings=buildings, on=on))


def counted_on_the_spot(buildings: Sequence[str], *, on: date) -> Subquery:
    """``(building_uid, counts)`` of ``buildings`` (uids as text) on ``on``, counted now and not
    stored: a subquery to join. The uids are a text parameter, whose length the planner sees."""
    statement = text(
        f"""
        WITH to_count AS (
            SELECT unnest(CAST(string_to_array(:spot_buildings, ',') AS uuid[])) AS uid
        ), {_COUNTED}
        SELECT building_uid, counts FROM counted
        """  # noqa: S608 - _COUNTED is a fixed clause of this module, no input
    ).bindparams(spot_buildings=",".join(buildings), on=on, large_rooms=LARGE_RENTAL_ROOMS)
    return statement.columns(building_uid=Uuid, counts=ARRAY(Integer)).subquery("on_the_spot")


_ALL_STALE = text(
    f"""
    SELECT string_agg(c.building_uid::text, ',') FROM building_counts c
    WHERE NOT coalesce({CURRENT_ON}, false)
    """  # noqa: S608 - CURRENT_ON is a fixed clause of this module, no input
)


def store_all_current(session: Session, *, on: date) -> int:
    """Count again and store every row that is not current on ``on`` and that no writer holds;
    returns how many. The end of a bulk load (``gridhouse import people``) calls it, so that the
    first map or dashboard after the load does not count the loaded district itself."""
    stale: str | None = session.execute(_ALL_STALE, {"on": on}).scalar_one()
    return recount_stale(session, buildings=stale.split(",") if stale else [], on=on)


def recount_stale(session: Session, *, buildings: Sequence[str], on: date) -> int:
    """Count again and store the rows of ``buildings`` (uids as text) that are not current on
    ``on`` and that no writer holds; returns how many."""
    return len(_recount(session, buildings=buildings, on=on))


def _recount(session: Session, *, buildings: Sequence[str], on: date) -> set[str]:
    """``recount_stale``, returning the uids counted again and stored."""
    if not buildings:
        return set()
    locked: str | None = session.execute(
        _LOCK_STALE, {"buildings": ",".join(buildings), "on": on}
    ).scalar_one()
    if not locked:
        return set()
    with _district_work_mem(session):
        session.execute(
            _RECOUNT, {"buildings": locked, "on": on, "large_rooms": LARGE_RENTAL_ROOMS}
        )
    return set(locked.split(","))


def count_grids(session: Session, *, grids: Sequence[str], on: date) -> list[dict[str, int]]:
    """The counts of each grid (``grid``: its index in ``grids``, live grid version uids as
    text) from its kept buildings (``gis.grids.placing.place_buildings`` first); the buildings'
    rows that are not current are counted again and stored first, those a writer holds are
    counted on the spot. Grids without buildings are left out."""
    if not grids:
        return []
    keys = ",".join(grids)
    stale: str | None = session.execute(_STALE, {"grids": keys, "on": on}).scalar_one()
    rows = _sum(session, grids=keys, stale=stale, on=on)
    if any(row["missing"] for row in rows):  # a row deleted, or made current by another
        stale = session.execute(_NOT_CURRENT, {"grids": keys, "on": on}).scalar_one()
        rows = _sum(session, grids=keys, stale=stale, on=on)
    return [{"grid": int(row["grid"]), **{name: int(row[name]) for name in COUNTS}} for row in rows]


def _sum(session: Session, *, grids: str, stale: str | None, on: date) -> list[Any]:
    """The grids' sums once the ``stale`` rows (uids as text) are counted again where no writer
    holds them, and counted on the spot where one does."""
    uncounted = set(stale.split(",")) if stale else set()
    uncounted -= _recount(session, buildings=sorted(uncounted), on=on)
    params = {
        "grids": grids,
        # a text the planner sees the length of (a handful once the rows are kept)
        "uncounted": ",".join(sorted(uncounted)),
        "on": on,
        "large_rooms": LARGE_RENTAL_ROOMS,
    }
    # the kept rows of a city's million buildings hashed in memory, not in batches
    with _district_work_mem(session):
        return list(session.execute(_SUM, params).mappings())
