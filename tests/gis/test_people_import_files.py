"""``import people`` reading its file: CSV or XLSX, headers, dates, a file refused whole."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gis.buildings.models import ImportBatch, ImportKind
from gis.errors import InvalidInput
from gis.people import importing
from gis.people.crypto import PeopleCipher
from gis.people.import_rows import COLUMNS, header_map, parse_date
from gis.people.models import Residence
from tests.access_world import World
from tests.gis.people_ledgers import FRESH, run_people_import, write_csv
from tests.people_world import citizen_id


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
    result = run_people_import(factory, cipher, path, tmp_path)
    assert result.imported == 1
    assert [line for line, _ in result.rejected] == [3]
    assert "format the column as text" in result.rejected[0][1]


def test_a_file_without_a_required_column_is_refused(
    factory: sessionmaker[Session], cipher: PeopleCipher, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_text("姓名,公民身份号码\n王一,110105199508080778\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="house_code"):
        run_people_import(factory, cipher, path, tmp_path)


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
    path = write_csv(tmp_path / "people.csv", _good_rows(world, 5))
    with path.open("ab") as handle:
        handle.write(tail + b"\r\n")
    before = _stored(db)
    with pytest.raises(InvalidInput, match=reason) as caught:
        run_people_import(factory, cipher, path, tmp_path)
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
        run_people_import(factory, cipher, not_a_workbook, tmp_path)
    with pytest.raises(InvalidInput, match="is not a file"):
        run_people_import(factory, cipher, tmp_path, tmp_path)
    # a missing column used to leave a batch begun and never finished
    headers_only = tmp_path / "people.csv"
    headers_only.write_text("姓名,公民身份号码\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="house_code"):
        run_people_import(factory, cipher, headers_only, tmp_path)
    assert _stored(db) == before


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
        run_people_import(factory, cipher, path, tmp_path)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Residence)) == before


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
    result = run_people_import(factory, cipher, path, tmp_path)
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
    path = write_csv(tmp_path / "people.csv", _good_rows(world, 5))
    with pytest.raises(RuntimeError, match="went away"):
        run_people_import(factory, cipher, path, tmp_path)
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
