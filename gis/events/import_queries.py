"""SQL of the events import: the grid under many points at once, events already imported by
source id, and the lock that serialises imports (buildings and houses by code are
in :mod:`gis.events.queries`, shared with a report)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gis.events.models import Event

IMPORT_LOCK_KEY = 0x67726964_65766E74  # "gridevnt"
"""Held by each batch of an events import until it commits: two imports of the same file at
once cannot both add an event of the same source id (the unique index would refuse the second
batch as a whole; the lock makes it see the first one's events and skip them instead)."""


def lock_event_imports(session: Session) -> None:
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK_KEY})


_GRIDS_AT = text(
    """
    SELECT p.i, g.code, g.community_code
    FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[]), CAST(:days AS date[]))
         WITH ORDINALITY AS p(x, y, day, i)
    CROSS JOIN LATERAL (
        SELECT code, community_code,
               (valid_from <= :today AND (valid_to IS NULL OR valid_to > :today)) AS live
        FROM grids
        WHERE geom && ST_SetSRID(ST_MakePoint(p.x, p.y), 4490)
          AND ST_Covers(geom, ST_SetSRID(ST_MakePoint(p.x, p.y), 4490))
          AND ((valid_from <= p.day AND (valid_to IS NULL OR valid_to > p.day))
               OR (valid_from <= :today AND (valid_to IS NULL OR valid_to > :today)))
        ORDER BY live DESC, code
        LIMIT 1
    ) g
    """
)


def select_grids_at(
    session: Session, *, points: Sequence[tuple[float, float, date]], today: date
) -> dict[int, tuple[str, str]]:
    """For each ``(x, y, day)``, by position (from 0): the grid (code, community) covering the
    point today, else the one covering it on ``day`` (an old event at a place no grid holds any
    more); points in neither are left out. An imported event is open: it belongs to the grid
    live today, as an event reported before a grid switch is moved to it
    (``gis/events/move_queries.py``)."""
    if not points:
        return {}
    rows = session.execute(
        _GRIDS_AT,
        {
            "xs": [p[0] for p in points],
            "ys": [p[1] for p in points],
            "days": [p[2] for p in points],
            "today": today,
        },
    )
    return {int(row.i) - 1: (str(row.code), str(row.community_code)) for row in rows}


def select_imported(session: Session, *, source_ids: Sequence[str]) -> dict[str, Event]:
    """Events already imported under these source ids."""
    if not source_ids:
        return {}
    statement = select(Event).where(Event.source_id.in_(list(source_ids)))
    return {str(event.source_id): event for event in session.scalars(statement)}
