"""A building's life: retire, correct, split, merge, and codes never issued twice."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from gis.buildings import service
from gis.buildings.models import Building, BuildingFootprint, BuildingStatus, Lineage
from gis.codes import format_code, parse_code
from gis.errors import Conflict, InvalidGeometry, InvalidInput, NotFound
from tests.access_world import World
from tests.gis.lifecycle_world import COMMUNITY, SQUARES, import_footprints, write_footprints


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
    import_footprints(factory, write_footprints(tmp_path / "again.gpkg", SQUARES))
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
        import_footprints(
            factory, write_footprints(tmp_path / "third.gpkg", SQUARES[:1], offset=0.01)
        )


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
