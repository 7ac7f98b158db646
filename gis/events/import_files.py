"""Reading an events file (CSV, XLSX or GeoJSON) into rows of text cells by column: the
bilingual column template (documented in ``docs/events.md``) and the file's own CRS, if any.
:mod:`gis.events.import_rows` checks the rows.

Row numbers are the file's line numbers for CSV and XLSX (the header is line 1) and the
feature's position for GeoJSON (from 1).

>>> header_map(["事件类型", "上报时间", "经度"])
{'kind': '事件类型', 'reported_at': '上报时间', 'lon': '经度'}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pyproj.exceptions import CRSError

from gis.crs import SourceCrs, crs_from_file
from gis.errors import InvalidInput
from gis.table_files import check_file, csv_records, read_text, xlsx_records

# column → (English header, Chinese headers)
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "source_id": ("source_id", ("来源编号", "事件编号")),
    "kind": ("kind", ("事件类型", "类型")),
    "title": ("title", ("标题", "事件标题")),
    "description": ("description", ("描述", "事件描述", "说明")),
    "lon": ("lon", ("经度",)),
    "lat": ("lat", ("纬度",)),
    "building_code": ("building_code", ("楼栋编码",)),
    "house_code": ("house_code", ("房屋编码",)),
    "reported_at": ("reported_at", ("上报时间",)),
    "reporter": ("reporter", ("上报人",)),
}
REQUIRED = ("kind", "reported_at")


@dataclass(frozen=True)
class RawRow:
    """A row as read: its number, its cells by column, and a GeoJSON geometry if any."""

    number: int
    cells: dict[str, str]
    geometry: Any = None
    has_geometry_key: bool = False


def label(column: str) -> str:
    """``kind (事件类型)``: how messages name a column."""
    english, chinese = COLUMNS[column]
    return f"{english} ({chinese[0]})"


def header_map(headers: list[str]) -> dict[str, str]:
    """Which file header holds which column; refused when a required one is missing."""
    found: dict[str, str] = {}
    for header in headers:
        key = (header or "").strip()
        for column, (english, chinese) in COLUMNS.items():
            if key.lower() == english or key in chinese:
                found.setdefault(column, header)
    missing = [label(c) for c in REQUIRED if c not in found]
    if missing:
        raise InvalidInput(f"the file lacks the column(s) {', '.join(missing)}", field="FILE")
    return found


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value).strip()


@dataclass(frozen=True)
class EventFile:
    """An events file as read: its own CRS (GeoJSON only), the columns it has, its rows."""

    crs: SourceCrs | None
    columns: frozenset[str]
    rows: list[RawRow]


def _read_csv(path: Path) -> EventFile:
    records = csv_records(path)
    _, headers = next(records, (1, []))
    mapping = header_map(headers)
    rows = [
        RawRow(line, {c: _cell(dict(zip(headers, values, strict=False)).get(h))
                      for c, h in mapping.items()})
        for line, values in records
        if any(v.strip() for v in values)
    ]  # fmt: skip
    return EventFile(None, frozenset(mapping), rows)


def _read_xlsx(path: Path) -> EventFile:
    sheet_rows = xlsx_records(path)
    _, first = next(sheet_rows, (1, ()))
    headers = [_cell(v) for v in first]
    mapping = header_map(headers)
    index = {c: headers.index(h) for c, h in mapping.items()}
    rows = []
    for line, values in sheet_rows:
        cells = [_cell(v) for v in values]
        if any(cells):
            rows.append(
                RawRow(line, {c: cells[i] if i < len(cells) else "" for c, i in index.items()})
            )
    return EventFile(None, frozenset(mapping), rows)


def geojson_crs(data: dict[str, Any]) -> SourceCrs:
    """The CRS a GeoJSON file declares in a (pre-RFC 7946) ``crs`` member, else WGS 84, the
    only CRS RFC 7946 allows."""
    member = data.get("crs")
    if member is None:
        return SourceCrs(epsg=4326)
    name = member.get("properties", {}).get("name") if isinstance(member, dict) else None
    if not isinstance(name, str):
        raise InvalidInput("the crs member names no CRS; name it with --crs", field="crs")
    if name.upper().endswith("CRS84"):
        return SourceCrs(epsg=4326)
    try:
        parsed = crs_from_file(name)
    except CRSError:
        raise InvalidInput(f"unknown CRS {name!r}; name it with --crs", field="crs") from None
    assert parsed is not None
    return parsed


def _read_geojson(path: Path) -> EventFile:
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as error:
        message = f"not JSON: {error.msg} at line {error.lineno}"
        raise InvalidInput(message, field="FILE") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise InvalidInput("a GeoJSON events file is a FeatureCollection", field="FILE")
    features = data.get("features")
    if not isinstance(features, list):
        raise InvalidInput("the FeatureCollection has no features list", field="FILE")
    if not features:
        raise InvalidInput("the FeatureCollection holds no events (no features)", field="FILE")
    keys = {
        str(key)
        for feature in features
        if isinstance(feature, dict) and isinstance(feature.get("properties"), dict)
        for key in feature["properties"]
    }
    mapping = header_map(sorted(keys))
    rows: list[RawRow] = []
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            rows.append(RawRow(number, {"_error": "not a GeoJSON Feature"}))
            continue
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            rows.append(RawRow(number, {"_error": "properties is not an object"}))
            continue
        cells = {c: _cell(properties.get(h)) for c, h in mapping.items()}
        rows.append(RawRow(number, cells, feature.get("geometry"), "geometry" in feature))
    return EventFile(geojson_crs(data), frozenset(mapping), rows)


def read_event_file(path: Path) -> EventFile:
    """An events file: ``.csv`` (UTF-8), ``.xlsx`` (the first sheet) or ``.geojson``/``.json``
    (a FeatureCollection). A file that cannot be read is refused with the reason."""
    check_file(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix == ".xlsx":
        return _read_xlsx(path)
    if suffix in (".geojson", ".json"):
        return _read_geojson(path)
    raise InvalidInput("events files are .csv, .xlsx or .geojson", field="FILE")
