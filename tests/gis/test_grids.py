"""Live grids: import with codes kept or issued, versions, as-of answers, retired codes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest
import shapely
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.codes import format_code
from gis.divisions.models import DivisionLevel
from gis.errors import InvalidInput, TopologyViolation
from gis.grids.importing import GridImportResult, import_grids, read_grid_file
from gis.grids.models import Grid
from gis.grids.queries import select_grid_lineage
from gis.grids.service import grid_page
from gis.grids.validation import validate_live
from tests.grids_world import (
    COMMUNITY_EAST,
    COMMUNITY_WEST,
    add_building,
    add_divisions,
    build_small_world,
    grid_file,
)

ADMIN = Scope.system("cli:test")
START = date(2025, 1, 1)
NW, NE = box(113.80, 22.61, 113.81, 22.62), box(113.81, 22.61, 113.82, 22.62)
SW, SE = box(113.80, 22.60, 113.81, 22.61), box(113.81, 22.60, 113.82, 22.61)
EW, EE = box(113.82, 22.60, 113.83, 22.62), box(113.83, 22.60, 113.84, 22.62)


def _import(
    db: Session,
    tmp_path: Path,
    polygons: list[object],
    codes: Sequence[str | None],
    valid_from: date = START,
    name: str = "grids.geojson",
) -> GridImportResult:
    path = grid_file(tmp_path / name, polygons, codes)
    return import_grids(db, path=path, valid_from=valid_from, actor=ADMIN.actor)


def _codes_on(db: Session, on: date) -> dict[str, BaseGeometry]:
    rows = db.execute(
        select(Grid.code, Grid.geom.ST_AsBinary())
        .where(Grid.valid_from <= on, (Grid.valid_to.is_(None)) | (Grid.valid_to > on))
        .where(Grid.district_code == "970101")
    )
    return {code: shapely.from_wkb(bytes(wkb)) for code, wkb in rows}


def test_import_keeps_valid_codes_and_issues_the_rest_in_reading_order(
    db: Session, tmp_path: Path
) -> None:
    build_small_world(db)
    kept = f"{COMMUNITY_WEST}005"
    result = _import(
        db,
        tmp_path,
        [NW, NE, SW, SE, EW, EE],
        [kept, "12345", None, f"{COMMUNITY_EAST}007", None, None],
    )
    live = _codes_on(db, START)
    by_shape = {
        next(c for c, g in live.items() if g.equals(p)): i
        for i, p in enumerate([NW, NE, SW, SE, EW, EE])
    }
    # NW keeps its code; NE, SW, SE get the next ones north→south, west→east
    assert by_shape == {
        kept: 0,
        f"{COMMUNITY_WEST}006": 1,
        f"{COMMUNITY_WEST}007": 2,
        f"{COMMUNITY_WEST}008": 3,
        f"{COMMUNITY_EAST}001": 4,
        f"{COMMUNITY_EAST}002": 5,
    }
    assert len(result.not_kept) == 2
    assert "lies in community 970101001001" in " ".join(result.not_kept)
    assert validate_live(db, prefix="970101", on=START).errors == []
    # buildings of a community without any grid (nor a boundary) lie in no grid: one problem
    bare = "970101001003"
    add_divisions(db, [(bare, DivisionLevel.VILLAGE, "970101001000")], {})
    for seq in (1, 2):
        add_building(
            db,
            community=bare,
            seq=seq,
            footprint=box(113.90 + seq * 0.001, 22.60, 113.9003 + seq * 0.001, 22.6003),
        )
    db.flush()
    problems = validate_live(db, prefix="970101", on=START).errors
    assert [p.message for p in problems] == [
        f"2 buildings of community {bare} lie in no grid: it has none"
    ]  # fmt: skip
    db.execute(text("UPDATE buildings SET status = 'retired' WHERE community_code = :c"),
               {"c": bare})  # fmt: skip
    assert validate_live(db, prefix="970101", on=START).errors == []
    codes = sorted(by_shape, key=lambda code: by_shape[code])
    again = _import(db, tmp_path, [NW, NE, SW, SE, EW, EE], codes, name="again.geojson")
    assert sorted(again.switch.unchanged) == sorted(codes)
    assert again.switch.added == again.switch.changed == []


def test_an_edit_keeps_the_code_in_a_new_version_and_as_of_answers_follow(
    db: Session, tmp_path: Path
) -> None:
    world = build_small_world(db)
    _import(db, tmp_path, [NW, NE, SW, SE, EW, EE], [None] * 6)
    west = {
        code: geom for code, geom in _codes_on(db, START).items() if code.startswith(COMMUNITY_WEST)
    }
    nw = next(c for c, g in west.items() if g.equals(NW))
    ne = next(c for c, g in west.items() if g.equals(NE))
    # the NW/NE boundary moves 0.005° east: NW takes the buildings of NE's west column
    moved_nw, moved_ne = box(113.80, 22.61, 113.815, 22.62), box(113.815, 22.61, 113.82, 22.62)
    switch_day = date(2025, 6, 1)
    others = [c for c in west if c not in (nw, ne)]
    result = _import(
        db,
        tmp_path,
        [moved_nw, moved_ne, SW, SE],
        [nw, ne, *sorted(others, key=lambda c: west[c].bounds[0])],
        valid_from=switch_day,
        name="moved.geojson",
    )
    assert sorted(result.switch.changed) == sorted([nw, ne])
    versions = db.execute(
        select(Grid.version, Grid.valid_from, Grid.valid_to)
        .where(Grid.code == nw)
        .order_by(Grid.version)
    ).all()
    assert versions == [(1, START, switch_day), (2, switch_day, None)]
    building = world.buildings[COMMUNITY_WEST][10]  # x = 113.8125, y = 22.6125: NE, then NW
    before, _ = grid_page(db, scope=ADMIN, on=date(2025, 5, 31), building_code=building)
    after, _ = grid_page(db, scope=ADMIN, on=switch_day, building_code=building)
    assert [f["id"] for f in json.loads(before)["features"]] == [ne]
    assert [f["id"] for f in json.loads(after)["features"]] == [nw]


def test_retired_codes_are_never_issued_again(db: Session, tmp_path: Path) -> None:
    build_small_world(db)
    _import(db, tmp_path, [NW, NE, SW, SE], [None] * 4)
    west = _codes_on(db, START)
    ne = next(c for c, g in west.items() if g.equals(NE))
    nw = next(c for c, g in west.items() if g.equals(NW))
    north = box(113.80, 22.61, 113.82, 22.62)  # NW and NE merged: both retired, a new code
    result = _import(
        db,
        tmp_path,
        [north, SW, SE],
        [None, *[c for c, g in west.items() if g.equals(SW) or g.equals(SE)]],
        valid_from=date(2025, 3, 1),
        name="merged.geojson",
    )
    assert sorted(result.switch.retired) == sorted([nw, ne])
    (merged,) = result.switch.added
    assert merged == f"{COMMUNITY_WEST}005"
    events = {
        (row.parent_code, row.child_code, str(row.event))
        for row in select_grid_lineage(db, code=merged)
    }
    assert events == {(nw, merged, "merge"), (ne, merged, "merge")}
    # a file naming the retired code gets a new one
    split = [box(113.80, 22.61, 113.81, 22.62), box(113.81, 22.61, 113.82, 22.62)]
    again = _import(
        db,
        tmp_path,
        [*split, SW, SE],
        [ne, None, *[c for c, g in west.items() if g.equals(SW) or g.equals(SE)]],
        valid_from=date(2025, 4, 1),
        name="resplit.geojson",
    )
    assert ne not in again.switch.added
    assert any("retired codes are never reused" in line for line in again.not_kept)
    assert sorted(again.switch.added) == [f"{COMMUNITY_WEST}006", f"{COMMUNITY_WEST}007"]


def test_an_import_with_a_gap_is_refused_with_its_location(db: Session, tmp_path: Path) -> None:
    build_small_world(db)
    smaller_se = box(113.81, 22.60, 113.819, 22.61)
    with pytest.raises(TopologyViolation) as refused:
        _import(db, tmp_path, [NW, NE, SW, smaller_se], [None] * 4)
    features = refused.value.problems["features"]
    kinds = {f["properties"]["kind"] for f in features}
    assert "gap" in kinds
    gap = next(f for f in features if f["properties"]["kind"] == "gap")
    lon, lat = map(float, gap["properties"]["location"].split(","))
    assert 113.819 < lon < 113.82 and 22.60 < lat < 22.61
    assert gap["properties"]["area_m2"] > 1000
    assert db.scalar(select(Grid.code).where(Grid.district_code == "970101")) is None


def test_a_name_longer_than_the_column_is_refused_naming_the_row(tmp_path: Path) -> None:
    import geopandas as gpd

    path = tmp_path / "grids.geojson"
    names = ["网格一", "长" * 101]
    gpd.GeoDataFrame({"name": names}, geometry=[NW, NE], crs="EPSG:4326").to_file(path)
    with pytest.raises(InvalidInput, match="row 2: the name has 101 characters, at most 100"):
        read_grid_file(path, layer=None, crs=None)


def test_validate_finds_a_building_of_the_community_lying_outside_it(
    db: Session, tmp_path: Path
) -> None:
    """A building coded to a community (an import given --community, before its boundary was
    checked) but lying outside it, in no grid, passed validation: only buildings inside the
    community's polygon were looked at."""
    build_small_world(db)
    _import(db, tmp_path, [NW, NE, SW, SE, EW, EE], [None] * 6)
    assert validate_live(db, prefix="970101", on=START).errors == []
    code = format_code(community_code=COMMUNITY_WEST, structure_class=1, seq=99_999)
    db.execute(
        text(
            "INSERT INTO buildings (code, district_code, community_code, structure_class, seq, "
            "status, version, geom) VALUES (:code, :d, :c, 1, 99999, 'active', 1, "
            "ST_Multi(ST_GeomFromText('POLYGON((100 30,100.0002 30,100.0002 30.0002,100 30.0002,"
            "100 30))', 4490)))"
        ),
        {"code": code, "d": COMMUNITY_WEST[:6], "c": COMMUNITY_WEST},
    )
    errors = validate_live(db, prefix="970101", on=START).errors
    assert [problem.message for problem in errors] == [f"building {code} lies in no grid"]
