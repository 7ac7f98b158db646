"""Kept building counts (migration 0010_counts) and grid buildings (0011_places) under concurrent
writers: counting never waits for a writer, a writer's change made while a count is stored is
never taken as counted, and buildings a writer commits after a grid's buildings were found are
found the next time.

These tests commit (two connections must see each other's work), on a building uid of their
own that no other test uses, kept as the one building of a grid uid of their own, and delete
their rows at the end."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from shapely.geometry import box
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from gis.grids.building_counts import count_grids, recount_stale
from gis.grids.placing import place_buildings
from tests.grids_world import add_building

ON = date(2025, 6, 1)
GRID = str(uuid.uuid4())


@pytest.fixture
def building(engine: Engine) -> Iterator[str]:
    uid = str(uuid.uuid4())
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO building_counts (building_uid) VALUES (:u)"), {"u": uid}
        )
        connection.execute(
            text("INSERT INTO building_grids (grid_uid, building_uid) VALUES (:g, :u)"),
            {"g": GRID, "u": uid},
        )
    yield uid
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM building_counts WHERE building_uid = :u"), {"u": uid})
        connection.execute(text("DELETE FROM building_grids WHERE grid_uid = :g"), {"g": GRID})


def _row(engine: Engine, uid: str) -> tuple[int, int | None]:
    with engine.connect() as connection:
        generation, counted = connection.execute(
            text(
                "SELECT generation, counted_generation FROM building_counts WHERE building_uid = :u"
            ),
            {"u": uid},
        ).one()
    return int(generation), counted


def _bump(session: Session, uid: str) -> None:
    session.execute(text("SELECT building_counts_bump(ARRAY[CAST(:u AS uuid)])"), {"u": uid})


def test_counting_skips_a_row_a_writer_holds_and_counts_it_on_the_spot(
    engine: Engine, building: str
) -> None:
    with Session(engine) as writer, Session(engine) as counter:
        _bump(writer, building)  # the writer's transaction holds the row
        counter.execute(text("SET LOCAL lock_timeout = '2s'"))  # waiting would fail the test
        assert recount_stale(counter, buildings=[building], on=ON) == 0
        rows = count_grids(counter, grids=[GRID], on=ON)
        assert rows[0]["buildings"] == 1 and rows[0]["houses"] == 0
        counter.commit()
        writer.commit()
    generation, counted = _row(engine, building)
    assert generation == 1 and counted is None  # nothing stored for the held row


def test_a_change_made_while_a_count_is_stored_leaves_the_row_stale(
    engine: Engine, building: str
) -> None:
    with Session(engine) as counter:
        assert recount_stale(counter, buildings=[building], on=ON) == 1  # stored, not committed

        def write() -> None:
            with Session(engine) as writer:
                _bump(writer, building)  # waits for the counter's transaction
                writer.commit()

        writer_thread = threading.Thread(target=write)
        writer_thread.start()
        writer_thread.join(timeout=1)
        assert writer_thread.is_alive(), "the writer did not wait for the stored count"
        counter.commit()
        writer_thread.join(timeout=10)
        assert not writer_thread.is_alive()
    generation, counted = _row(engine, building)
    assert counted == 0 and generation == 1  # counted at 0, changed since: stale
    with Session(engine) as counter:
        assert recount_stale(counter, buildings=[building], on=ON) == 1
        counter.commit()
    assert _row(engine, building) == (1, 1)


COMMUNITY = "990101001001"  # of this test only: committed, then deleted


@pytest.fixture
def lone_grid(engine: Engine) -> Iterator[str]:
    """A committed grid of a community of its own; everything it led to is deleted after."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO divisions (code, name, level, rank) VALUES (:c, '测试', 'village', 5)"
            ),
            {"c": COMMUNITY},
        )
        grid = connection.execute(
            text(
                "INSERT INTO grids (code, community_code, district_code, valid_from, geom) "
                "VALUES (:code, :c, '990101', '2025-01-01', "
                "ST_GeomFromText('POLYGON((113.90 22.70, 113.91 22.70, 113.91 22.71, "
                "113.90 22.71, 113.90 22.70))', 4490)) RETURNING uid::text"
            ),
            {"code": f"{COMMUNITY}001", "c": COMMUNITY},
        ).scalar_one()
    yield str(grid)
    with engine.begin() as connection:
        for sql in (
            "DELETE FROM building_grids WHERE grid_uid = :g",
            "DELETE FROM grid_placements WHERE grid_uid = :g",
            "DELETE FROM grids WHERE uid = :g",
            "DELETE FROM buildings WHERE community_code = :c",
            "DELETE FROM divisions WHERE code = :c",
        ):
            connection.execute(text(sql), {"g": grid, "c": COMMUNITY})


def _grid_buildings(engine: Engine, grid: str) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                text("SELECT count(*) FROM building_grids WHERE grid_uid = :g"), {"g": grid}
            ).scalar_one()
        )


def test_a_building_a_writer_commits_after_a_grid_was_placed_is_found_next_time(
    engine: Engine, lone_grid: str
) -> None:
    with Session(engine) as writer:
        add_building(
            writer,
            community=COMMUNITY,
            seq=1,
            footprint=box(113.9049, 22.7049, 113.9052, 22.7052),
        )
        writer.flush()  # inserted, not committed: the placement below cannot see it
        with Session(engine) as placer:
            assert place_buildings(placer, grids=[lone_grid]) == 1
            placer.commit()
        assert _grid_buildings(engine, lone_grid) == 0
        writer.commit()
    # the writer's edit was made before the placement, but its snapshot did not see it
    with Session(engine) as placer:
        assert place_buildings(placer, grids=[lone_grid]) == 1
        placer.commit()
    assert _grid_buildings(engine, lone_grid) == 1
    with Session(engine) as placer:
        assert place_buildings(placer, grids=[lone_grid]) == 0  # nothing changed since
