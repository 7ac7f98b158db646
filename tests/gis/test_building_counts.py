"""Kept building counts under concurrent writers (migration 0010_counts): counting never waits
for a writer, and a writer's change made while a count is stored is never taken as counted.

These tests commit (two connections must see each other's work), on a building uid of their
own that no other test uses, and delete its row at the end."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from gis.grids.building_counts import count_members, recount_stale

ON = date(2025, 6, 1)


@pytest.fixture
def building(engine: Engine) -> Iterator[str]:
    uid = str(uuid.uuid4())
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO building_counts (building_uid) VALUES (:u)"), {"u": uid}
        )
    yield uid
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM building_counts WHERE building_uid = :u"), {"u": uid})


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
        rows = count_members(counter, grids=[0], buildings=[building], on=ON)
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
