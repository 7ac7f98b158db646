"""SQL of loading generated residents: the houses to populate, lettings, statistics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

_HOUSES = text(
    """
    SELECT h.uid::text, h.building_uid::text, h.use, h.is_rented, coalesce(h.area_m2, 0),
           h.district_code, b.community_code
    FROM houses h
    JOIN buildings b ON b.uid = h.building_uid
    WHERE b.community_code = ANY(CAST(:communities AS varchar[]))
      AND h.status = 'active' AND b.status <> 'retired'
    ORDER BY h.code
    """
)
_RESIDENTS = text(
    """
    SELECT EXISTS (
        SELECT 1 FROM residences r
        JOIN houses h ON h.uid = r.house_uid
        JOIN buildings b ON b.uid = h.building_uid
        WHERE b.community_code = ANY(CAST(:communities AS varchar[]))
    )
    """
)
_LET = text(
    """
    UPDATE houses h SET is_rented = true, landlord_uid = t.landlord
    FROM unnest(CAST(:houses AS uuid[]), CAST(:landlords AS uuid[])) AS t(house, landlord)
    WHERE h.uid = t.house
    """
)
_NOT_LET = text("UPDATE houses SET is_rented = false WHERE uid = ANY(CAST(:houses AS uuid[]))")


def select_houses_to_populate(session: Session, *, communities: Sequence[str]) -> list[Any]:
    """Live houses of live buildings in ``communities``, in code order (so by building)."""
    return list(session.execute(_HOUSES, {"communities": list(communities)}).all())


def count_residents_in_communities(session: Session, *, communities: Sequence[str]) -> bool:
    """True when any house in ``communities`` has (or had) a resident."""
    return bool(session.scalar(_RESIDENTS, {"communities": list(communities)}))


def update_lettings(
    session: Session,
    *,
    let: Sequence[str],
    landlords: Sequence[str | None],
    not_let: Sequence[str],
) -> None:
    """Mark houses as let (with their landlords) and landlords' own homes as not let."""
    if let:
        session.execute(_LET, {"houses": list(let), "landlords": list(landlords)})
    if not_let:
        session.execute(_NOT_LET, {"houses": list(not_let)})


def analyze_people_tables(session: Session) -> None:
    """Fresh planner statistics after a bulk load (the occupant queries depend on them)."""
    for table in ("people", "residences", "declarations", "houses"):
        session.execute(text(f"ANALYZE {table}"))  # a fixed list of table names
