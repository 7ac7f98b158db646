"""Reading tabular files (CSV, XLSX, text) the same way for every import: a file that cannot be
read (not UTF-8, a damaged workbook, a field past the CSV limit, a folder) is refused with an
:class:`~gis.errors.InvalidInput` naming the file and the line, never a traceback.

Record numbers count from 1 (the header); they are the file's line numbers unless a quoted
field spans lines. A refusal names the physical line, the one a text editor shows.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> (folder / "gbk.csv").write_bytes("a,b\\n1,2\\n王,3\\n".encode("gbk"))
13
>>> list(csv_records(folder / "gbk.csv"))
Traceback (most recent call last):
...
gis.errors.InvalidInput: FILE: gbk.csv line 3: not UTF-8 text (save the file as UTF-8)
"""

from __future__ import annotations

import csv
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gis.errors import InvalidInput

MAX_FIELD_CHARS = csv.field_size_limit()
"""The CSV module's limit on one field (131,072 characters): a longer field is refused."""

_NOT_UTF8 = "not UTF-8 text (save the file as UTF-8)"


def check_file(path: Path, *, field: str = "FILE") -> None:
    """Refuse a path that does not exist or is not a regular file (a folder, a device)."""
    if not path.exists():
        raise InvalidInput(f"{path} does not exist", field=field)
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file", field=field)


def first_bad_line(path: Path) -> int:
    """The line (from 1) holding the first byte sequence that is not UTF-8; 0 when none."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 0


def read_text(path: Path, *, field: str = "FILE") -> str:
    """The whole file as UTF-8 text (a byte-order mark dropped); refused naming the line of the
    first byte that is not UTF-8."""
    check_file(path, field=field)
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        message = f"{path.name} line {first_bad_line(path)}: {_NOT_UTF8}"
        raise InvalidInput(message, field=field) from None


def csv_records(path: Path, *, field: str = "FILE") -> Iterator[tuple[int, list[str]]]:
    """(record number, values) of a UTF-8 CSV file (with or without a byte-order mark), read
    lazily; the header is record 1. A file that is not UTF-8 or not well-formed CSV is refused
    when the reading reaches the bad line."""
    check_file(path, field=field)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        try:
            yield from enumerate(reader, start=1)
        except UnicodeDecodeError:
            message = f"{path.name} line {first_bad_line(path)}: {_NOT_UTF8}"
            raise InvalidInput(message, field=field) from None
        except csv.Error as error:
            message = f"{path.name} line {reader.line_num}: {csv_error_reason(error)}"
            raise InvalidInput(message, field=field) from None


def csv_error_reason(error: csv.Error) -> str:
    """What a reader's ``csv.Error`` means, in the words of the import messages."""
    if "field larger than field limit" in str(error):
        return f"a field longer than {MAX_FIELD_CHARS:,} characters (a quotation mark left open?)"
    return f"not well-formed CSV ({error})"


def xlsx_records(path: Path, *, field: str = "FILE") -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(row number, cell values) of the first sheet of an XLSX workbook, read lazily; the
    header is row 1. A file that is not a workbook, or a damaged one, is refused."""
    from openpyxl import load_workbook  # local: only xlsx imports need it
    from openpyxl.utils.exceptions import InvalidFileException

    # what openpyxl raises on a damaged file: the zip, its compressed parts, their XML
    damaged = (
        zipfile.BadZipFile, zlib.error, InvalidFileException, KeyError, ValueError, TypeError,
        SyntaxError, EOFError, OSError,
    )  # fmt: skip
    check_file(path, field=field)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except damaged as error:
        message = f"{path.name} is not a readable .xlsx workbook ({error or type(error).__name__})"
        raise InvalidInput(message, field=field) from None
    number = 0
    try:
        if not book.worksheets:
            raise InvalidInput(f"{path.name} has no worksheet", field=field)
        for number, values in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
            yield number, values
    except damaged as error:
        message = (
            f"{path.name} line {number + 1}: the workbook is damaged "
            f"({error or type(error).__name__})"
        )
        raise InvalidInput(message, field=field) from None
    finally:
        book.close()
