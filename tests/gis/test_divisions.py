"""Loading the real division hierarchy and boundaries."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis.crs import parse_crs
from gis.divisions.models import Division, DivisionLevel
from gis.divisions.queries import count_by_level
from gis.divisions.service import (
    attach_boundaries,
    import_divisions,
    pad_code,
    read_boundaries,
)
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


def _small_tables(folder: Path) -> Path:
    """Division tables of the fictitious province 97: one city, one county (970101)."""
    folder.mkdir(exist_ok=True)
    (folder / "provinces.csv").write_text("code,name\n97,测试省\n", encoding="utf-8")
    (folder / "cities.csv").write_text("code,name,provinceCode\n9701,测试市,97\n", encoding="utf-8")
    (folder / "areas.csv").write_text(
        "code,name,provinceCode,cityCode\n970101,测试区,97,9701\n", encoding="utf-8"
    )
    (folder / "streets.csv").write_text("code,name,provinceCode,cityCode,areaCode\n")
    return folder


def _stored(db: Session, prefix: str = "97") -> int:
    return int(db.scalar(select(func.count()).where(Division.code.like(f"{prefix}%"))) or 0)


def test_a_csv_not_in_utf8_names_file_and_line(db: Session, tmp_path: Path) -> None:
    """It was ``UnicodeDecodeError: 'utf-8' codec can't decode…``, naming neither."""
    folder = _small_tables(tmp_path)
    (folder / "areas.csv").write_bytes(
        "code,name,provinceCode,cityCode\n970101,测试区,97,9701\n".encode("gbk")
    )
    with pytest.raises(InvalidInput) as refused:
        import_divisions(db, path=folder)
    assert str(refused.value) == "PATH: areas.csv line 2: not UTF-8 text (save the file as UTF-8)"
    assert _stored(db) == 0


def _boundary_file(path: Path, features: list[dict[str, object]] | str) -> Path:
    text = (
        features
        if isinstance(features, str)
        else json.dumps({"type": "FeatureCollection", "features": features})
    )
    path.write_text(text)
    return path


def test_a_boundaries_file_that_cannot_be_read_is_refused_naming_it(
    db: Session, tmp_path: Path
) -> None:
    """A missing file or a folder was GDAL's ``DataSourceError``; an empty collection was
    reported as having no 'code' column."""
    with pytest.raises(InvalidInput) as missing:
        read_boundaries(tmp_path / "nonexist.geojson", crs=None)
    assert str(missing.value) == f"boundaries: {tmp_path / 'nonexist.geojson'} does not exist"
    with pytest.raises(InvalidInput) as folder:
        read_boundaries(tmp_path, crs=None)
    assert str(folder.value) == f"boundaries: {tmp_path} is not a file"
    (tmp_path / "text.geojson").write_text("not a vector file")
    with pytest.raises(InvalidInput, match=r"^boundaries: text\.geojson is not a readable vector"):
        read_boundaries(tmp_path / "text.geojson", crs=None)
    empty = _boundary_file(tmp_path / "empty.geojson", [])
    with pytest.raises(InvalidInput) as nothing:
        attach_boundaries(db, path=empty, crs=None)
    assert str(nothing.value) == "boundaries: empty.geojson has no features"


def test_a_boundary_coordinate_that_is_not_a_number_is_refused(db: Session, tmp_path: Path) -> None:
    """It printed numpy's RuntimeWarning, then "invalid boundary (Invalid Coordinate)"."""
    import_divisions(db, path=_small_tables(tmp_path / "tables"))
    ring = "[[113.8,22.6],[NaN,22.6],[113.84,22.62],[113.8,22.6]]"
    nan = _boundary_file(
        tmp_path / "nan.geojson",
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
        f'{{"code":"970101"}},"geometry":{{"type":"Polygon","coordinates":[{ring}]}}}}]}}',
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(InvalidGeometry) as refused:
            attach_boundaries(db, path=nan, crs=None)
    assert [str(warning.message) for warning in caught] == []
    assert str(refused.value) == (
        "geometry: division 970101000000: a coordinate of the boundary is NaN or infinite"
    )
    assert db.scalar(select(Division.geom).where(Division.code == "970101000000")) is None
