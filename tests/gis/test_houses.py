"""House lists from CSV and estimated houses."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from stdnum.iso7064 import mod_11_2

from gis.buildings.importing import import_buildings
from gis.buildings.models import Building
from gis.buildings.reading import open_footprints
from gis.codes import MAX_UNIT, format_code, group_code
from gis.errors import InvalidInput
from gis.houses.models import House, HouseStatus
from gis.houses.queries import copy_houses
from gis.houses.service import estimate_houses, import_houses


@pytest.fixture
def two_buildings(
    factory: sessionmaker[Session], db: Session, nanshan_communities: list[str], tmp_path: Path
) -> list[str]:
    squares = [
        shapely.box(113.93, 22.52, 113.9302, 22.5202),
        shapely.box(113.935, 22.52, 113.9352, 22.5202),
    ]
    frame = gpd.GeoDataFrame(
        {"source_id": ["a", "b"], "height_m": [18, 60]}, geometry=squares, crs="EPSG:4490"
    )
    path = tmp_path / "two.fgb"  # FlatGeobuf, one of the formats the import reads
    frame.to_file(path, driver="FlatGeobuf")
    source = open_footprints(path, layer=None, crs=None)
    summary = import_buildings(
        factory, source=source, community_code=None, repair=False, rejects_file=tmp_path / "r.csv"
    )
    assert summary.imported == 2
    return list(db.scalars(select(Building.code).order_by(Building.source_id)))


def test_import_houses_keeps_good_rows_and_reports_bad_ones(
    db: Session, two_buildings: list[str], tmp_path: Path
) -> None:
    first, second = two_buildings
    typo = first[:-1] + ("0" if first[-1] != "0" else "1")
    path = tmp_path / "houses.csv"
    path.write_text(
        "楼栋编码,楼层,房号,用途,面积\n"
        f"{group_code(first)},1,101,住宅,45.5\n"
        f"{first},2,201,residential,60\n"
        f"{second},1,A1,shop,30\n"
        f"{typo},1,102,住宅,40\n"
        f"{second},x,103,住宅,40\n"
        f"{second},1,104,宿舍,-3\n",
        encoding="utf-8",
    )
    result = import_houses(db, path=path)
    assert (result.read, result.imported) == (6, 2)
    reasons = dict(result.rejected)
    assert "use" in reasons[4] and "shop" in reasons[4]
    assert "check character" in reasons[5]
    assert reasons[6].startswith("floor")
    assert reasons[7].startswith("area_m2")
    houses = db.scalars(select(House).order_by(House.unit)).all()
    assert [h.unit for h in houses] == [1, 2]
    assert all(h.code[:19] == first[:19] and mod_11_2.is_valid(h.code) for h in houses)
    # the same list again adds nothing: each of its houses is already there (it added two more)
    again = import_houses(db, path=path)
    assert (again.imported, again.already_there) == (0, 2)
    # new rooms continue the units, codes never repeat; a room listed twice is one house
    more = tmp_path / "more.csv"
    more.write_text(
        "楼栋编码,楼层,房号\n"
        f"{first},3,301\n{first},3,302\n{first},3,301\n{first},3,\n{first},3,\n",
        encoding="utf-8",
    )
    added = import_houses(db, path=more)
    assert added.imported == 4 and added.rejected == [(4, "room: the same house as line 2")]
    assert added.raw[4] == [first, "3", "301"]  # for the rejects file
    assert [h.unit for h in db.scalars(select(House).order_by(House.unit))] == [1, 2, 3, 4, 5, 6]


def test_a_house_list_names_rows_by_the_line_an_editor_shows(
    db: Session, two_buildings: list[str], tmp_path: Path
) -> None:
    """A quoted cell on two lines (a room written ``"A\nB"``) made every later row's number one
    less than its line in the file (the CSV record count)."""
    first, _ = two_buildings
    path = tmp_path / "houses.csv"
    path.write_text(
        "楼栋编码,楼层,房号,用途\n"
        f'{first},1,"101\n(东)",住宅\n'  # lines 2 and 3: one row (a room of two lines)
        f"{first},2,201,住宅\n"  # line 4
        f"{first},x,202,住宅\n"  # line 5: a floor that is no number
        f"{first},2,201,住宅\n",  # line 6: line 4 again
        encoding="utf-8",
    )
    result = import_houses(db, path=path)
    assert [line for line, _ in result.rejected] == [2, 5, 6]
    assert result.rejected[1][1].startswith("floor")
    assert result.rejected[2] == (6, "room: the same house as line 4")
    assert result.raw[5][:2] == [first, "x"]  # for the rejects file


def test_a_house_list_marks_houses_let(
    db: Session, two_buildings: list[str], tmp_path: Path
) -> None:
    """The 出租 column marks a house let (what declarations and the registration rate count);
    listing a house again with another value changes only that. Nothing else set the flag."""
    first = two_buildings[0]
    path = tmp_path / "houses.csv"
    path.write_text(
        f"楼栋编码,楼层,房号,出租\n{first},1,101,是\n{first},1,102,否\n{first},1,103,maybe\n",
        encoding="utf-8",
    )
    result = import_houses(db, path=path)
    assert result.imported == 2 and result.rejected == [
        (4, "is_rented: 'maybe' is not 是/否 (yes/no)")
    ]
    assert dict(db.execute(select(House.room, House.is_rented)).all()) == {
        "101": True,
        "102": False,
    }
    path.write_text(f"building_code,floor,room,is_rented\n{first},1,101,no\n", encoding="utf-8")
    again = import_houses(db, path=path)
    assert (again.imported, again.already_there, again.rented_changed) == (0, 1, 1)
    db.expire_all()
    assert dict(db.execute(select(House.room, House.is_rented)).all()) == {
        "101": False,
        "102": False,
    }
    # a stored house listed twice: the second line is refused, as for a new house, and the
    # first line's value holds whatever the order
    path.write_text(
        f"building_code,floor,room,is_rented\n{first},1,102,是\n{first},1,102,否\n",
        encoding="utf-8",
    )
    twice = import_houses(db, path=path)
    assert (twice.already_there, twice.rented_changed) == (1, 1)
    assert twice.rejected == [(3, "room: the same house as line 2")]
    db.expire_all()
    assert db.scalar(select(House.is_rented).where(House.room == "102")) is True


def test_a_retired_house_s_room_is_free_again_for_a_house_list(
    db: Session, two_buildings: list[str], tmp_path: Path
) -> None:
    """A retired house was "already there" for a list naming its floor and room, and its 出租
    flag was changed: the room is free again, so the list adds an active house."""
    first = two_buildings[0]
    path = tmp_path / "houses.csv"
    path.write_text(f"楼栋编码,楼层,房号,出租\n{first},3,301,是\n", encoding="utf-8")
    assert import_houses(db, path=path).imported == 1
    retired = db.scalars(select(House).where(House.room == "301")).one()
    retired.status = HouseStatus.RETIRED
    db.flush()
    path.write_text(f"楼栋编码,楼层,房号,出租\n{first},3,301,否\n", encoding="utf-8")
    again = import_houses(db, path=path)
    assert (again.imported, again.already_there, again.rented_changed) == (1, 0, 0)
    rows = db.execute(
        select(House.status, House.is_rented).where(House.room == "301").order_by(House.code)
    ).all()
    assert rows == [(HouseStatus.RETIRED, True), (HouseStatus.ACTIVE, False)]


def test_a_house_list_of_another_kind_is_refused_by_name(
    db: Session, two_buildings: list[str], tmp_path: Path
) -> None:
    for name in ("houses.xls", "houses.ods"):
        path = tmp_path / name
        path.write_text(f"building_code,floor,room\n{two_buildings[0]},1,101\n", encoding="utf-8")
        with pytest.raises(InvalidInput, match=r"house lists are \.csv or \.xlsx"):
            import_houses(db, path=path)
    assert db.scalar(select(func.count()).select_from(House)) == 0


@pytest.mark.parametrize("header", ["building_code,floor,floor", "building_code,楼层,floor"])
def test_a_column_given_twice_is_refused_not_guessed(
    db: Session, two_buildings: list[str], tmp_path: Path, header: str
) -> None:
    """With floor and 楼层 both there the English one was taken without a word."""
    path = tmp_path / "houses.csv"
    path.write_text(f"{header}\n{two_buildings[0]},1,2\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"floor \(楼层\) is given 2 times"):
        import_houses(db, path=path)
    assert db.scalar(select(func.count()).select_from(House)) == 0


def test_a_house_list_must_have_building_codes_and_may_be_a_workbook(
    db: Session, two_buildings: list[str], tmp_path: Path
) -> None:
    """A header without building_code was read as rows of empty codes (or as no rows at all)
    with exit 0; an XLSX list was refused as 'not UTF-8'."""
    path = tmp_path / "houses.csv"
    path.write_text("bldg,floor,room\nX,1,101\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="has no building_code") as refused:
        import_houses(db, path=path)
    assert refused.value.field == "FILE"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["building_code", "floor", "room", "use", "area_m2"])
    sheet.append([two_buildings[0], 1, "101", "住宅", 45.5])
    workbook = tmp_path / "houses.xlsx"
    book.save(workbook)
    assert import_houses(db, path=workbook).imported == 1


def test_numbers_are_read_as_a_file_writes_them_and_rooms_as_they_show(
    db: Session, two_buildings: list[str], tmp_path: Path
) -> None:
    """Python's int and float read 1_0 as 10 and 1_000 as 1000; a NUL or a right-to-left
    override in a room was refused as too long or taken."""
    first = two_buildings[0]
    path = tmp_path / "houses.csv"
    path.write_text(
        "building_code,floor,room,area_m2\n"
        f"{first},1_0,101,45\n{first},1,102,1_000\n{first},1,103,nan\n"
        f"{first},1,1\x0004,45\n{first},1,\u202e105,45\n{first},-2,B1,1e2\n",
        encoding="utf-8",
    )
    result = import_houses(db, path=path)
    assert result.rejected == [
        (2, "floor: '1_0' is not a whole number"),
        (3, "area_m2: '1_000' is not a number"),
        (4, "area_m2: 'nan' is not a number"),
        (5, "room: room may not contain control characters or direction overrides"),
        (6, "room: room may not contain control characters or direction overrides"),
    ]
    assert db.execute(select(House.floor, House.room, House.area_m2)).one() == (-2, "B1", 100.0)


def test_a_workbook_formula_without_a_saved_value_is_refused(
    db: Session, two_buildings: list[str], tmp_path: Path
) -> None:
    """openpyxl (and other programs that do not compute) save formulas without their values,
    which read as empty cells: the floor was imported as unknown."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["building_code", "floor", "room"])
    sheet.append([two_buildings[0], 2, "201"])
    sheet.append([two_buildings[0], "=1+3", "401"])
    path = tmp_path / "formula.xlsx"
    book.save(path)
    with pytest.raises(InvalidInput) as refused:
        import_houses(db, path=path)
    assert str(refused.value) == (
        "FILE: formula.xlsx line 3, column 2: the formula =1+3 has no saved value (open the "
        "workbook in a spreadsheet program and save it, or paste values)"
    )
    assert db.scalar(select(func.count()).select_from(House)) == 0


def test_estimated_houses(
    db: Session, two_buildings: list[str], nanshan_communities: list[str]
) -> None:
    count = estimate_houses(db, communities=nanshan_communities)
    assert count > 0
    per_building = dict(
        db.execute(
            select(Building.code, func.count(House.uid))
            .join(House, House.building_uid == Building.uid)
            .group_by(Building.code)
        ).all()
    )
    assert set(per_building) == set(two_buildings)
    assert all(db.scalars(select(House.is_estimated)))
    assert (
        estimate_houses(db, communities=nanshan_communities) == 0
    )  # only buildings without houses


def test_a_building_without_unit_numbers_left_is_a_rejected_row(
    db: Session, two_buildings: list[str], tmp_path: Path
) -> None:
    """Units are 5 digits: past 99999 the code would wrap onto unit 00000 (the building)."""
    full, other = two_buildings
    building = db.scalars(select(Building).where(Building.code == full)).one()
    last = format_code(community_code=full[:12], structure_class=int(full[12]),
                       seq=int(full[13:19]), unit=MAX_UNIT)  # fmt: skip
    copy_houses(db, [(last, building.uid, building.district_code, MAX_UNIT, 1, "x",
                      "residential", None, None, False, False)])  # fmt: skip
    path = tmp_path / "houses.csv"
    path.write_text(f"building_code,floor,room\n{full},1,101\n{other},1,101\n", encoding="utf-8")
    result = import_houses(db, path=path)
    assert (result.read, result.imported) == (2, 1)
    assert result.rejected == [
        (2, f"building_code: {group_code(full)} has no unit number left (99999 is the last)")
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("building_code,floor\n王,1\n".encode("gbk"), "houses.csv line 2: not UTF-8 text"),
        (f'building_code,room\nx,"{"x" * 140_000}"\n'.encode(), "line 2: a field longer"),
    ],
    ids=["gbk", "over-long-field"],
)
def test_an_unreadable_house_list_is_refused_naming_the_line(
    db: Session, tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "houses.csv"
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=reason):
        import_houses(db, path=path)
    with pytest.raises(InvalidInput, match="is not a file"):
        import_houses(db, path=tmp_path)
