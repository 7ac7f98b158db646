"""Loading the real division hierarchy and boundaries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis.crs import parse_crs
from gis.divisions.models import Division, DivisionLevel
from gis.divisions.queries import count_by_level
from gis.divisions.service import attach_boundaries, import_divisions, pad_code
from gis.errors import CrsRequired, InvalidGeometry, InvalidInput

# rows published per level, and rows that pad to their parent's code (folded into it)
PUBLISHED = {"province": 31, "city": 342, "county": 2978, "township": 41352, "village": 26842}
FOLDED = {"county": 3, "township": 1}


@pytest.mark.usefixtures("divisions_loaded")
def test_division_counts_per_level(db: Session) -> None:
    stored = {level.value: count for level, count in count_by_level(db).items()}
    expected = {level: count - FOLDED.get(level, 0) for level, count in PUBLISHED.items()}
    assert stored == expected


@pytest.mark.usefixtures("divisions_loaded")
def test_reimport_changes_nothing(db: Session, shared_data: Path) -> None:
    result = import_divisions(db, path=shared_data / "divisions")
    assert result.by_level == PUBLISHED
    assert (result.inserted, result.updated) == (0, 0)
    assert len(result.folded) == sum(FOLDED.values())
    assert "441900000000 东莞市 (county)" in result.folded


@pytest.mark.usefixtures("divisions_loaded")
def test_hierarchy_links_village_to_province(db: Session) -> None:
    village = db.get(Division, "440305007003")
    assert village is not None
    assert village.level is DivisionLevel.VILLAGE
    chain = []
    code: str | None = village.code
    while code is not None:
        division = db.get(Division, code)
        assert division is not None
        chain.append(division.name)
        code = division.parent_code
    assert chain[-3:] == ["南山区", "深圳市", "广东省"]
    assert chain[1] == "粤海街道"


@pytest.mark.usefixtures("divisions_loaded")
def test_boundaries_attach_once(db: Session, shared_data: Path) -> None:
    path = shared_data / "shenzhen-districts.geojson"
    again = attach_boundaries(db, path=path, crs=parse_crs("EPSG:4490"))
    assert (again.read, again.updated, again.unchanged, again.unmatched) == (9, 0, 9, [])
    districts = db.scalar(
        select(func.count()).where(Division.geom.is_not(None), Division.level == "county")
    )
    assert districts == 9
    nanshan = db.scalar(
        select(
            func.ST_Contains(Division.geom, func.ST_SetSRID(func.ST_Point(113.93, 22.52), 4490))
        ).where(Division.code == "440305000000")
    )
    assert nanshan is True


def test_bad_code_names_file_line_and_field(db: Session, tmp_path: Path) -> None:
    (tmp_path / "provinces.csv").write_text("code,name\n44,广东省\n4x,坏\n", encoding="utf-8")
    for name in ("cities.csv", "areas.csv", "streets.csv"):
        (tmp_path / name).write_text("code,name,provinceCode,cityCode,areaCode\n")
    with pytest.raises(InvalidInput, match=r"provinces\.csv line 3") as error:
        import_divisions(db, path=tmp_path)
    assert error.value.field == "code"


def test_a_row_whose_parent_is_unknown_names_file_line_and_column(
    db: Session, tmp_path: Path
) -> None:
    """It was a database error (a foreign key) naming no file or line."""
    (tmp_path / "provinces.csv").write_text("code,name\n97,测试省\n", encoding="utf-8")
    (tmp_path / "cities.csv").write_text(
        "code,name,provinceCode\n9701,测试市,97\n", encoding="utf-8"
    )
    (tmp_path / "areas.csv").write_text(
        "code,name,provinceCode,cityCode\n970101,测试区,97,9701\n", encoding="utf-8"
    )
    (tmp_path / "streets.csv").write_text(
        "code,name,provinceCode,cityCode,areaCode\n970199001,街道,97,9701,970199\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput) as refused:
        import_divisions(db, path=tmp_path)
    assert refused.value.field == "areaCode"
    assert str(refused.value).startswith(
        "areaCode: streets.csv line 2: areaCode names 970199000000"
    )
    (tmp_path / "streets.csv").write_text(  # a name holding a line break
        'code,name,provinceCode,cityCode,areaCode\n970101001,"街\n道",97,9701,970101\n',
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput, match="control character"):
        import_divisions(db, path=tmp_path)


def test_boundaries_without_crs_are_refused(db: Session, tmp_path: Path) -> None:
    path = tmp_path / "no-crs.csv"
    path.write_text('code,WKT\n440305,"POLYGON((0 0,1 0,1 1,0 0))"\n')
    with pytest.raises(CrsRequired):
        attach_boundaries(db, path=path, crs=None)


def test_pad_code() -> None:
    assert pad_code("44") == "440000000000"
    assert pad_code("440305007") == "440305007000"
    with pytest.raises(InvalidInput, match="12-digit"):
        pad_code("4403051")


def test_boundaries_of_elsewhere_are_refused_whole(
    db: Session, shared_data: Path, tmp_path: Path
) -> None:
    """The districts read in a wrong --crs (Null Island), a boundary of elsewhere tagged with a
    community code (outside its district), a code given twice: refused, nothing attached."""
    path = shared_data / "shenzhen-districts.geojson"
    with pytest.raises(InvalidGeometry, match=r"division 44.*: the boundary lies outside China"):
        attach_boundaries(db, path=path, crs=parse_crs("EPSG:3857"))
    elsewhere = tmp_path / "elsewhere.geojson"
    square = [[9.5, 47.1], [9.51, 47.1], [9.51, 47.11], [9.5, 47.11], [9.5, 47.1]]
    feature = {"type": "Feature", "properties": {"code": "440305005001"},
               "geometry": {"type": "Polygon", "coordinates": [square]}}  # fmt: skip
    elsewhere.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    with pytest.raises(InvalidGeometry, match="outside China"):
        attach_boundaries(db, path=elsewhere, crs=None)
    shekou = [[113.90, 22.48], [113.91, 22.48], [113.91, 22.49], [113.90, 22.49], [113.90, 22.48]]
    luohu = {**feature, "properties": {"code": "440303005001"},
             "geometry": {"type": "Polygon", "coordinates": [shekou]}}  # fmt: skip
    elsewhere.write_text(json.dumps({"type": "FeatureCollection", "features": [luohu]}))
    with pytest.raises(InvalidGeometry, match="outside division 440303000000"):
        attach_boundaries(db, path=elsewhere, crs=None)
    elsewhere.write_text(json.dumps({"type": "FeatureCollection", "features": [luohu, luohu]}))
    with pytest.raises(InvalidInput, match="more than one boundary"):
        attach_boundaries(db, path=elsewhere, crs=None)
    china = func.ST_MakeEnvelope(73.4, 3.8, 135.1, 53.6, 4490)
    moved = db.scalar(
        select(func.count()).where(
            Division.geom.is_not(None),
            Division.code.like("44%"),
            ~func.ST_Intersects(Division.geom, china),
        )
    )
    assert moved == 0
