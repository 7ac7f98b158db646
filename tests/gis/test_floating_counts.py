"""The floating residents' map layer and writers at the same time: a building whose kept row a
writer holds is counted on the spot, without waiting for the writer, and stored by a later tile.
In a database of its own, where transactions really commit."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text, true
from sqlalchemy.orm import Session, sessionmaker

from gis.db import transaction
from gis.tiles.queries import floating_points
from tests.grids_world import COMMUNITY_WEST, add_residents, build_small_world

ON = date(2025, 6, 1)
_CURRENT = text(
    "SELECT b.code, c.counted_generation IS NOT DISTINCT FROM c.generation "
    "FROM building_counts c JOIN buildings b ON b.uid = c.building_uid"
)


def _current(session: Session) -> dict[str, bool]:
    """Each building's code: whether its kept row is counted at its generation."""
    return {code: bool(is_current) for code, is_current in session.execute(_CURRENT)}


def _floating(session: Session) -> int:
    # the zoom-11 tile holding the small world's buildings
    points = floating_points(
        session, z=11, x=1671, y=891, margin=0.1, snap_deg=0.0001, where=true(), on=ON
    )
    return sum(n for *_, n in points)


def test_a_row_a_writer_holds_is_counted_on_the_spot_without_waiting(
    scratch_factory: sessionmaker[Session],
) -> None:
    with transaction(scratch_factory) as session:
        world = build_small_world(session, houses=4)
        first, second = world.buildings[COMMUNITY_WEST][:2]
        add_residents(session, building_code=first, residents=3, floating=3)
        add_residents(session, building_code=second, residents=2, floating=1)
    writer = scratch_factory()
    try:
        writer.execute(
            text(
                "SELECT FROM building_counts c JOIN buildings b ON b.uid = c.building_uid "
                "WHERE b.code = :code FOR UPDATE OF c"
            ),
            {"code": first},
        )
        with transaction(scratch_factory) as reader:
            reader.execute(text("SET LOCAL lock_timeout = '3s'"))  # a wait would be an error
            assert _floating(reader) == 4
        with transaction(scratch_factory) as session:
            current = _current(session)
        assert current[first] is False  # left to the writer
        assert current[second] is True
        assert sum(current.values()) == len(current) - 1
    finally:
        writer.rollback()
        writer.close()
    with transaction(scratch_factory) as reader:
        assert _floating(reader) == 4
    with transaction(scratch_factory) as session:
        assert all(_current(session).values())
