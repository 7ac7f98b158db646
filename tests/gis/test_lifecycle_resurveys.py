"""Re-surveys of a community: new buildings confirmed, two runs at once, the next community."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import shapely
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from gis.buildings import queries as building_queries
from gis.buildings import service
from gis.buildings.models import Building, BuildingStatus
from gis.buildings.reading import open_footprints
from gis.buildings.resurvey import ResurveySummary, resurvey_buildings
from gis.db import transaction
from gis.errors import NotFound
from tests.gis.lifecycle_world import (
    COMMUNITY,
    SQUARES,
    import_footprints,
    seed_community,
    write_footprints,
)


def test_a_resurveys_new_buildings_are_confirmed_together(
    factory: sessionmaker[Session], db: Session, buildings: list[str], tmp_path: Path
) -> None:
    """A resurvey gives new footprints provisional codes; they were confirmed one code at a
    time (thousands after a large re-survey). With --repair it names what it repaired."""
    new = [shapely.box(9.5005 + i * 0.001, 47.1, 9.5007 + i * 0.001, 47.1002) for i in range(3)]
    # the last new one is drawn as a bow tie: --repair mends it, and names it (it named none)
    x = 9.5025
    new[2] = shapely.Polygon([(x, 47.1), (x + 0.0002, 47.1002), (x + 0.0002, 47.1), (x, 47.1002)])
    path = write_footprints(tmp_path / "resurvey.gpkg", SQUARES + new)
    source = open_footprints(path, layer="buildings", crs=None)
    summary = resurvey_buildings(factory, source=source, community_code=COMMUNITY, repair=True,
                                 rejects_file=tmp_path / "r.csv")  # fmt: skip
    assert summary.added == 3 and summary.repaired_ids == ["s8"]
    confirmed = service.confirm_provisional_of_batch(db, batch_id=summary.batch_id)
    assert len(confirmed) == 3
    statuses = db.scalars(select(Building.status).where(Building.code.in_(confirmed))).all()
    assert set(statuses) == {BuildingStatus.ACTIVE}
    with pytest.raises(NotFound, match="has no provisional building") as none_left:
        service.confirm_provisional_of_batch(db, batch_id=summary.batch_id)
    assert none_left.value.field == "--batch"


def _resurveying(
    factory: sessionmaker[Session],
    path: Path,
    community_code: str | None,
    *,
    summaries: list[ResurveySummary],
    errors: list[BaseException],
) -> Callable[[], None]:
    """A thread's work: re-survey ``path``, its summary or its error kept (rejects in a file
    named after the thread, beside ``path``)."""

    def work() -> None:
        try:
            source = open_footprints(path, layer="buildings", crs=None)
            summaries.append(resurvey_buildings(
                factory, source=source, community_code=community_code, repair=False,
                rejects_file=path.with_name(f"rejects-{threading.current_thread().name}.csv"),
            ))  # fmt: skip
        except BaseException as error:
            errors.append(error)

    return work


def test_two_resurveys_of_one_file_at_once_add_each_new_footprint_once(
    scratch_factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first re-survey is held just before it commits; the second, started then, waits for
    the community the first is changing and finds the new footprints stored: it adds nothing
    (it read the live buildings at once and added them under codes of its own)."""
    with transaction(scratch_factory) as session:
        seed_community(session)
    import_footprints(scratch_factory, write_footprints(tmp_path / "first.gpkg", SQUARES))
    added = [
        shapely.box(9.51 + i * 0.001, 47.1, 9.51 + i * 0.001 + 0.0002, 47.1002) for i in range(4)
    ]
    path = write_footprints(tmp_path / "resurvey.gpkg", SQUARES + added)
    held, release = threading.Event(), threading.Event()
    finish = building_queries.finish_import_batch

    def finish_held(*args: Any, **kwargs: Any) -> None:
        if threading.current_thread().name == "first":
            held.set()
            release.wait(30)
        finish(*args, **kwargs)

    monkeypatch.setattr(building_queries, "finish_import_batch", finish_held)
    summaries: list[ResurveySummary] = []
    errors: list[BaseException] = []
    work = _resurveying(scratch_factory, path, COMMUNITY, summaries=summaries, errors=errors)
    first = threading.Thread(target=work, name="first")
    first.start()
    assert held.wait(30)
    second = threading.Thread(target=work, name="second")
    second.start()
    second.join(2.0)
    release.set()
    for thread in (first, second):
        thread.join(60)
    assert errors == []
    assert sorted(s.added for s in summaries) == [0, 4]
    with transaction(scratch_factory) as session:
        live = session.scalar(
            select(func.count())
            .select_from(Building)
            .where(Building.status != BuildingStatus.RETIRED)
        )
    assert live == len(SQUARES) + len(added)


NEIGHBOUR = "990101001002"


WAITING_FOR_A_COUNTER = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND wait_event_type = 'Lock' AND query LIKE '%building_code_counters%'"
)


def _two_communities(session: Session) -> None:
    """The community and the next one east, split at x = 9.50215 (between squares 2 and 3)."""
    session.execute(
        text("INSERT INTO divisions (code, name, level, rank) VALUES (:n, 'next', 'village', 5)"),
        {"n": NEIGHBOUR},
    )
    for code, box in ((COMMUNITY, (9.49, 47.09, 9.50215, 47.11)),
                      (NEIGHBOUR, (9.50215, 47.09, 9.52, 47.11))):  # fmt: skip
        session.execute(
            text("UPDATE divisions SET geom = ST_Multi(ST_GeomFromText(:w, 4490)) WHERE code = :c"),
            {"w": shapely.box(*box).wkt, "c": code},
        )


def test_a_building_corrected_into_the_next_community_keeps_its_code_in_its_resurvey(
    factory: sessionmaker[Session], db: Session, buildings: list[str], tmp_path: Path
) -> None:
    """The re-survey of a community matched only the buildings whose (frozen) code names it: a
    building corrected across the boundary was left out, and the same footprint in the file
    became a second live code over it. A file footprint lying over a live building of another
    community is matched to it too, never added over it."""
    _two_communities(db)
    # ~4.5 m east: its point on surface now lies in the next community, 1 m from the boundary
    moved = shapely.transform(SQUARES[2], lambda xy: xy + [0.00006, 0.0])
    service.correct_geometry(db, code=buildings[2], geom=moved)
    db.commit()
    # the next community's re-survey: the moved building unchanged, and the squares east of it
    # drawn 1 m off (their codes name the first community: they keep them all the same)
    shifted = [shapely.transform(g, lambda xy: xy + [0.00001, 0.0]) for g in SQUARES[3:]]
    source = open_footprints(
        write_footprints(tmp_path / "next.gpkg", [moved, *shifted]), layer="buildings", crs=None
    )
    summary = resurvey_buildings(factory, source=source, community_code=None, repair=False,
                                 rejects_file=tmp_path / "r.csv")  # fmt: skip
    assert (summary.added, summary.review) == (0, 0)
    assert (summary.unchanged, summary.changed) == (1, len(SQUARES) - 3)
    # the first community was not surveyed: none of its buildings is flagged for removal
    assert summary.pending_removal == 0
    live = db.scalars(select(Building.code).where(Building.status != BuildingStatus.RETIRED))
    assert sorted(live) == sorted(buildings)
    assert service.code_status(db, code=buildings[2]) == "active"


def test_a_resurvey_locks_the_neighbour_whose_buildings_it_matches(
    scratch_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """A re-survey of the next community matches buildings coded in the first one (they lie in
    the next community's polygon): it changes them, so it waits for the first community's code
    counter, as an import or a re-survey of that community does, instead of changing them under
    a concurrent re-survey of it."""
    with transaction(scratch_factory) as session:
        seed_community(session)
        _two_communities(session)
    import_footprints(scratch_factory, write_footprints(tmp_path / "squares.gpkg", SQUARES))
    # squares 3-5 lie in the next community, drawn 1 m off: the file surveys it alone
    shifted = [shapely.transform(g, lambda xy: xy + [0.00001, 0.0]) for g in SQUARES[3:]]
    path = write_footprints(tmp_path / "next.gpkg", shifted)
    summaries: list[ResurveySummary] = []
    errors: list[BaseException] = []
    work = _resurveying(scratch_factory, path, None, summaries=summaries, errors=errors)
    holder = scratch_factory()
    worker = threading.Thread(target=work)
    try:
        holder.execute(
            text("SELECT 1 FROM building_code_counters WHERE community_code = :c FOR UPDATE"),
            {"c": COMMUNITY},
        )
        worker.start()
        waiting = 0
        for _ in range(300):
            # the activity view is read once a transaction: the holder's must read it anew
            holder.execute(text("SELECT pg_stat_clear_snapshot()"))
            waiting = holder.scalar(WAITING_FOR_A_COUNTER) or 0
            if waiting or not worker.is_alive():
                break
            time.sleep(0.1)
        assert errors == []
        assert waiting == 1, "the re-survey did not wait for the first community's counter"
    finally:
        holder.rollback()
        holder.close()
        worker.join(60)
    assert errors == []
    (summary,) = summaries
    assert (summary.changed, summary.added, summary.pending_removal) == (3, 0, 0)


def test_a_resurveys_changelog_is_what_it_counts(
    factory: sessionmaker[Session], db: Session, buildings: list[str], tmp_path: Path
) -> None:
    """A building already pending removal was written again as a pending_removal change but not
    counted; a footprint back within a millimetre (floating-point noise: a GeoJSON round trip)
    was "changed", its version bumped."""

    def resurvey(geoms: Sequence[shapely.Geometry], name: str) -> Any:
        source = open_footprints(
            write_footprints(tmp_path / name, geoms), layer="buildings", crs=None
        )
        return resurvey_buildings(factory, source=source, community_code=COMMUNITY,
                                  repair=False, rejects_file=tmp_path / "r.csv")  # fmt: skip

    def logged(batch_id: int) -> dict[str, int]:
        rows = db.execute(
            text("SELECT change, count(*) FROM import_changes WHERE batch_id = :b GROUP BY 1"),
            {"b": batch_id},
        ).all()
        return {str(change): int(count) for change, count in rows}

    first = resurvey(SQUARES[1:], "first.gpkg")
    assert first.pending_removal == 1
    assert logged(first.batch_id) == {"pending_removal": 1, "unchanged": len(SQUARES) - 1}
    # the same survey again, its footprints ~0.03 mm off (3e-10°) as a round trip leaves them
    noisy = [shapely.transform(g, lambda xy: xy + 3e-10) for g in SQUARES[1:]]
    again = resurvey(noisy, "again.gpkg")
    assert (again.pending_removal, again.changed, again.unchanged) == (0, 0, len(SQUARES) - 1)
    assert logged(again.batch_id) == {"unchanged": len(SQUARES) - 1}
    assert set(db.scalars(select(Building.version))) == {1}
    # a footprint moved 1 cm is a change
    moved = [shapely.transform(SQUARES[1], lambda xy: xy + [1e-7, 0.0]), *SQUARES[2:]]
    assert resurvey(moved, "moved.gpkg").changed == 1
