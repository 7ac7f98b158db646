"""Use cases of houses: import a house list from CSV; estimate houses where no list exists."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from gis.codes import MAX_UNIT, format_codes, group_code, parse_code
from gis.errors import InvalidInput
from gis.houses import queries
from gis.houses.models import HouseUse
from gis.table_files import csv_records, xlsx_records
from gis.text import DECIMAL, INTEGER, has_control_characters

# Column names accepted in a house list, English and Chinese.
COLUMNS = {
    "building_code": ("building_code", "楼栋编码"),
    "floor": ("floor", "楼层"),
    "room": ("room", "房号"),
    "use": ("use", "用途"),
    "area_m2": ("area_m2", "面积"),
    "is_rented": ("is_rented", "出租"),
}
YES = frozenset({"是", "出租", "yes", "y", "true", "1"})
NO = frozenset({"否", "自住", "no", "n", "false", "0", ""})
USE_NAMES = {
    "住宅": HouseUse.RESIDENTIAL,
    "商业": HouseUse.COMMERCIAL,
    "商住": HouseUse.MIXED,
    "宿舍": HouseUse.DORM,
    "办公": HouseUse.OFFICE,
    "其他": HouseUse.OTHER,
}
METRES_PER_FLOOR = 3.0


@dataclass
class HouseImportResult:
    read: int = 0
    imported: int = 0
    already_there: int = 0
    rented_changed: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    raw: dict[int, list[str]] = field(default_factory=dict)
    """The cells of each rejected line, for the rejects file."""


def _records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line, cells as text) of a CSV or XLSX list; the header is line 1. Any other kind of
    file (.xls, .ods) is refused by name: read as CSV it failed as "not UTF-8 text"."""
    if path.is_file() and path.suffix.lower() not in (".csv", ".xlsx"):
        raise InvalidInput(f"house lists are .csv or .xlsx, not {path.name}", field="FILE")
    if path.suffix.lower() == ".xlsx":
        for line, values in xlsx_records(path):
            yield line, ["" if value is None else str(value) for value in values]
    else:
        yield from csv_records(path)  # a file that cannot be read is refused naming the line


def _column(row: dict[str, str], name: str) -> str:
    for key in COLUMNS[name]:
        if key in row and row[key] is not None:
            return row[key].strip()
    return ""


def parse_house_row(row: dict[str, str]) -> dict[str, Any]:
    """One CSV row → validated values; InvalidInput names the column at fault."""
    building_code = parse_code(_column(row, "building_code"), field="building_code")
    if not building_code.is_building:
        raise InvalidInput("a building code ends in unit 00000", field="building_code")
    floor_text = _column(row, "floor")
    if floor_text and not INTEGER.fullmatch(floor_text):  # int() also reads 1_0 as 10
        raise InvalidInput(f"{floor_text[:40]!r} is not a whole number", field="floor")
    floor = int(floor_text) if floor_text else None
    if floor is not None and not -10 <= floor <= 300:
        raise InvalidInput("floor must be between -10 and 300", field="floor")
    room = _column(row, "room")
    if len(room) > 20:
        raise InvalidInput("room is at most 20 characters", field="room")
    if has_control_characters(room):
        raise InvalidInput(
            "room may not contain control characters or direction overrides", field="room"
        )
    use_text = _column(row, "use") or "residential"
    use = USE_NAMES.get(use_text) or next((u for u in HouseUse if u.value == use_text), None)
    if use is None:
        allowed = ", ".join(u.value for u in HouseUse)
        raise InvalidInput(f"{use_text!r} is not a use ({allowed})", field="use")
    area_text = _column(row, "area_m2")
    if area_text and not DECIMAL.fullmatch(area_text):  # float() also reads 1_000, inf, nan
        raise InvalidInput(f"{area_text[:40]!r} is not a number", field="area_m2")
    area = float(area_text) if area_text else None
    if area is not None and not (math.isfinite(area) and 0 < area < 100_000):
        raise InvalidInput("area must be above 0 and below 100,000 m²", field="area_m2")
    rented_text = _column(row, "is_rented").lower()
    if rented_text not in YES | NO:
        raise InvalidInput(f"{rented_text!r} is not 是/否 (yes/no)", field="is_rented")
    return {
        "building_code": building_code.code,
        "floor": floor,
        "room": room or None,
        "use": use,
        "area_m2": area,
        "is_rented": rented_text in YES,
    }


def import_houses(session: Session, *, path: Path) -> HouseImportResult:
    """Add the houses of a CSV list; bad rows are reported with their reason, good rows kept.

    Unit numbers continue each building's sequence (00001 for its first house).
    """
    result = HouseImportResult()
    parsed: list[tuple[int, dict[str, Any]]] = []
    records = _records(path)
    _, headers = next(records, (1, []))
    headers = [header.strip() for header in headers]
    result.headers = headers
    if not set(COLUMNS["building_code"]) & set(headers):
        raise InvalidInput(
            f"{path.name} has no building_code (楼栋编码) column; its header is "
            f"{', '.join(headers) or 'empty'}",
            field="FILE",
        )
    for names in COLUMNS.values():
        given = [header for header in headers if header in names]
        if len(given) > 1:  # which one holds the value is not for the import to guess
            raise InvalidInput(
                f"the column {names[0]} ({names[1]}) is given {len(given)} times "
                f"({', '.join(given)}): keep one",
                field="FILE",
            )
    cells_of: dict[int, list[str]] = {}
    for line, cells in records:
        if not any(cell.strip() for cell in cells):
            continue
        result.read += 1
        cells_of[line] = cells
        try:
            parsed.append((line, parse_house_row(dict(zip(headers, cells, strict=False)))))
        except InvalidInput as error:
            result.rejected.append((line, str(error)))
    buildings = queries.select_live_buildings(
        session, codes=sorted({values["building_code"] for _, values in parsed})
    )
    uids = [b.uid for b in buildings.values()]
    last_units = queries.select_last_units(session, building_uids=uids)
    # a house with a room number is its building, floor and room: listed again (a second run,
    # or twice in the file), it is not a second house
    stored = queries.select_named_units(session, building_uids=uids)
    in_file: dict[tuple[Any, ...], int] = {}
    has_rented_column = bool(set(COLUMNS["is_rented"]) & set(headers))
    let: list[Any] = []
    not_let: list[Any] = []
    rows = []
    for line, values in parsed:
        building = buildings.get(values["building_code"])
        if building is None:
            result.rejected.append((line, "building_code: no live building has this code"))
            continue
        if values["room"] is not None:
            key = (building.uid, values["floor"], values["room"])
            # twice in the file is refused whether the house is new or stored (the second
            # line's let or not let would otherwise win over the first's)
            if key in in_file:
                result.rejected.append((line, f"room: the same house as line {in_file[key]}"))
                continue
            in_file[key] = line
            if key in stored:
                result.already_there += 1
                house_uid, was_rented = stored[key]
                if has_rented_column and was_rented != values["is_rented"]:
                    (let if values["is_rented"] else not_let).append(house_uid)
                continue
        unit = last_units.get(building.uid, 0) + 1
        if unit > MAX_UNIT:
            reason = f"building_code: {group_code(building.code)} has no unit number left"
            result.rejected.append((line, f"{reason} ({MAX_UNIT} is the last)"))
            continue
        last_units[building.uid] = unit
        rows.append((building, unit, values))
    codes = format_codes(
        community_codes=np.array([b.community_code for b, _, _ in rows], dtype="U12"),
        structure_classes=np.array([b.structure_class for b, _, _ in rows], dtype=np.int64),
        seqs=np.array([b.seq for b, _, _ in rows], dtype=np.int64),
        units=np.array([unit for _, unit, _ in rows], dtype=np.int64),
    )
    result.imported = queries.copy_houses(
        session,
        (
            (
                str(code),
                b.uid,
                b.district_code,
                unit,
                v["floor"],
                v["room"],
                v["use"].value,
                v["area_m2"],
                None,
                v["is_rented"],
                False,
            )
            for code, (b, unit, v) in zip(codes, rows, strict=True)
        ),
    )
    # a house listed again with 出租 changed: a list is how houses are marked let (or no longer)
    queries.set_rented(session, house_uids=let, is_rented=True)
    queries.set_rented(session, house_uids=not_let, is_rented=False)
    result.rented_changed = len(let) + len(not_let)
    result.rejected.sort()
    result.raw = {line: cells_of.get(line, []) for line, _ in result.rejected}
    session.flush()
    return result


def estimate_layout(footprint_m2: float, floors: int) -> tuple[HouseUse, float, bool]:
    """Use, unit size (m²) and rented flag of a building without a house list.

    Small low buildings are urban-village rental blocks (握手楼: many ~25 m² rooms); very tall or
    very large ones are offices and malls (no homes); the rest are estates of ~90 m² flats.
    """
    if footprint_m2 < 400 and floors <= 9:
        return HouseUse.RESIDENTIAL, 25.0, True
    if floors >= 40:
        return HouseUse.OFFICE, 500.0, False
    if footprint_m2 > 3000:
        return HouseUse.COMMERCIAL, 400.0, False
    return HouseUse.RESIDENTIAL, 90.0, False


def estimate_houses(session: Session, *, communities: list[str]) -> int:
    """Give every live building without houses an estimated house list, marked as estimated:
    floors from the height, units from the floor area and the use."""
    buildings = queries.select_buildings_without_houses(session, communities=communities)
    rows: list[tuple[Any, ...]] = []
    uses = {}
    for building in buildings:
        floors = building["floors"] or max(
            1, round((building["height_m"] or 9.0) / METRES_PER_FLOOR)
        )
        use, unit_m2, rented = estimate_layout(building["footprint_m2"], floors)
        uses[building["uid"]] = use.value
        total = min(99_999, max(1, int(building["footprint_m2"] * 0.8 * floors // unit_m2)))
        per_floor = math.ceil(total / floors)
        parsed = parse_code(building["code"])
        codes = format_codes(
            community_codes=np.full(total, parsed.community_code, dtype="U12"),
            structure_classes=parsed.structure_class,
            seqs=np.full(total, parsed.seq, dtype=np.int64),
            units=np.arange(1, total + 1, dtype=np.int64),
        )
        for index, code in enumerate(codes.tolist()):
            floor = index // per_floor + 1
            room = f"{floor}{index % per_floor + 1:02d}"
            rows.append(
                (
                    code,
                    building["uid"],
                    parsed.community_code[:6],
                    index + 1,
                    floor,
                    room,
                    use.value,
                    unit_m2,
                    None,
                    rented,
                    True,
                )
            )
    queries.set_building_use(session, uses=uses)
    count = queries.copy_houses(session, rows)
    session.flush()
    return count
