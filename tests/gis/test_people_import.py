"""``import people``: every good row kept, every bad row reported with its reason; duplicates of
one ID number reported; a second run changes nothing; CSV and XLSX, Chinese or English headers."""

from __future__ import annotations

import csv
import uuid
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gis.access.scope import Scope
from gis.audit.schemas import Actor
from gis.buildings.models import ImportBatch, ImportKind
from gis.errors import InvalidInput
from gis.people import importing
from gis.people.corrections import void_residence
from gis.people.crypto import PeopleCipher, SealedField
from gis.people.import_rows import COLUMNS, header_map, parse_date
from gis.people.importing import PeopleImportResult, import_people
from gis.people.models import Declaration, Person, Residence
from gis.people.periods import WorkCalendar, today_in_china
from gis.users.models import Role
from tests.access_world import World
from tests.people_world import RESIDENTS, citizen_id

ACTOR = Actor(name="cli:test", role="admin")
TODAY = date(2026, 11, 22)
FRESH = citizen_id("110105", date(1995, 8, 8), 77)
CHINESE = [
    "姓名",
    "公民身份号码",
    "联系电话",
    "性别",
    "出生日期",
    "人员类别",
    "房屋编码",
    "入住日期",
    "离开日期",
    "居住类型",
    "申报人",
]


def _rows(world: World) -> list[tuple[list[str], str | None]]:
    """(values under CHINESE, the reason it must be refused or None)."""
    own = world.objects["houses"]["own"]
    second = world.objects["house_own_2"]["own"]
    missing = world.objects["houses"]["missing"]
    existing_name, existing_id, _ = RESIDENTS["own"]
    bad_check = FRESH[:-1] + ("0" if FRESH[-1] != "0" else "1")
    return [
        (["王一", FRESH, "13600000001", "男", "", "", own, "2025-01-01", "", "租住", "房东"], None),
        (["王二", bad_check, "", "", "", "", own, "2025-01-01", "", "", ""], "check character"),
        (
            [
                "王三",
                citizen_id("110105", date(1990, 1, 1), 3),
                "",
                "",
                "",
                "",
                own,
                "2025-13-01",
                "",
                "",
                "",
            ],
            "not a real date",
        ),
        (
            [
                "王四",
                citizen_id("110105", date(1990, 1, 1), 5),
                "",
                "",
                "",
                "",
                missing,
                "2025-01-01",
                "",
                "",
                "",
            ],
            "no live house",
        ),
        (["别名", FRESH, "", "", "", "", own, "2025-01-01", "", "", ""], "another name"),
        (["王一", FRESH, "", "", "", "", second, "2024-01-01", "2024-12-31", "", ""], None),
        (["王一", FRESH, "", "", "", "", second, "2025-06-01", "", "", ""], "overlaps"),
        (
            [
                "Anna Berg",
                "E12345678",
                "",
                "女",
                "1988-02-03",
                "境外",
                second,
                "2025-02-01",
                "",
                "",
                "",
            ],
            None,
        ),
        (
            [
                "",
                citizen_id("110105", date(1990, 1, 1), 7),
                "",
                "",
                "",
                "",
                own,
                "2025-01-01",
                "",
                "",
                "",
            ],
            "name",
        ),
        (
            [
                existing_name,
                existing_id,
                "",
                "",
                "",
                "",
                second,
                "2023-01-01",
                "2023-12-31",
                "",
                "",
            ],
            None,
        ),
        (
            ["冒名", RESIDENTS["other"][1], "", "", "", "", second, "2023-01-01", "", "", ""],
            "registered under another name",
        ),
        (["假冒", existing_id, "", "", "", "", second, "2023-01-01", "", "", ""], "another name"),
        (
            [
                "王五",
                citizen_id("110105", date(1990, 1, 1), 9),
                "12345",
                "",
                "",
                "",
                own,
                "2025-01-01",
                "",
                "",
                "",
            ],
            "mobile number",
        ),
        (
            [
                "王六",
                citizen_id("110105", date(1990, 1, 1), 11),
                "",
                "",
                "",
                "",
                own,
                "2027-01-01",
                "",
                "",
                "",
            ],
            "future",
        ),
        (
            [
                "王七",
                citizen_id("110105", date(1990, 1, 1), 13),
                "",
                "女",
                "",
                "",
                own,
                "2025-01-01",
                "",
                "",
                "",
            ],
            "the ID number says M",
        ),
    ]


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CHINESE)
        writer.writerows(rows)
    return path


def _people_with(
    tmp_path: Path, column: str, people: list[tuple[str, str, str]], *, house: str
) -> Path:
    """A file of (name, ID number, ``column``'s value) moving into ``house`` on 2025-01-01."""
    path = tmp_path / "people.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["姓名", "公民身份号码", column, "房屋编码", "入住日期"])
        for name, number, value in people:
            writer.writerow([name, number, value, house, "2025-01-01"])
    return path


def _run(
    factory: sessionmaker[Session],
    cipher: PeopleCipher,
    path: Path,
    tmp_path: Path,
    batch_size: int = 3,
) -> PeopleImportResult:
    return import_people(
        factory,
        path=path,
        cipher=cipher,
        calendar=WorkCalendar(),
        actor=ACTOR,
        today=TODAY,
        rejects_file=tmp_path / "rejects.csv",
        batch_size=batch_size,
    )


def test_good_rows_are_kept_and_every_bad_row_is_reported(
    factory: sessionmaker[Session], db: Session, cipher: PeopleCipher, world: World, tmp_path: Path
) -> None:
    rows = _rows(world)
    path = _write_csv(tmp_path / "people.csv", [values for values, _ in rows])
    result = _run(factory, cipher, path, tmp_path)
    expected_bad = {line: reason for line, (_, reason) in enumerate(rows, start=2) if reason}
    assert result.read == len(rows)
    assert result.imported == len(rows) - len(expected_bad)
    assert {line for line, _ in result.rejected} == set(expected_bad)
    for line, reason in result.rejected:
        assert expected_bad[line] in reason, (line, reason)
    # the rejects file holds each bad row with its reason and its values
    assert (tmp_path / "rejects.csv").stat().st_mode & 0o777 == 0o600  # full ID numbers
    with (tmp_path / "rejects.csv").open(encoding="utf-8-sig") as handle:
        written = {int(r["line"]): r for r in csv.DictReader(handle)}
    assert set(written) == set(expected_bad)
    assert written[3]["公民身份号码 id_number"] == rows[1][0][1]
    # the ID number on four lines is reported as a duplicate (masked)
    masked = FRESH[:6] + "********" + FRESH[-4:]
    assert result.duplicates[masked] == [2, 6, 7, 8]
    # what was kept is in the database: 王一 with two periods, the overseas resident
    digest = cipher.lookup_hash(FRESH, field=SealedField.ID_NUMBER)
    person = db.scalars(select(Person).where(Person.id_number_hash == digest)).one()
    assert person.batch_id == result.batch_id and person.category == "floating"
    spans = db.execute(
        select(func.lower(Residence.period), func.upper(Residence.period))
        .where(Residence.person_uid == person.uid)
        .order_by(func.lower(Residence.period))
    ).all()
    assert [tuple(s) for s in spans] == [
        (date(2024, 1, 1), date(2024, 12, 31)),
        (date(2025, 1, 1), None),
    ]
    overseas = db.scalars(select(Person).where(Person.name == "Anna Berg")).one()
    assert overseas.category == "overseas" and overseas.id_number_masked == "*" * 9
    # the tenant of the let house was declared by the landlord with the registration
    declared = db.scalar(
        select(func.count()).select_from(Declaration).where(Declaration.person_uid == person.uid)
    )
    assert declared == 1
    # a second run finds everything there: nothing new, nothing lost
    again = _run(factory, cipher, path, tmp_path, batch_size=100)
    assert again.imported == 0 and again.already_imported == result.imported
    assert len(again.rejected) == len(result.rejected)


def test_xlsx_with_english_headers(
    factory: sessionmaker[Session], cipher: PeopleCipher, world: World, tmp_path: Path
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([COLUMNS[c][0] for c in ("name", "id_number", "house_code", "moved_in", "kind")])
    sheet.append(["王一", FRESH, world.objects["houses"]["own"], date(2025, 1, 1), "tenant"])
    sheet.append(
        ["王二", int(FRESH[:-1] + "3"), world.objects["houses"]["own"], "2025/1/1", "family"]
    )
    path = tmp_path / "people.xlsx"
    book.save(path)
    result = _run(factory, cipher, path, tmp_path)
    assert result.imported == 1
    assert [line for line, _ in result.rejected] == [3]
    assert "format the column as text" in result.rejected[0][1]


def test_a_file_without_a_required_column_is_refused(
    factory: sessionmaker[Session], cipher: PeopleCipher, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_text("姓名,公民身份号码\n王一,110105199508080778\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="house_code"):
        _run(factory, cipher, path, tmp_path)


def _stored(db: Session) -> tuple[int, int]:
    """(people import batches, residences): what an import left behind."""
    batches = db.scalar(
        select(func.count()).select_from(ImportBatch).where(ImportBatch.kind == ImportKind.PEOPLE)
    )
    return int(batches or 0), int(db.scalar(select(func.count()).select_from(Residence)) or 0)


def _good_rows(world: World, count: int) -> list[list[str]]:
    own = world.objects["houses"]["own"]
    return [
        [f"李{n}", citizen_id("110105", date(1991, 1, 1), 21 + 2 * n), "", "", "", "", own,
         "2025-01-01", "", "", ""]
        for n in range(count)
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("tail", "reason"),
    [
        ("王九,110105199001010019".encode("gbk"), "people.csv line 7: not UTF-8 text"),
        (b"\xff\xfe", "people.csv line 7: not UTF-8 text"),
        (f'"{"x" * 140_000}"'.encode(), "people.csv line 7: a field longer than 131,072"),
    ],
    ids=["gbk", "one-bad-byte", "over-long-field"],
)
def test_an_unreadable_csv_is_refused_before_anything_is_stored(
    factory: sessionmaker[Session],
    db: Session,
    cipher: PeopleCipher,
    world: World,
    tmp_path: Path,
    tail: bytes,
    reason: str,
) -> None:
    """Five good rows (a batch of 3 would be committed) and then a line that cannot be read:
    the file is refused naming the line, and no batch, no row, no rejects file is left."""
    path = _write_csv(tmp_path / "people.csv", _good_rows(world, 5))
    with path.open("ab") as handle:
        handle.write(tail + b"\r\n")
    before = _stored(db)
    with pytest.raises(InvalidInput, match=reason) as caught:
        _run(factory, cipher, path, tmp_path)
    assert caught.value.field == "FILE"
    assert _stored(db) == before
    assert not (tmp_path / "rejects.csv").exists()


def test_a_damaged_xlsx_is_refused_before_anything_is_stored(
    factory: sessionmaker[Session], db: Session, cipher: PeopleCipher, tmp_path: Path
) -> None:
    not_a_workbook = tmp_path / "people.xlsx"
    not_a_workbook.write_bytes(b"PK\x03\x04 this is no zip archive")
    before = _stored(db)
    with pytest.raises(InvalidInput, match=r"people\.xlsx is not a readable \.xlsx workbook"):
        _run(factory, cipher, not_a_workbook, tmp_path)
    with pytest.raises(InvalidInput, match="is not a file"):
        _run(factory, cipher, tmp_path, tmp_path)
    # a missing column used to leave a batch begun and never finished
    headers_only = tmp_path / "people.csv"
    headers_only.write_text("姓名,公民身份号码\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="house_code"):
        _run(factory, cipher, headers_only, tmp_path)
    assert _stored(db) == before


@pytest.mark.parametrize(
    ("moved_out", "deregistered_on", "declared_on", "column", "reason"),
    [
        ("2025-06-01", "2025-05-31", "", "deregistered_on (注销日期)", "before the departure"),
        ("2025-06-01", "2026-11-23", "", "deregistered_on (注销日期)", "in the future"),
        ("", "", "2024-12-31", "declared_on (申报日期)", "before the move-in date"),
        ("", "", "2026-11-23", "declared_on (申报日期)", "in the future"),
        ("2025-06-01", "2025-06-01", "2025-01-01", None, None),
    ],
)
def test_impossible_deregistration_and_declaration_dates_are_rejected(
    factory: sessionmaker[Session],
    cipher: PeopleCipher,
    world: World,
    tmp_path: Path,
    moved_out: str,
    deregistered_on: str,
    declared_on: str,
    column: str | None,
    reason: str | None,
) -> None:
    path = tmp_path / "people.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["姓名", "公民身份号码", "房屋编码", "入住日期", "离开日期", "注销日期",
                         "申报日期"])  # fmt: skip
        writer.writerow(["王一", FRESH, world.objects["houses"]["own"], "2025-01-01", moved_out,
                         deregistered_on, declared_on])  # fmt: skip
    result = _run(factory, cipher, path, tmp_path)
    if column is None:
        assert result.imported == 1 and not result.rejected
        return
    assert result.imported == 0
    assert [line for line, _ in result.rejected] == [2]
    assert result.rejected[0][1].startswith(f"{column}: ")
    assert reason is not None and reason in result.rejected[0][1]


def test_a_hukou_division_that_is_no_known_division_is_rejected(
    factory: sessionmaker[Session], db: Session, cipher: PeopleCipher, world: World, tmp_path: Path
) -> None:
    """Like registration over HTTP: a hukou division that is neither a county of China nor a
    division loaded here (000000, 999999999999) is a rejected row, not a stored code with a
    category derived from it; a real county not loaded here (Beijing's 110105) is kept."""
    own = world.objects["houses"]["own"]
    people = [
        ("王一", citizen_id("110105", date(1990, 1, 1), 11), "000000"),
        ("王二", citizen_id("110105", date(1990, 1, 1), 13), "999999999999"),
        ("王三", citizen_id("110105", date(1990, 1, 1), 15), "110105"),
    ]
    path = _people_with(tmp_path, "户籍地区划代码", people, house=own)
    result = _run(factory, cipher, path, tmp_path)
    assert result.imported == 1
    assert result.rejected == [
        (2, "hukou_division_code (户籍地区划代码): 000000000000 is not a known division: "
            "neither a county of China nor a division loaded here"),
        (3, "hukou_division_code (户籍地区划代码): 999999999999 is not a known division: "
            "neither a county of China nor a division loaded here"),
    ]  # fmt: skip
    stored = db.scalars(select(Person.hukou_division_code).where(Person.name.like("王_"))).all()
    assert stored == ["110105000000"]


def test_a_township_or_village_that_is_not_loaded_is_rejected(
    factory: sessionmaker[Session], db: Session, cipher: PeopleCipher, world: World, tmp_path: Path
) -> None:
    """As over HTTP: below a county (12 digits not ending in 000000) only a loaded division is
    known; ``440305999999`` was kept, its first six digits being a county of China."""
    own = world.objects["houses"]["own"]
    people = [
        ("赵一", citizen_id("110105", date(1990, 1, 1), 21), "440305999999"),
        ("赵二", citizen_id("110105", date(1990, 1, 1), 23), "110105123456"),
        ("赵三", citizen_id("110105", date(1990, 1, 1), 25), "990101999999"),
        ("赵四", citizen_id("110105", date(1990, 1, 1), 27), "990101001001"),
        ("赵五", citizen_id("110105", date(1990, 1, 1), 29), "990102"),
    ]
    path = _people_with(tmp_path, "户籍地区划代码", people, house=own)
    result = _run(factory, cipher, path, tmp_path)
    column = "hukou_division_code (户籍地区划代码)"
    assert result.rejected == [
        (2, f"{column}: 440305999999 is not a known division: no township or village "
            "440305999999 is loaded here (the county alone: 440305)"),
        (3, f"{column}: 110105123456 is not a known division: no township or village "
            "110105123456 is loaded here (the county alone: 110105)"),
        (4, f"{column}: 990101999999 is not a known division: neither a county of China nor a "
            "division loaded here"),
    ]  # fmt: skip
    stored = db.scalars(
        select(Person.hukou_division_code)
        .where(Person.name.like("赵_"))
        .order_by(Person.hukou_division_code)
    ).all()
    assert stored == ["990101001001", "990102000000"]


def test_a_hukou_address_with_a_control_character_is_rejected(
    factory: sessionmaker[Session], db: Session, cipher: PeopleCipher, world: World, tmp_path: Path
) -> None:
    """As over HTTP (a bell and a direction override were stored as read): one line, trimmed,
    none when blank."""
    own = world.objects["houses"]["own"]
    people = [
        ("钱一", citizen_id("110105", date(1990, 1, 1), 31), "深圳\u202e市南山区"),
        ("钱二", citizen_id("110105", date(1990, 1, 1), 33), "\u0007bell"),
        ("钱三", citizen_id("110105", date(1990, 1, 1), 35), "  "),
        ("钱四", citizen_id("110105", date(1990, 1, 1), 37), " 广东省深圳市南山区 "),
    ]
    path = _people_with(tmp_path, "户籍地址", people, house=own)
    result = _run(factory, cipher, path, tmp_path)
    reason = (
        "hukou_address (户籍地址): may not contain control characters (line breaks, tabs, "
        "escapes, direction overrides)"
    )
    assert result.rejected == [(2, reason), (3, reason)]
    stored = db.execute(
        select(Person.name, Person.hukou_address)
        .where(Person.name.like("钱_"))
        .order_by(Person.name)
    ).all()
    assert [tuple(row) for row in stored] == [("钱三", None), ("钱四", "广东省深圳市南山区")]


def test_a_quotation_mark_left_open_is_named(
    factory: sessionmaker[Session], cipher: PeopleCipher, world: World, tmp_path: Path
) -> None:
    """It took the next lines into one cell, reported as a name of over 100 characters (and
    the rows it swallowed were never read): the file is refused, naming the line, before
    anything is stored (the good row before it too)."""
    own = world.objects["houses"]["own"]
    path = tmp_path / "people.csv"
    path.write_text(
        "姓名,公民身份号码,房屋编码,入住日期\n"
        f"王三,{citizen_id('110105', date(1991, 1, 1), 21)},{own},2025-01-01\n"
        f'"王一,{FRESH},{own},2025-01-01\n'
        f"王二,{citizen_id('110105', date(1990, 1, 1), 21)},{own},2025-01-01\n",
        encoding="utf-8",
    )
    with factory() as session:
        before = session.scalar(select(func.count()).select_from(Residence))
    with pytest.raises(InvalidInput, match=r"people\.csv line 3: a quotation mark opened in this"):
        _run(factory, cipher, path, tmp_path)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Residence)) == before


def test_a_rejected_row_blocks_no_row_after_it(
    factory: sessionmaker[Session], cipher: PeopleCipher, world: World, tmp_path: Path
) -> None:
    """A row rejected against the database (a house code no live house has) was still taken
    as the person's period, so the corrected row after it was refused as overlapping it."""
    number = citizen_id("110105", date(1992, 2, 2), 21)
    missing, own = world.objects["houses"]["missing"], world.objects["houses"]["own"]
    path = _write_csv(tmp_path / "people.csv", [
        ["赵六", number, "", "", "", "", missing, "2025-03-01", "", "", ""],
        ["赵六", number, "", "", "", "", own, "2025-03-01", "", "", ""],
        ["赵六", number, "", "", "", "", own, "2025-04-01", "", "", ""],
    ])  # fmt: skip
    result = _run(factory, cipher, path, tmp_path, batch_size=1)  # across batches too
    assert result.imported == 1
    assert result.rejected == [
        (2, "house_code (房屋编码): no live house has this code"),
        (4, "moved_in (入住日期): [2025-04-01, open) overlaps [2025-03-01, open) of line 3 "
            "(one primary residence at a time)"),
    ]  # fmt: skip
    assert list(result.duplicates.values()) == [[2, 3, 4]]


def test_one_id_number_keeps_one_name_whatever_became_of_its_first_row(
    factory: sessionmaker[Session], cipher: PeopleCipher, world: World, tmp_path: Path
) -> None:
    """The first row (refused for its house code) was forgotten: the second row's name went in
    unnoticed, and the first row, once corrected, was refused as 'registered under another
    name'; nor were the two reported as duplicates."""
    number = citizen_id("110105", date(1994, 4, 4), 31)
    own = world.objects["houses"]["own"]
    path = _write_csv(tmp_path / "people.csv", [
        ["甲一", number, "", "", "", "", own[:-1] + "Z", "2025-03-01", "", "", ""],
        ["甲二", number.lower(), "", "", "", "", own, "2025-03-01", "", "", ""],
    ])  # fmt: skip
    result = _run(factory, cipher, path, tmp_path)
    assert result.imported == 0
    assert [line for line, _ in result.rejected] == [2, 3]
    assert result.rejected[1] == (
        3, "id_number (公民身份号码): line 2 gives this ID number another name"
    )  # fmt: skip
    assert list(result.duplicates.values()) == [[2, 3]]


def test_rows_are_numbered_by_the_line_an_editor_shows(
    factory: sessionmaker[Session], cipher: PeopleCipher, world: World, tmp_path: Path
) -> None:
    """A quoted address on two lines made every later row's number one less than its line in
    the file (the CSV record count): the rejects, the duplicates and the cross-row message
    named rows the officer could not find. Each row is now named by the line it starts on."""
    own, missing = world.objects["houses"]["own"], world.objects["houses"]["missing"]
    number = citizen_id("110105", date(1993, 3, 3), 41)
    first, third = (citizen_id("110105", date(1993, 3, 3), seq) for seq in (42, 43))
    path = tmp_path / "people.csv"
    path.write_text(
        "姓名,公民身份号码,户籍地址,房屋编码,入住日期\n"
        f'乙一,{first},"广东省深圳市\n南山区",{own},2025-03-01\n'  # lines 2 and 3: one row
        f"乙二,{number},,{own},2025-03-01\n"  # line 4: good
        f"乙三,{third},,{missing},2025-03-01\n"  # line 5: no live house has this code
        f"乙四,{number},,{own},2025-04-01\n",  # line 6: line 4's number, another name
        encoding="utf-8",
    )
    result = _run(factory, cipher, path, tmp_path)
    assert result.imported == 1
    assert [line for line, _ in result.rejected] == [2, 5, 6]
    assert result.rejected[0][1].startswith(
        "hukou_address (户籍地址): the cell runs over several lines"
    )
    assert result.rejected[1] == (5, "house_code (房屋编码): no live house has this code")
    assert result.rejected[2] == (
        6, "id_number (公民身份号码): line 4 gives this ID number another name"
    )  # fmt: skip
    assert list(result.duplicates.values()) == [[4, 6]]
    with (tmp_path / "rejects.csv").open(encoding="utf-8-sig") as handle:
        written = {int(r["line"]): r["姓名 name"] for r in csv.DictReader(handle)}
    assert written == {2: "乙一", 5: "乙三", 6: "乙四"}


def test_one_id_number_typed_with_full_width_digits_is_a_duplicate_too(
    factory: sessionmaker[Session], cipher: PeopleCipher, world: World, tmp_path: Path
) -> None:
    """The second row was refused as the first's number under another name, but the report
    counted no duplicated ID number: it compared the raw text."""
    number = citizen_id("110105", date(1995, 5, 5), 41)
    wide = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    own = world.objects["houses"]["own"]
    path = _write_csv(tmp_path / "people.csv", [
        ["张三", number, "", "", "", "", own, "2025-03-01", "", "", ""],
        ["李四", wide, "", "", "", "", own, "2025-03-01", "", "", ""],
    ])  # fmt: skip
    result = _run(factory, cipher, path, tmp_path)
    assert [line for line, _ in result.rejected] == [3]
    assert list(result.duplicates.values()) == [[2, 3]]


def test_a_voided_residence_is_not_imported_again_and_its_person_is_renewed(
    factory: sessionmaker[Session], db: Session, cipher: PeopleCipher, world: World, tmp_path: Path
) -> None:
    number = citizen_id("110105", date(1993, 3, 3), 23)
    own, second = world.objects["houses"]["own"], world.objects["house_own_2"]["own"]
    path = _write_csv(tmp_path / "people.csv", [
        ["钱七", number, "", "", "", "", own, "2025-03-01", "", "", ""],
    ])  # fmt: skip
    assert _run(factory, cipher, path, tmp_path).imported == 1
    digest = cipher.lookup_hash(number, field=SealedField.ID_NUMBER)
    person = db.scalars(select(Person).where(Person.id_number_hash == digest)).one()
    residence = db.scalars(select(Residence).where(Residence.person_uid == person.uid)).one()
    void_residence(db, scope=Scope("t_admin", Role.ADMIN), residence_uid=residence.uid,
                   reason="导入了错误的名单", today=TODAY)  # fmt: skip
    # the same file again: the row the officer voided is reported, not brought back
    again = _run(factory, cipher, path, tmp_path)
    assert again.imported == 0 and again.already_imported == 0
    assert again.rejected == [
        (2, f"moved_in (入住日期): this residence was voided on {today_in_china()} "
            "(导入了错误的名单); correct the file's row"),
    ]  # fmt: skip
    # the corrected row, under the right name: nothing but the voided row named the person
    fixed = _write_csv(tmp_path / "fixed.csv", [
        ["钱七七", number, "", "", "", "", second, "2025-03-01", "", "", ""],
    ])  # fmt: skip
    assert _run(factory, cipher, fixed, tmp_path).imported == 1
    db.expire_all()
    renamed = db.get(Person, person.uid)
    assert renamed is not None and renamed.name == "钱七七"
    # once a residence names the person, another name is refused as before
    other = _write_csv(tmp_path / "other.csv", [
        ["孙八", number, "", "", "", "", own, "2026-01-01", "", "", ""],
    ])  # fmt: skip
    refused = _run(factory, cipher, other, tmp_path)
    assert refused.rejected == [(2, "id_number (公民身份号码): registered under another name")]
    # a voided row registered again by hand (the void was the mistake) is there: not refused
    db.expire_all()
    again_by_hand = db.scalars(select(Residence).where(Residence.person_uid == person.uid)).one()
    void_residence(db, scope=Scope("t_admin", Role.ADMIN), residence_uid=again_by_hand.uid,
                   reason="作废错了", today=TODAY)  # fmt: skip
    db.flush()
    fixed_again = _run(factory, cipher, fixed, tmp_path)
    assert fixed_again.rejected and "was voided" in fixed_again.rejected[0][1]
    db.add(Residence(uid=uuid.uuid4(),
                     person_uid=person.uid, house_uid=again_by_hand.house_uid,
                     period=again_by_hand.period, kind=again_by_hand.kind, is_primary=True,
                     declared_by=again_by_hand.declared_by, declared_at=again_by_hand.declared_at,
                     registered_by="t_admin"))  # fmt: skip
    db.flush()
    registered = _run(factory, cipher, fixed, tmp_path)
    assert (registered.rejected, registered.already_imported, registered.imported) == ([], 1, 0)


def test_an_import_that_fails_part_way_says_so_in_its_batch_record(
    factory: sessionmaker[Session],
    db: Session,
    cipher: PeopleCipher,
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The batches before the failure stay stored; the import's record is 'failed' with what
    it holds (it stayed 'running' for ever)."""
    calls: list[int] = []
    store = importing.import_batch

    def second_batch_fails(session: Session, **kwargs: object) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        store(session, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importing, "import_batch", second_batch_fails)
    path = _write_csv(tmp_path / "people.csv", _good_rows(world, 5))
    with pytest.raises(RuntimeError, match="went away"):
        _run(factory, cipher, path, tmp_path)
    status, counts = db.execute(
        select(ImportBatch.status, ImportBatch.counts)
        .where(ImportBatch.kind == ImportKind.PEOPLE)
        .order_by(ImportBatch.id.desc())
        .limit(1)
    ).one()
    assert (status, counts["imported"], counts["read"]) == ("failed", 3, 5)


@pytest.mark.parametrize(
    ("text", "read"),
    [("2026-05-03", date(2026, 5, 3)), ("2026/5/3", date(2026, 5, 3)),
     ("20260503", date(2026, 5, 3)), ("2026年5月3日", date(2026, 5, 3)),
     ("2026.5.3", date(2026, 5, 3)), (" 2026-5-3 ", date(2026, 5, 3))],
)  # fmt: skip
def test_the_ways_a_ledger_writes_a_date_are_read(text: str, read: date) -> None:
    assert parse_date(text, column="moved_in") == read


@pytest.mark.parametrize("text", ["202511", "2025111", "2025123", "2025-1203", "2026-05/03"])
def test_digits_that_could_be_two_dates_are_refused_not_guessed(text: str) -> None:
    """``2025123`` was read as 2025-12-03 (or 2025-01-23?), ``202511`` as 2025-01-01."""
    with pytest.raises(InvalidInput, match="is not a date") as refused:
        parse_date(text, column="moved_in")
    assert refused.value.field is not None and refused.value.field.startswith("moved_in")


@pytest.mark.parametrize(
    "headers",
    [["姓名", "公民身份号码", "房屋编码", "入住日期", "姓名"],
     ["name", "公民身份号码", "房屋编码", "入住日期", "姓名"]],
)  # fmt: skip
def test_a_column_given_twice_is_refused_not_guessed(headers: list[str]) -> None:
    """A CSV stored the last of two name columns, a workbook the first."""
    with pytest.raises(InvalidInput, match="is given twice") as refused:
        header_map(headers)
    assert refused.value.field == "FILE"


def test_a_tenant_on_a_fixed_term_owes_a_declaration_a_past_stay_none(
    factory: sessionmaker[Session], cipher: PeopleCipher, world: World, db: Session, tmp_path: Path
) -> None:
    """A tenant imported with a departure ahead (a one-year lease) got no declaration, which a
    registration over HTTP gives; a stay that ended before the import owes none."""
    let = world.objects["houses"]["own"]  # a let house
    term = citizen_id("110105", date(1992, 2, 2), 41)
    past = citizen_id("110105", date(1992, 2, 3), 43)
    path = _write_csv(tmp_path / "people.csv", [
        ["租期内", term, "", "", "", "", let, "2026-11-20", "2027-06-30", "租住", "本人"],
        ["已离开", past, "", "", "", "", let, "2025-01-06", "2025-03-01", "租住", "本人"],
    ])  # fmt: skip
    assert _run(factory, cipher, path, tmp_path).imported == 2
    due = dict(
        db.execute(
            select(Person.name, Declaration.due_on)
            .join(Declaration, Declaration.person_uid == Person.uid)
            .where(Person.name.in_(["租期内", "已离开"]))
        ).all()
    )
    assert due == {"租期内": date(2026, 11, 25)}
