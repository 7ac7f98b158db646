"""Reading and checking a people file (CSV or XLSX): the bilingual column template and one row
at a time. The template is documented in ``docs/people-import.md``."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gis.codes import parse_code
from gis.errors import InvalidInput
from gis.people.models import DeclaredBy, PersonCategory, ResidenceKind
from gis.people.periods import checked_date, checked_past_date
from gis.people.registry import ValidPerson, validate_person
from gis.people.schemas import PersonInput
from gis.table_files import check_file, csv_records, xlsx_records

# column → (English header, Chinese header, required)
COLUMNS: dict[str, tuple[str, str, bool]] = {
    "name": ("name", "姓名", True),
    "id_number": ("id_number", "公民身份号码", True),
    "phone": ("phone", "联系电话", False),
    "sex": ("sex", "性别", False),
    "birth_date": ("birth_date", "出生日期", False),
    "category": ("category", "人员类别", False),
    "hukou_division_code": ("hukou_division_code", "户籍地区划代码", False),
    "hukou_address": ("hukou_address", "户籍地址", False),
    "house_code": ("house_code", "房屋编码", True),
    "moved_in": ("moved_in", "入住日期", True),
    "moved_out": ("moved_out", "离开日期", False),
    "deregistered_on": ("deregistered_on", "注销日期", False),
    "kind": ("kind", "居住类型", False),
    "declared_by": ("declared_by", "申报人", False),
    "declared_on": ("declared_on", "申报日期", False),
    "occupation": ("occupation", "职业", False),
    "education": ("education", "文化程度", False),
    "is_key_person": ("is_key_person", "重点人员", False),
}
SEX_NAMES = {"男": "M", "女": "F", "m": "M", "f": "F", "male": "M", "female": "F"}
CATEGORY_NAMES = {"户籍": "hukou", "户籍人口": "hukou", "流动": "floating", "流动人口": "floating",
                  "境外": "overseas", "境外人员": "overseas"}  # fmt: skip
KIND_NAMES = {"自有": "owner", "业主": "owner", "家庭成员": "family", "租住": "tenant",
              "租户": "tenant", "宿舍": "dormitory", "临时": "temporary"}  # fmt: skip
DECLARER_NAMES = {"本人": "self", "房东": "landlord", "业主": "landlord", "单位": "employer",
                  "网格员": "officer"}  # fmt: skip
YES = {"是", "y", "yes", "true", "1"}
NO = {"否", "n", "no", "false", "0", ""}
NUMERIC = "number:"
"""Marks an ID number that a spreadsheet stored as a number: past 15 digits it is rounded."""
_DATES = (
    re.compile(r"(\d{4})(\d{2})(\d{2})"),  # 20260503: exactly eight digits
    re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})"),  # 2026-05-03, 2026/5/3: one separator
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
)
"""The ways a date is written in a ledger. ``202511`` or ``2025123`` match none (is it a month,
or which digit is the month's?): refused, not read as 2025-01-01 or 2025-12-03."""


@dataclass(frozen=True)
class PeopleRow:
    """One checked row: who, where, from when to when, declared by whom."""

    line: int
    person: ValidPerson
    house_code: str
    moved_in: date
    moved_out: date | None
    deregistered_on: date | None
    kind: ResidenceKind | None
    declared_by: DeclaredBy
    declared_on: date | None


def label(column: str) -> str:
    english, chinese, _ = COLUMNS[column]
    return f"{english} ({chinese})"


def header_map(headers: list[str]) -> dict[str, str]:
    """Which file header holds which column; InvalidInput naming a missing required one, or a
    column given twice (``姓名`` twice, or ``name`` and ``姓名``: which one holds the name is
    not for the import to guess; a CSV read the last, a workbook the first)."""
    found: dict[str, str] = {}
    for header in headers:
        key = (header or "").strip()
        for column, (english, chinese, _) in COLUMNS.items():
            if key.lower() == english or key == chinese:
                if column in found:
                    raise InvalidInput(
                        f"the column {label(column)} is given twice ({found[column].strip()!r} "
                        f"and {key!r}): keep one",
                        field="FILE",
                    )
                found[column] = header
    missing = [label(c) for c, (_, _, required) in COLUMNS.items() if required and c not in found]
    if missing:
        raise InvalidInput(f"the file lacks the column(s) {', '.join(missing)}", field="FILE")
    return found


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) of a CSV (UTF-8, with or without BOM) or XLSX (first sheet) file.

    The whole file is read once before the rows are handed out, so that a file that cannot be
    read (not UTF-8, a damaged workbook, a field past the CSV limit, a missing column) is refused
    before anything is stored; the rows are then read again lazily (a file of millions of rows
    is never held in memory).
    """
    suffix = path.suffix.lower()
    check_file(path)
    if suffix not in (".csv", ".xlsx"):
        raise InvalidInput("people files are .csv or .xlsx", field="FILE")
    deque(_rows(path, is_xlsx=suffix == ".xlsx"), maxlen=0)
    return _rows(path, is_xlsx=suffix == ".xlsx")


def _rows(path: Path, *, is_xlsx: bool) -> Iterator[tuple[int, dict[str, str]]]:
    if not is_xlsx:
        records = csv_records(path)
        _, headers = next(records, (1, []))
        mapping = header_map(headers)
        for line, values in records:
            if not any(v.strip() for v in values):
                continue
            row = dict(zip(headers, values, strict=False))
            yield line, {c: _cell(row.get(h)) for c, h in mapping.items()}
        return
    sheet = xlsx_records(path)
    _, first = next(sheet, (1, ()))
    cell_headers = [_cell(v) for v in first]
    mapping = header_map(cell_headers)
    index = {c: cell_headers.index(h) for c, h in mapping.items()}
    id_column = index["id_number"]
    for line, cell_values in sheet:
        cells = [_cell(v) for v in cell_values]
        if not any(cells):
            continue
        row = {c: cells[i] if i < len(cells) else "" for c, i in index.items()}
        if id_column < len(cell_values) and isinstance(cell_values[id_column], int | float):
            row["id_number"] = NUMERIC + row["id_number"]
        yield line, row


def parse_date(text: str, *, column: str) -> date | None:
    """``2026-05-03``, ``2026/5/3``, ``20260503`` or ``2026年5月3日``; empty → None."""
    if not text:
        return None
    matches = (pattern.fullmatch(text.strip()) for pattern in _DATES)
    match = next((found for found in matches if found is not None), None)
    if match is None:
        raise InvalidInput(
            f"{text!r} is not a date (2026-05-03, 2026/5/3, 20260503 or 2026年5月3日)",
            field=label(column),
        )
    year, month, day = (int(part) for part in match.groups() if part.isdigit())
    try:
        value = date(year, month, day)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a real date", field=label(column)) from None
    return checked_date(value, field=label(column))


def _choice(text: str, names: dict[str, str], allowed: list[str], column: str) -> str | None:
    if not text:
        return None
    value = names.get(text) or names.get(text.lower()) or text.lower()
    if value not in allowed:
        raise InvalidInput(
            f"{text!r} is not one of {', '.join(allowed)} ({', '.join(names)})", field=label(column)
        )
    return value


def parse_row(line: int, row: dict[str, str], *, today: date) -> PeopleRow:
    """Check every value of a row; InvalidInput names the column and the reason."""
    for column, value in row.items():
        if column in COLUMNS and value and ("\n" in value or "\r" in value):
            raise InvalidInput(
                "the cell runs over several lines: a quotation mark left open takes in the "
                "lines after it (check this row and the next ones in the file)",
                field=label(column),
            )
    category = _choice(
        row.get("category", ""), CATEGORY_NAMES, [c.value for c in PersonCategory], "category"
    )
    sex = _choice(row.get("sex", ""), SEX_NAMES, ["M", "F"], "sex")
    key_text = row.get("is_key_person", "").strip().lower()
    if key_text not in YES | NO:
        raise InvalidInput(f"{key_text!r} is not 是/否 (yes/no)", field=label("is_key_person"))
    try:
        person_input = PersonInput(
            name=row.get("name", "") or "?",
            id_number=row.get("id_number", "") or "?",
            phone=row.get("phone") or None,
            category=PersonCategory(category) if category else None,
            sex="M"
            if sex == "M" and category == "overseas"
            else ("F" if sex == "F" and category == "overseas" else None),
            birth_date=parse_date(row.get("birth_date", ""), column="birth_date"),
            hukou_division_code=row.get("hukou_division_code") or None,
            hukou_address=row.get("hukou_address") or None,
            occupation=row.get("occupation") or None,
            education=row.get("education") or None,
            is_key_person=key_text in YES,
        )
    except ValidationError as error:
        first = error.errors()[0]
        column = str(first["loc"][0]) if first["loc"] else "name"
        message = first["msg"].removeprefix("Value error, ")  # a text type's own reason
        raise InvalidInput(message, field=label(column) if column in COLUMNS else column) from None
    if not row.get("name"):
        raise InvalidInput("a name is required", field=label("name"))
    if not row.get("id_number"):
        raise InvalidInput("an ID number is required", field=label("id_number"))
    if row["id_number"].startswith(NUMERIC):
        raise InvalidInput(
            "the cell holds a number, which the spreadsheet rounded to 15 digits: "
            "format the column as text and type the number again",
            field=label("id_number"),
        )
    try:
        person = validate_person(person_input, today=today, prefix="")
    except InvalidInput as error:
        column = error.field if error.field in COLUMNS else "name"
        raise InvalidInput(error.message, field=label(column)) from None
    if sex is not None and category != "overseas" and sex != person.sex:
        raise InvalidInput(f"the ID number says {person.sex}", field=label("sex"))
    moved_in = parse_date(row.get("moved_in", ""), column="moved_in")
    if moved_in is None:
        raise InvalidInput("the move-in date is required", field=label("moved_in"))
    checked_past_date(moved_in, today=today, field=label("moved_in"), what="a move-in date")
    if person.birth_date and moved_in < person.birth_date:
        raise InvalidInput("a move-in date before the birth date", field=label("moved_in"))
    moved_out = parse_date(row.get("moved_out", ""), column="moved_out")
    if moved_out is not None and moved_out <= moved_in:
        raise InvalidInput("the departure is not after the move-in date", field=label("moved_out"))
    deregistered = parse_date(row.get("deregistered_on", ""), column="deregistered_on")
    if deregistered is not None:
        if moved_out is None:
            raise InvalidInput(
                "a deregistration without a departure date", field=label("deregistered_on")
            )
        checked_past_date(deregistered, today=today, field=label("deregistered_on"),
                          what="a deregistration", since=("departure", moved_out))  # fmt: skip
    declared_on = parse_date(row.get("declared_on", ""), column="declared_on")
    if declared_on is not None:
        checked_past_date(declared_on, today=today, field=label("declared_on"),
                          what="a declaration", since=("move-in date", moved_in))  # fmt: skip
    kind = _choice(row.get("kind", ""), KIND_NAMES, [k.value for k in ResidenceKind], "kind")
    declarer = _choice(
        row.get("declared_by", ""), DECLARER_NAMES, [d.value for d in DeclaredBy], "declared_by"
    )
    try:
        house_code = parse_code(row.get("house_code", ""), field=label("house_code")).code
    except InvalidInput as error:
        raise InvalidInput(error.message, field=label("house_code")) from None
    return PeopleRow(
        line=line,
        person=person,
        house_code=house_code,
        moved_in=moved_in,
        moved_out=moved_out,
        deregistered_on=deregistered,
        kind=ResidenceKind(kind) if kind else None,
        declared_by=DeclaredBy(declarer) if declarer else DeclaredBy.SELF,
        declared_on=declared_on,
    )
