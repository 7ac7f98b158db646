"""Reading CSV, XLSX and text files for imports: an unreadable file is one InvalidInput naming
the file and the line, never a traceback."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest
from openpyxl import Workbook

import gis.table_files
from gis.errors import InvalidInput
from gis.table_files import csv_records, read_text, xlsx_records


def test_a_good_csv_is_read_lazily_with_the_line_each_record_starts_on(tmp_path: Path) -> None:
    """The record after a field holding a line break starts on line 4, as an editor shows it
    (it was numbered 3, its count of records); a blank line is a record of no values."""
    path = tmp_path / "ok.csv"
    path.write_bytes(
        '\ufeffa,b\r\n1,"two\nlines"\r\n王,3\r\n\r\n"x\r\ny\r\nz",4\r\n5,6\r\n'.encode()
    )
    assert list(csv_records(path)) == [
        (1, ["a", "b"]),
        (2, ["1", "two\nlines"]),
        (4, ["王", "3"]),
        (5, []),
        (6, ["x\r\ny\r\nz", "4"]),
        (9, ["5", "6"]),
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("a,b\n1,2\n王,3\n".encode("gbk"), "bad.csv line 3: not UTF-8 text"),
        (b"a,b\n" + b"1,2\n" * 1000 + b"\xe4\xb8,3\n", "bad.csv line 1002: not UTF-8 text"),
        (f'a,b\n1,2\n"{"x" * 140_000}",3\n'.encode(), "bad.csv line 3: a field longer than"),
        (b'a,b\n1,"2\n3,4\n' + b"x" * 140_000, "a quotation mark left open"),
        # a short file: the rows after the open quotation mark were read into its field, and
        # lost without a word
        (b'a,b\n1,2\n3,"4\n5,6\n7,8\n', "bad.csv line 3: a quotation mark opened in this row is"),
        (b'a,b\n1,"2"x\n', r"bad.csv line 2: not well-formed CSV \(',' expected after"),
    ],
    ids=[
        "gbk",
        "one-bad-byte-deep",
        "over-long-field",
        "open-quote",
        "open-quote-short",
        "text-after-quote",
    ],
)
def test_an_unreadable_csv_names_the_file_and_the_line(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=reason) as caught:
        list(csv_records(path))
    assert caught.value.field == "FILE"


def test_text_names_the_line_of_the_first_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "exchange.json"
    path.write_bytes('{\n"name": "王"\n}'.encode("gbk"))
    with pytest.raises(InvalidInput, match=r"exchange\.json line 2: not UTF-8") as caught:
        read_text(path, field="file")
    assert caught.value.field == "file"
    with pytest.raises(InvalidInput, match="does not exist"):
        read_text(tmp_path / "missing.json")
    with pytest.raises(InvalidInput, match="is not a file"):
        read_text(tmp_path)


def test_a_damaged_workbook_is_refused(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["a", "b"])
    sheet.append([1, 2])
    good = tmp_path / "good.xlsx"
    book.save(good)
    assert list(xlsx_records(good)) == [(1, ("a", "b")), (2, (1, 2))]
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    legacy = tmp_path / "legacy.xlsx"
    legacy.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)  # an .xls renamed
    for path in (cut, legacy):
        with pytest.raises(InvalidInput, match=f"{path.name} is not a readable .xlsx workbook"):
            list(xlsx_records(path))


def test_doctests() -> None:
    failures, _ = doctest.testmod(gis.table_files, raise_on_error=False)
    assert failures == 0
