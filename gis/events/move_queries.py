"""SQL of the moves that keep every open event in the grid live for its place: queued when a grid
switch closes versions (:func:`queue_event_moves`), made on their day before events are read
(:func:`move_due_events`).

A switch may take effect on a later day than its publication. Until that day the old grids are
the live ones and keep their events (those reported meanwhile too); from that day on, the first
reader moves the open events of the grids that ended to the grids that hold their places. The
check when nothing is due is one look at a primary key that holds a few rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from gis.events.models import EventMoveDue

# The day moves are made for is ``GREATEST(:on, current_date)``: never before the database's
# today (a caller's stale date must not put an event in a grid that has ended since); a later
# one only when a caller says so (the events services, whose ``now`` is the present; tests move
# it).
_ANY_DUE = text(
    """
    SELECT EXISTS (
        SELECT 1 FROM event_moves_due WHERE due_on <= GREATEST(CAST(:on AS date), current_date)
    )
    """
)

# One statement, so that it holds in autocommit (tiles) as in a transaction: the queued rows
# are deleted and the events moved together. A second reader at the same moment waits on the
# rows being deleted, finds them gone, and reads the events moved. An event follows its
# building (point on surface, as buildings are given to grids) or, without one, the point it
# was reported at; it stays in its grid while a version of that grid holds the place (a grid
# whose boundary moved keeps the events the boundary did not give away), and where no grid
# holds the place it stays where it is. ``e.closed_at IS NULL`` again on the row updated: an
# event closed meanwhile keeps the grid it was handled in.
_MOVE_DUE = text(
    """
    WITH day AS (
        SELECT GREATEST(CAST(:on AS date), current_date) AS d
    ), due AS (
        DELETE FROM event_moves_due WHERE due_on <= (SELECT d FROM day) RETURNING grid_code
    ), moved AS (
        UPDATE events AS e
        SET grid_code = g.code, community_code = g.community_code, district_code = g.district_code
        FROM (
            SELECT o.id, o.grid_code, COALESCE(ST_PointOnSurface(b.geom), o.geom) AS point
            FROM events o LEFT JOIN buildings b ON b.uid = o.building_uid
            WHERE o.grid_code IN (SELECT grid_code FROM due) AND o.closed_at IS NULL
        ) AS p
        CROSS JOIN day
        CROSS JOIN LATERAL (
            SELECT code, community_code, district_code FROM grids
            WHERE valid_from <= day.d AND (valid_to IS NULL OR valid_to > day.d)
              AND geom && p.point AND ST_Covers(geom, p.point)
            ORDER BY code = p.grid_code DESC, code
            LIMIT 1
        ) AS g
        WHERE e.id = p.id AND e.closed_at IS NULL AND g.code <> p.grid_code
        RETURNING e.id
    )
    SELECT count(*) FROM moved
    """
)


def queue_event_moves(session: Session, *, codes: Sequence[str], due_on: date) -> None:
    """The versions of grids ``codes`` end on ``due_on``: move their open events that day."""
    if codes:
        session.execute(
            insert(EventMoveDue)
            .values([{"due_on": due_on, "grid_code": code} for code in sorted(set(codes))])
            .on_conflict_do_nothing()
        )


def move_due_events(session: Session, *, on: date | None = None) -> int:
    """Make the moves due by ``on`` (default, and at the earliest, the database's today, China's
    date): each open event of a grid version that has ended goes to the grid live on that day
    for its place. Returns how many events moved. Closed and rejected events keep the grid they
    were handled in."""
    params = {"on": on}
    if not session.scalar(_ANY_DUE, params):
        return 0
    return int(session.scalar(_MOVE_DUE, params) or 0)
