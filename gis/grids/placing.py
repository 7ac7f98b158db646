"""Each grid version's buildings, kept in ``building_grids`` (migration 0011_places).

A building belongs to the grid that covers its point on surface (DESIGN §6). Finding that for a
million buildings at every classification cost more than the rest of it, so the answer is kept
per grid version (whose polygon never changes) and made again only for the grids it may have
changed for: a grid without rows yet (new), or one whose rows were made in a snapshot that did
not see a later change of buildings in its box (``building_edits``, recorded by triggers on
``buildings`` for every statement that inserts, moves, retires or deletes footprints, whatever
code path runs it). The rows are made in the caller's transaction, without locks: two callers
making the same grid's rows at once both insert what they found (``ON CONFLICT DO NOTHING``).
Edits every kept grid has seen are pruned, so the table stays as small as the changes of the
last day or so.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

_STALE = text(
    """
    SELECT string_agg(g.uid::text, ',')
    FROM grids g
    LEFT JOIN grid_placements p ON p.grid_uid = g.uid
    WHERE g.uid = ANY(CAST(string_to_array(:grids, ',') AS uuid[]))
      AND (p.grid_uid IS NULL OR g.valid_to <= current_date OR EXISTS (
            SELECT 1 FROM building_edits e
            WHERE e.box && g.geom
              AND CASE WHEN e.xid = p.placed_xid THEN e.at >= p.placed_at
                       ELSE NOT pg_visible_in_snapshot(e.xid, p.snapshot) END))
    """
)
"""The grids (uids as text) whose kept buildings are missing or may be out of date: an edit of
buildings in a grid's box that the snapshot of its rows did not see (a snapshot counts its own
transaction as running), or that its own transaction made after them; and grid versions that
have ended (asked for a past date, rarely: the edits they have not seen may be pruned)."""

_FORGET = text(
    """
    DELETE FROM building_grids
    WHERE grid_uid = ANY(CAST(string_to_array(:grids, ',') AS uuid[]))
    """
)

_PLACE = text(
    """
    WITH to_place AS (
        SELECT uid, geom FROM grids WHERE uid = ANY(CAST(string_to_array(:grids, ',') AS uuid[]))
    ), placed AS (
        INSERT INTO building_grids (grid_uid, building_uid)
        SELECT to_place.uid, b.uid
        FROM to_place JOIN buildings b ON b.geom && to_place.geom
        WHERE b.status <> 'retired' AND ST_Covers(to_place.geom, ST_PointOnSurface(b.geom))
        ON CONFLICT DO NOTHING
        RETURNING building_uid
    ), with_rows AS (
        INSERT INTO building_counts (building_uid)
        SELECT DISTINCT building_uid FROM placed ORDER BY building_uid
        ON CONFLICT DO NOTHING
    )
    INSERT INTO grid_placements (grid_uid, snapshot, placed_xid, placed_at)
    SELECT uid, pg_current_snapshot(), pg_current_xact_id(), clock_timestamp() FROM to_place
    ON CONFLICT (grid_uid) DO UPDATE
    SET snapshot = excluded.snapshot, placed_xid = excluded.placed_xid,
        placed_at = excluded.placed_at
    """
)
"""The buildings of some grids, found and kept, and the snapshot they were found in (one
statement, so the snapshot recorded is the one the buildings were read in); a building placed
without a ``building_counts`` row gets one (to be counted: ``gis.grids.building_counts``)."""

_PRUNE = text(
    """
    DELETE FROM building_edits WHERE id IN (
        SELECT e.id FROM building_edits e
        WHERE e.at < now() - interval '1 day'
          AND e.xid < (
            SELECT min(pg_snapshot_xmin(p.snapshot))
            FROM grid_placements p JOIN grids g ON g.uid = p.grid_uid
            WHERE g.valid_to IS NULL OR g.valid_to > current_date)
        FOR UPDATE OF e SKIP LOCKED)
    """
)
"""The edits the kept buildings of every grid version in force have seen (their transaction
ended before the oldest snapshot of those began; a day old at least, so that no placement
still running can have begun before one of them ended). Ended grid versions do not hold them
back: their buildings are found again whenever they are asked for. Rows another transaction
holds are left for the next time (``SKIP LOCKED``: pruning never waits)."""

_ANALYZE = text("ANALYZE building_grids")
_ANALYZE_AFTER = 1_000
"""Grids placed at once past which the table's statistics are made again before it is summed
(a first classification fills it: the planner must not take it for nearly empty)."""


def place_buildings(session: Session, *, grids: Sequence[str]) -> int:
    """Bring the kept buildings of ``grids`` (live grid version uids, as text) up to date;
    returns how many grids were placed again."""
    if not grids:
        return 0
    session.execute(_PRUNE)
    stale: str | None = session.execute(_STALE, {"grids": ",".join(grids)}).scalar_one()
    if not stale:
        return 0
    session.execute(_FORGET, {"grids": stale})
    session.execute(_PLACE, {"grids": stale})
    placed = stale.count(",") + 1
    if placed >= _ANALYZE_AFTER:
        session.execute(_ANALYZE)
    return placed
