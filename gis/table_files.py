"""Reading tabular files (CSV, XLSX, text) the same way for every import: a file that cannot be
read (not UTF-8, a damaged workbook, a field past the CSV limit, a folder) is refused with an
:class:`~gis.errors.InvalidInput` naming the file and the line, never a traceback.

Rows are numbered by the physical line they start on, the one a text editor shows (the header
is line 1): a quoted field that spans lines (an address on two lines) does not shift the numbers
of the rows after it. A workbook's rows are its row numbers. A refusal names the line too.

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
from collections.abc import Iterable, Iterator
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
    """(line, values) of a UTF-8 CSV file (with or without a byte-order mark), read lazily, as
    :func:`numbered_records` numbers them. A file that is not UTF-8 or not well-formed CSV is
    refused when the reading reaches the bad line.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "two.csv").write_text('name,address\\nA,"1 Road\\nFlat 2"\\nB,x\\n')
    >>> [line for line, _ in csv_records(folder / "two.csv")]
    [1, 2, 4]
    """
    check_file(path, field=field)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        try:
            yield from numbered_records(handle)
        except UnicodeDecodeError:
            message = f"{path.name} line {first_bad_line(path)}: {_NOT_UTF8}"
            raise InvalidInput(message, field=field) from None
        except MalformedCsv as error:
            raise InvalidInput(f"{path.name} {error}", field=field) from None


class MalformedCsv(Exception):
    """A record that is not well-formed CSV: ``line N: the reason``."""


_OPEN_QUOTE = "unexpected end of data"
"""What a strict reader says of a quotation mark never closed (the rest of the file, swallowed
into one field by a lenient reader, rows lost without a word)."""


def numbered_records(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """(line, values) of CSV text, read strictly (a quotation mark never closed is an error):
    ``line`` is the physical line the record starts on (the header's is 1), not its count of
    records, which falls behind the editor's lines after a quoted field holding a line break;
    a blank line is a record of no values. A malformed record raises :class:`MalformedCsv`
    naming its line: where the record began for a quotation mark never closed (the reader
    stopped at the end of the text), else the line the reader reached."""
    reader = csv.reader(lines, strict=True)
    ended = 0  # the last physical line of the previous record
    try:
        for values in reader:
            yield ended + 1, values
            ended = reader.line_num
    except csv.Error as error:
        line = ended + 1 if _OPEN_QUOTE in str(error) else reader.line_num
        raise MalformedCsv(f"line {line}: {csv_error_reason(error)}") from None


def csv_error_reason(error: csv.Error) -> str:
    """What a reader's ``csv.Error`` means, in the words of the import messages."""
    if "field larger than field limit" in str(error):
        return f"a field longer than {MAX_FIELD_CHARS:,} characters (a quotation mark left open?)"
    if _OPEN_QUOTE in str(error):
        return "a quotation mark opened in this row is never closed"
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
    formulas = None
    try:
        if not book.worksheets:
            raise InvalidInput(f"{path.name} has no worksheet", field=field)
        if _has_formulas(path):  # their saved values are read; a formula never computed has none
            formulas = load_workbook(path, read_only=True, data_only=False)
            written = formulas.worksheets[0].iter_rows(values_only=True)
        for number, values in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
            if formulas is not None:
                _refuse_unsaved_formula(path.name, number, values, next(written, ()), field)
            yield number, values
    except damaged as error:
        message = (
            f"{path.name} line {number + 1}: the workbook is damaged "
            f"({error or type(error).__name__})"
        )
        raise InvalidInput(message, field=field) from None
    finally:
        book.close()
        if formulas is not None:
            formulas.close()


def _has_formulas(path: Path) -> bool:
    """Whether any worksheet of the workbook holds a formula (an ``<f>`` element)."""
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                with archive.open(name) as part:
                    tail = b""
                    while chunk := part.read(1 << 20):
                        joined = tail + chunk  # an element split between two reads
                        if b"<f>" in joined or b"<f " in joined:
                            return True
                        tail = chunk[-2:]
    return False


def _refuse_unsaved_formula(
    name: str, number: int, values: tuple[Any, ...], written: tuple[Any, ...], field: str
) -> None:
    """A formula whose value was never saved (the workbook was written by a program that does
    not compute them) reads as an empty cell: refused rather than imported as empty."""
    for column, (value, formula) in enumerate(zip(values, written, strict=False), start=1):
        if value is None and isinstance(formula, str) and formula.startswith("="):
            raise InvalidInput(
                f"{name} line {number}, column {column}: the formula {formula[:40]} has no saved "
                "value (open the workbook in a spreadsheet program and save it, or paste values)",
                field=field,
            )
