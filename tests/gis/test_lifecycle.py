"""A building's life: retire, correct, split, merge, and codes never issued twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from numpy.typing import NDArray
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from gis import cluster
from gis.buildings import queries as building_queries
from gis.buildings import service
from gis.buildings.importing import import_buildings
from gis.buildings.models import Building, BuildingFootprint, BuildingStatus, Lineage
from gis.buildings.reading import open_footprints
from gis.buildings.resurvey import ResurveySummary, resurvey_buildings
from gis.codes import format_code, parse_code
from gis.crs import parse_crs
from gis.db import make_engine, make_session_factory, transaction
from gis.errors import Conflict, InvalidGeometry, InvalidInput, NotFound
from tests.access_world import World
from tests.databases import own_database

COMMUNITY = "990101001001"
SQUARES = [shapely.box(9.5 + i * 0.001, 47.1, 9.5 + i * 0.001 + 0.0002, 47.1002) for i in range(6)]


def _seed_community(session: Session) -> None:
    session.execute(
        text(
            "INSERT INTO divisions (code, name, level, rank) VALUES "
            "('990000000000', 'test', 'province', 1), (:c, 'community', 'village', 5) "
            "ON CONFLICT DO NOTHING"
        ),
        {"c": COMMUNITY},
    )


def _write(path: Path, geoms: Sequence[shapely.Geometry], offset: float = 0.0) -> Path:
    moved = [shapely.transform(g, lambda xy: xy + [offset, 0.0]) for g in geoms]
    frame = gpd.GeoDataFrame(
        {"source_id": [f"s{i}" for i in range(len(geoms))]}, geometry=moved, crs="EPSG:4490"
    )
    frame.to_file(path, layer="buildings")
    return path


def _shifted(dx: float) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    """A coordinate transformation for :func:`shapely.transform`: ``dx`` degrees east."""
    return lambda xy: xy + [dx, 0.0]


def _import(factory: sessionmaker[Session], path: Path) -> None:
    source = open_footprints(path, layer="buildings", crs=None)
    import_buildings(
        factory,
        source=source,
        community_code=COMMUNITY,
        repair=False,
        rejects_file=path.with_suffix(".rejects.csv"),
    )


@pytest.fixture
def buildings(factory: sessionmaker[Session], db: Session, tmp_path: Path) -> list[str]:
    _seed_community(db)
    db.commit()
    _import(factory, _write(tmp_path / "squares.gpkg", SQUARES))
    return list(db.scalars(select(Building.code).order_by(Building.seq)))


def test_retire_keeps_the_code(db: Session, buildings: list[str]) -> None:
    retired = service.retire_building(db, code=buildings[0])
    assert retired.status is BuildingStatus.RETIRED and retired.retired_reason == "demolished"
    assert service.code_status(db, code=buildings[0]) == "retired"
    with pytest.raises(Conflict, match="retired"):
        service.retire_building(db, code=buildings[0])


def test_correct_geometry_bumps_version_and_keeps_history(
    db: Session, buildings: list[str]
) -> None:
    moved = shapely.transform(SQUARES[1], lambda xy: xy + [0.00001, 0.0])
    building = service.correct_geometry(db, code=buildings[1], geom=moved)
    assert building.code == buildings[1] and building.version == 2
    history = db.scalars(
        select(BuildingFootprint).where(BuildingFootprint.building_uid == building.uid)
    ).all()
    assert [h.version for h in history] == [1]
    old = db.scalar(
        select(func.ST_AsText(BuildingFootprint.geom)).where(
            BuildingFootprint.building_uid == building.uid
        )
    )
    assert shapely.equals(shapely.from_wkt(old), SQUARES[1])
    with pytest.raises(InvalidGeometry):
        service.correct_geometry(
            db,
            code=buildings[1],
            geom=shapely.Polygon([(9.5, 47.1), (9.6, 47.2), (9.6, 47.1), (9.5, 47.2)]),
        )


def test_split_and_merge_write_lineage(db: Session, buildings: list[str]) -> None:
    minx, miny, maxx, maxy = SQUARES[2].bounds
    halves = [
        shapely.box(minx, miny, (minx + maxx) / 2, maxy),
        shapely.box((minx + maxx) / 2, miny, maxx, maxy),
    ]
    children = service.split_building(db, code=buildings[2], parts=halves)
    assert len(children) == 2 and all(c.status is BuildingStatus.ACTIVE for c in children)
    assert service.code_status(db, code=buildings[2]) == "retired"
    merged = service.merge_buildings(db, codes=[c.code for c in children])
    lineage = db.execute(
        select(Lineage.parent_code, Lineage.child_code, Lineage.event).order_by(Lineage.id)
    ).all()
    assert [(p, c, e.value) for p, c, e in lineage] == [
        (buildings[2], children[0].code, "split"),
        (buildings[2], children[1].code, "split"),
        (children[0].code, merged.code, "merge"),
        (children[1].code, merged.code, "merge"),
    ]
    assert shapely.equals(shapely.from_wkb(bytes(merged.geom.data)).buffer(0), SQUARES[2])
    with pytest.raises(InvalidGeometry, match="lies 100% outside building"):
        service.split_building(db, code=merged.code, parts=[SQUARES[3], SQUARES[4]])


def test_footprints_stay_where_they_belong(db: Session, buildings: list[str]) -> None:
    """A correction, a split or a merge may not put a footprint over another live building,
    outside its community (when it has a boundary), outside the building split, or merge
    buildings that lie apart: each was accepted and stored."""
    # a corrected footprint drawn over its neighbour
    with pytest.raises(InvalidGeometry, match=f"building {buildings[1]} already covers 100%"):
        service.correct_geometry(db, code=buildings[0], geom=SQUARES[1])
    # a split whose parts overlap, or reach far beyond the building
    minx, miny, maxx, maxy = SQUARES[2].bounds
    with pytest.raises(InvalidGeometry, match="parts 1 and 2 overlap"):
        service.split_building(db, code=buildings[2], parts=[SQUARES[2], SQUARES[2]])
    big = shapely.box(minx, miny, maxx + 0.01, maxy)
    with pytest.raises(InvalidGeometry, match="outside building"):
        service.split_building(db, code=buildings[2], parts=[SQUARES[2], big])
    # a merge of buildings ~100 m apart
    with pytest.raises(InvalidGeometry, match="must touch"):
        service.merge_buildings(db, codes=[buildings[3], buildings[4]])
    # a corrected footprint far from its community's boundary (once it has one)
    db.execute(
        text("UPDATE divisions SET geom = ST_Multi(ST_GeomFromText(:w, 4490)) WHERE code = :c"),
        {"w": shapely.box(9.49, 47.09, 9.52, 47.11).wkt, "c": COMMUNITY},
    )
    far = shapely.transform(SQUARES[5], lambda xy: xy + [1.0, 0.0])
    with pytest.raises(InvalidGeometry, match=f"outside community {COMMUNITY}"):
        service.correct_geometry(db, code=buildings[5], geom=far)
    nudged = shapely.transform(SQUARES[5], lambda xy: xy + [0.00001, 0.0])
    assert service.correct_geometry(db, code=buildings[5], geom=nudged).version == 2
    assert db.scalar(select(func.count()).select_from(Lineage)) == 0  # nothing half done


def test_reasons_with_lineage_are_not_given_by_hand(db: Session, buildings: list[str]) -> None:
    for reason in ("split", "merged", "whatever"):
        with pytest.raises(InvalidInput, match="demolished, error, removed") as refused:
            service.retire_building(db, code=buildings[0], reason=reason)
        assert refused.value.field == "reason"


def test_unknown_and_house_codes_are_not_found(db: Session, buildings: list[str]) -> None:
    parsed = parse_code(buildings[0])
    unknown = format_code(community_code=parsed.community_code, structure_class=1, seq=999999)
    with pytest.raises(NotFound):
        service.get_building(db, code=unknown)
    assert service.code_status(db, code=unknown) is None


def test_a_retired_code_is_never_issued_again(
    factory: sessionmaker[Session], db: Session, buildings: list[str], tmp_path: Path
) -> None:
    for code in buildings:
        service.retire_building(db, code=code)
    db.commit()
    # new footprints on the very same spots, splits and merges: all new codes
    _import(factory, _write(tmp_path / "again.gpkg", SQUARES))
    live = db.scalars(select(Building).where(Building.status != BuildingStatus.RETIRED)).all()
    children = service.split_building(
        db,
        code=live[0].code,
        parts=[
            shapely.box(
                *SQUARES[0].bounds[:2], SQUARES[0].bounds[0] + 0.0001, SQUARES[0].bounds[3]
            ),
            shapely.box(
                SQUARES[0].bounds[0] + 0.0001, SQUARES[0].bounds[1], *SQUARES[0].bounds[2:]
            ),
        ],
    )
    service.merge_buildings(db, codes=[children[0].code, children[1].code])
    all_codes = list(db.scalars(select(Building.code)))
    assert len(all_codes) == len(set(all_codes))
    assert not set(buildings) & {b.code for b in live}
    # even with the counter wound back by hand, the database refuses to reissue a code
    db.execute(
        text("UPDATE building_code_counters SET last_seq = 0 WHERE community_code = :c"),
        {"c": COMMUNITY},
    )
    db.commit()
    with pytest.raises(Conflict, match="refusing to reissue"):
        _import(factory, _write(tmp_path / "third.gpkg", SQUARES[:1], offset=0.01))


@pytest.fixture
def scratch_factory(pg_cluster: cluster.Cluster) -> Iterator[sessionmaker[Session]]:
    """A database of its own, migrated, for work that must really commit in parallel."""
    with own_database(pg_cluster, "concurrent") as url:
        engine = make_engine(url, pool_size=10)
        yield make_session_factory(engine)
        engine.dispose()


def test_eight_concurrent_importers_issue_no_duplicate(
    scratch_factory: sessionmaker[Session], shared_data: Path, tmp_path: Path
) -> None:
    with transaction(scratch_factory) as session:
        _seed_community(session)
    nanshan = gpd.read_file(shared_data / "shenzhen-nanshan.gpkg", layer="buildings", rows=400)
    nanshan = nanshan[shapely.is_valid(nanshan.geometry.values)]
    files = []
    for worker in range(8):
        moved = nanshan.copy()
        moved.geometry = shapely.transform(nanshan.geometry.values, _shifted(worker * 0.1))
        path = tmp_path / f"worker-{worker}.gpkg"
        moved.set_crs("EPSG:4490", allow_override=True).to_file(path, layer="buildings")
        files.append(path)
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(path: Path) -> None:
        try:
            source = open_footprints(path, layer="buildings", crs=None)
            barrier.wait()
            import_buildings(
                scratch_factory,
                source=source,
                community_code=COMMUNITY,
                repair=False,
                rejects_file=path.with_suffix(".csv"),
                batch_size=50,
            )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(path,)) for path in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with transaction(scratch_factory) as session:
        codes = list(session.scalars(select(Building.code)))
        seqs = sorted(session.scalars(select(Building.seq)))
    assert len(codes) == 8 * len(nanshan) == len(set(codes))
    assert seqs == list(range(1, len(codes) + 1))  # no gaps either


def test_two_loaders_in_one_import(
    scratch_factory: sessionmaker[Session], shared_data: Path, tmp_path: Path
) -> None:
    with transaction(scratch_factory) as session:
        _seed_community(session)
    path = shared_data / "shenzhen-nanshan.gpkg"
    source = open_footprints(path, layer="buildings", crs=parse_crs("GCJ02"))
    summary = import_buildings(
        scratch_factory, source=source, community_code=COMMUNITY, repair=False,
        rejects_file=tmp_path / "r.csv", batch_size=500, loaders=2,
    )  # fmt: skip
    assert (summary.read, summary.imported, summary.rejected) == (5438, 5435, 3)
    with transaction(scratch_factory) as session:
        seqs = sorted(session.scalars(select(Building.seq)))
    assert seqs == list(range(1, 5436))


def test_nobody_is_left_living_in_a_retired_house(db: Session, world: World) -> None:
    """Retiring (or splitting) a building people live in today is refused with their number:
    they are deregistered or moved first (694 residents were left in retired houses)."""
    code = world.buildings["own"]
    with pytest.raises(Conflict, match=r"people live in the houses of .* today") as refused:
        service.retire_building(db, code=code)
    assert refused.value.field == "code"
    shape = shapely.from_wkb(
        bytes(db.scalars(select(Building.geom).where(Building.code == code)).one().data)
    )
    minx, miny, maxx, maxy = shape.bounds
    halves = [shapely.box(minx, miny, (minx + maxx) / 2, maxy),
              shapely.box((minx + maxx) / 2, miny, maxx, maxy)]  # fmt: skip
    with pytest.raises(Conflict, match="people live in the houses of"):
        service.split_building(db, code=code, parts=[shape.intersection(h) for h in halves])
    assert service.code_status(db, code=code) == "active"


def test_an_import_given_a_community_keeps_to_its_boundary(
    factory: sessionmaker[Session], db: Session, tmp_path: Path
) -> None:
    """``--community`` names the community of every footprint of the file; when it has a
    boundary, footprints far outside it (a file of elsewhere, a wrong --crs) are rejected rows,
    not buildings coded there."""
    _seed_community(db)
    db.execute(
        text("UPDATE divisions SET geom = ST_Multi(ST_GeomFromText(:w, 4490)) WHERE code = :c"),
        {"w": shapely.box(9.49, 47.09, 9.52, 47.11).wkt, "c": COMMUNITY},
    )
    db.commit()
    source = open_footprints(_write(tmp_path / "far.gpkg", SQUARES, offset=1.0),
                             layer="buildings", crs=None)  # fmt: skip
    far = import_buildings(factory, source=source, community_code=COMMUNITY, repair=False,
                           rejects_file=tmp_path / "far.csv")  # fmt: skip
    assert far.imported == 0 and far.rejected == len(SQUARES)
    assert "outside community 990101001001" in far.rejections[0].reason
    _import(factory, _write(tmp_path / "near.gpkg", SQUARES))
    assert db.scalar(select(func.count()).select_from(Building)) == len(SQUARES)


def test_new_buildings_between_coded_ones_are_imported(
    factory: sessionmaker[Session], db: Session, buildings: list[str], tmp_path: Path
) -> None:
    """A plain import is refused only when a footprint lies over a live building (the whole
    file's box holding one was enough: new buildings between coded ones needed --resurvey,
    which marks every building missing from the file for removal)."""
    between = [shapely.box(9.5005 + i * 0.001, 47.1, 9.5007 + i * 0.001, 47.1002) for i in range(3)]
    _import(factory, _write(tmp_path / "between.gpkg", between))
    assert db.scalar(select(func.count()).select_from(Building)) == len(SQUARES) + 3
    over = [shapely.transform(SQUARES[0], lambda xy: xy + [0.00005, 0.0])]
    with pytest.raises(Conflict, match="1 buildings already exist where this file's footprints"):
        _import(factory, _write(tmp_path / "over.gpkg", over))


def test_a_broken_off_import_with_two_loaders_records_what_is_stored(
    scratch_factory: sessionmaker[Session], shared_data: Path, tmp_path: Path
) -> None:
    """With two loaders a batch can commit before it is counted: the failed batch's record
    said 1,499 buildings where the database held 1,999."""
    with transaction(scratch_factory) as session:
        _seed_community(session)
    frame = gpd.read_file(shared_data / "shenzhen-nanshan.gpkg", layer="buildings")
    whole = tmp_path / "nanshan.fgb"
    frame.to_file(whole, driver="FlatGeobuf", SPATIAL_INDEX="NO")
    broken = tmp_path / "broken.fgb"
    broken.write_bytes(whole.read_bytes()[: whole.stat().st_size * 3 // 4])
    source = open_footprints(broken, layer=None, crs=parse_crs("GCJ02"))
    with pytest.raises(InvalidInput, match="batches before are stored"):
        import_buildings(scratch_factory, source=source, community_code=COMMUNITY, repair=False,
                         rejects_file=tmp_path / "r.csv", batch_size=500, loaders=2)  # fmt: skip
    with transaction(scratch_factory) as session:
        stored = session.scalar(select(func.count()).select_from(Building))
        recorded = session.execute(
            text("SELECT status, counts->>'imported' FROM import_batches WHERE kind = 'buildings'")
        ).one()
    assert stored and recorded == ("failed", str(stored))


def test_a_resurveys_new_buildings_are_confirmed_together(
    factory: sessionmaker[Session], db: Session, buildings: list[str], tmp_path: Path
) -> None:
    """A resurvey gives new footprints provisional codes; they were confirmed one code at a
    time (thousands after a large re-survey). With --repair it names what it repaired."""
    new = [shapely.box(9.5005 + i * 0.001, 47.1, 9.5007 + i * 0.001, 47.1002) for i in range(3)]
    # the last new one is drawn as a bow tie: --repair mends it, and names it (it named none)
    x = 9.5025
    new[2] = shapely.Polygon([(x, 47.1), (x + 0.0002, 47.1002), (x + 0.0002, 47.1), (x, 47.1002)])
    path = _write(tmp_path / "resurvey.gpkg", SQUARES + new)
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
        _seed_community(session)
    _import(scratch_factory, _write(tmp_path / "first.gpkg", SQUARES))
    added = [
        shapely.box(9.51 + i * 0.001, 47.1, 9.51 + i * 0.001 + 0.0002, 47.1002) for i in range(4)
    ]
    path = _write(tmp_path / "resurvey.gpkg", SQUARES + added)
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
        _write(tmp_path / "next.gpkg", [moved, *shifted]), layer="buildings", crs=None
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
        _seed_community(session)
        _two_communities(session)
    _import(scratch_factory, _write(tmp_path / "squares.gpkg", SQUARES))
    # squares 3-5 lie in the next community, drawn 1 m off: the file surveys it alone
    shifted = [shapely.transform(g, lambda xy: xy + [0.00001, 0.0]) for g in SQUARES[3:]]
    path = _write(tmp_path / "next.gpkg", shifted)
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


def test_a_merged_footprint_covers_the_buildings_merged(db: Session, buildings: list[str]) -> None:
    """A merge given a footprint ~150 m from both buildings was accepted: the merged building
    stood where neither had been."""
    minx, miny, maxx, maxy = SQUARES[2].bounds
    middle = (minx + maxx) / 2
    halves = service.split_building(
        db,
        code=buildings[2],
        parts=[shapely.box(minx, miny, middle, maxy), shapely.box(middle, miny, maxx, maxy)],
    )
    codes = [child.code for child in halves]
    away = shapely.transform(SQUARES[2], lambda xy: xy + [0.0, 0.0015])
    with pytest.raises(InvalidGeometry, match=f"{codes[0]}, {codes[1]} .*outside") as refused:
        service.merge_buildings(db, codes=codes, geom=away)
    assert refused.value.field == "geometry"
    # one half drawn into the footprint, the other left out: that one is named
    with pytest.raises(InvalidGeometry, match=f"leaves building {codes[1]} .*outside"):
        service.merge_buildings(db, codes=codes, geom=shapely.box(minx, miny, middle, maxy))
    merged = service.merge_buildings(db, codes=codes, geom=SQUARES[2].buffer(0.000005))
    assert merged.status is BuildingStatus.ACTIVE


def test_a_corrected_footprint_stays_in_its_community(db: Session, buildings: list[str]) -> None:
    """A correction keeps to the building's community within a few metres of its boundary (it
    was given the ~500 m a whole file named with --community may stray: a footprint 75 m out
    was stored)."""
    db.execute(
        text("UPDATE divisions SET geom = ST_Multi(ST_GeomFromText(:w, 4490)) WHERE code = :c"),
        {"w": shapely.box(9.49, 47.09, 9.5051, 47.11).wkt, "c": COMMUNITY},
    )
    # SQUARES[5] spans 9.505-9.5052: its middle lies ~0 m outside; 75 m further east is refused
    out = shapely.transform(SQUARES[5], lambda xy: xy + [0.001, 0.0])
    with pytest.raises(InvalidGeometry, match=f"outside community {COMMUNITY}") as refused:
        service.correct_geometry(db, code=buildings[5], geom=out)
    assert refused.value.field == "geometry"
    # ~3 m past the boundary: a correction along it, accepted
    nudged = shapely.transform(SQUARES[5], lambda xy: xy + [0.00004, 0.0])
    assert service.correct_geometry(db, code=buildings[5], geom=nudged).version == 2


def test_a_resurveys_changelog_is_what_it_counts(
    factory: sessionmaker[Session], db: Session, buildings: list[str], tmp_path: Path
) -> None:
    """A building already pending removal was written again as a pending_removal change but not
    counted; a footprint back within a millimetre (floating-point noise: a GeoJSON round trip)
    was "changed", its version bumped."""

    def resurvey(geoms: Sequence[shapely.Geometry], name: str) -> Any:
        source = open_footprints(_write(tmp_path / name, geoms), layer="buildings", crs=None)
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
